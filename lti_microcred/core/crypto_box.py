"""Authenticated encryption of private keys at rest, with a key derived from configuration."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"v1"


class SecretBoxError(Exception):
    """A stored secret cannot be opened: the key-encryption key changed or the data was altered."""


class SecretBox:
    """AES-256-GCM under a key derived (HKDF-SHA256) from the configured key-encryption secret."""

    def __init__(self, secret: str, purpose: bytes = b"lti-microcred/private-keys") -> None:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"lti-microcred", info=purpose)
        self._aead = AESGCM(hkdf.derive(secret.encode("utf-8")))

    def seal(self, plaintext: bytes, context: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes = b"") -> bytes:
        if not sealed.startswith(_VERSION):
            raise SecretBoxError("unknown sealed-data version")
        nonce, body = sealed[2:14], sealed[14:]
        try:
            return self._aead.decrypt(nonce, body, context)
        except InvalidTag as exc:
            raise SecretBoxError(
                "cannot decrypt a stored private key: LTI_MICROCRED_KEY_ENCRYPTION_KEY (or SECRET_KEY) "
                "is not the one the key was stored with"
            ) from exc


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint: a kid that any party can recompute from the public key."""
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
    members = {k: jwk[k] for k in required[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())
