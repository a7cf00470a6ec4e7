"""The tool's RSA key set: generate, rotate (next -> current -> retired), publish as JWKS.

A key is published as "next" before it signs anything, so platforms that cache our JWKS already know it
when it becomes "current"; a retired key stays published until tokens it signed have expired.
Decrypted private keys are kept per process: loading a key costs tens of milliseconds.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.crypto_box import SecretBox, jwk_thumbprint
from lti_microcred.core.db import utcnow
from lti_microcred.lti.models import ToolKey

KEY_SIZE = 2048
SIGNING_ALG = "RS256"


class NoSigningKey(Exception):
    """The tool has no current key: run `microcred init` (or `microcred keys rotate`)."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    def sign(self, payload: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        header = {"kid": self.kid, **(headers or {})}
        return jwt.encode(payload, self.private_key, algorithm=SIGNING_ALG, headers=header)


def _public_jwk(private_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    jwk["kid"] = jwk_thumbprint(jwk)
    jwk.update(alg=SIGNING_ALG, use="sig")
    return jwk


def new_tool_key(box: SecretBox, status: str) -> ToolKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    jwk = _public_jwk(private_key)
    now = utcnow()
    return ToolKey(
        kid=jwk["kid"],
        status=status,
        public_jwk=json.dumps(jwk),
        private_key_enc=box.seal(der, context=jwk["kid"].encode()),
        created_dt=now,
        activated_dt=now if status == "current" else None,
    )


def ensure_keys(session: Session, box: SecretBox) -> list[ToolKey]:
    """Make sure there is a current and a next key; returns the keys created."""
    statuses = set(session.scalars(select(ToolKey.status)).all())
    created = [new_tool_key(box, status) for status in ("current", "next") if status not in statuses]
    session.add_all(created)
    session.flush()
    return created


def rotate_keys(session: Session, box: SecretBox) -> tuple[ToolKey, ToolKey | None]:
    """next becomes current, current becomes retired, a fresh next is published. Returns (current, retired)."""
    keys = {k.status: k for k in session.scalars(select(ToolKey).where(ToolKey.status.in_(("current", "next"))))}
    now = utcnow()
    retired = keys.get("current")
    if retired is not None:
        retired.status, retired.retired_dt = "retired", now
    promoted = keys.get("next") or new_tool_key(box, "next")
    promoted.status, promoted.activated_dt = "current", now
    session.add(promoted)
    session.add(new_tool_key(box, "next"))
    session.flush()
    return promoted, retired


def published_keys(session: Session, retired_publish_seconds: int) -> list[ToolKey]:
    cutoff = utcnow() - dt.timedelta(seconds=retired_publish_seconds)
    keys = session.scalars(select(ToolKey).order_by(ToolKey.id)).all()
    return [k for k in keys if k.status != "retired" or (k.retired_dt and k.retired_dt > cutoff)]


class ToolKeyRing:
    """Per-process view of the key set: the current signing key and the JWKS, refreshed every few seconds."""

    def __init__(self, sessions: sessionmaker[Session], box: SecretBox, retired_publish_seconds: int,
                 refresh_seconds: float = 10.0) -> None:
        self._sessions = sessions
        self._box = box
        self._retired_publish_seconds = retired_publish_seconds
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._loaded_at = -1e9
        self._jwks: dict[str, Any] = {"keys": []}
        self._current: SigningKey | None = None
        self._private: dict[str, rsa.RSAPrivateKey] = {}

    def invalidate(self) -> None:
        self._loaded_at = -1e9

    def jwks(self) -> dict[str, Any]:
        self._refresh()
        return self._jwks

    def signing_key(self) -> SigningKey:
        self._refresh()
        if self._current is None:
            raise NoSigningKey("the tool has no current signing key: run `microcred init`")
        return self._current

    def _refresh(self) -> None:
        if time.monotonic() - self._loaded_at < self._refresh_seconds:
            return
        with self._lock:
            if time.monotonic() - self._loaded_at < self._refresh_seconds:
                return
            with self._sessions() as session:
                keys = published_keys(session, self._retired_publish_seconds)
                self._jwks = {"keys": [json.loads(k.public_jwk) for k in keys]}
                current = next((k for k in keys if k.status == "current"), None)
                self._current = self._load(current) if current else None
            self._loaded_at = time.monotonic()

    def _load(self, key: ToolKey) -> SigningKey:
        private = self._private.get(key.kid)
        if private is None:
            der = self._box.open(key.private_key_enc, context=key.kid.encode())
            loaded = serialization.load_der_private_key(der, password=None)
            assert isinstance(loaded, rsa.RSAPrivateKey)
            private = self._private[key.kid] = loaded
        return SigningKey(key.kid, private)
