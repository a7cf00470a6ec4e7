"""The issuer of this deployment: its profile, its signing keys (stored encrypted), and the documents that
publish the keys: the did:web DID document and the same keys in an HTTPS issuer profile.

Ed25519 signs Data Integrity proofs, P-256 (ES256) signs VC-JWTs. Rotation adds a new current key and keeps
the old one published (as retired) so credentials it signed keep verifying.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.crypto_box import SecretBox
from lti_microcred.core.db import utcnow
from lti_microcred.credentials.contexts import DID_V1, MULTIKEY_V1
from lti_microcred.credentials.documents.data import Address
from lti_microcred.credentials.documents.data import IssuerProfile as ProfileData
from lti_microcred.credentials.documents.openbadge import address_json
from lti_microcred.credentials.issuing.didweb import JWK_V1, did_web, jwk_thumbprint, public_jwk
from lti_microcred.credentials.models import IssuerKey, IssuerProfile
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer
from lti_microcred.credentials.proofs.multikey import ed25519_public_key_to_multibase

PROFILE_PATH = "/issuer"


def issuer_did(base_url: str) -> str:
    """did:web of the tool's host (a port becomes %3A): the issuer id in every credential."""
    parts = urlsplit(base_url)
    assert parts.hostname
    return did_web(parts.hostname, parts.port)


def _private_der(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


# The issuer profile's fields and their longest values (the columns' sizes), in the order forms show them.
PROFILE_FIELDS = {"name": 200, "url": 2048, "email": 320, "description": 2000, "street_address": 300,
                  "locality": 120, "postal_code": 40, "country": 2, "image_url": 2048}


def profile_form(values: Mapping[str, str | None]) -> dict[str, str]:
    """Every profile field as it is stored: trimmed, missing ones empty, the country code in capitals."""
    form = {name: (values.get(name) or "").strip() for name in PROFILE_FIELDS}
    form["country"] = form["country"].upper()
    return form


def profile_problems(form: dict[str, str]) -> dict[str, str]:
    """What is wrong with an issuer profile form, field by field."""
    found = {name: f"At most {limit} characters." for name, limit in PROFILE_FIELDS.items()
             if len(form[name]) > limit}
    if not form["name"]:
        found["name"] = "The issuer needs a name."
    for name in ("url", "image_url"):
        if form[name] and not form[name].startswith("https://"):
            found[name] = "Use an https:// address."
    if form["email"] and "@" not in form["email"]:
        found["email"] = "This is not an e-mail address."
    if form["country"] and not (len(form["country"]) == 2 and form["country"].isalpha()):
        found["country"] = "Use the two-letter country code (e.g. IE)."
    return found


def new_issuer_key(box: SecretBox, algorithm: str) -> IssuerKey:
    if algorithm == "Ed25519":
        private: Any = ed25519.Ed25519PrivateKey.generate()
        public_text = ed25519_public_key_to_multibase(private.public_key())
        fragment = public_text
    elif algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        jwk = public_jwk(private.public_key())
        public_text, fragment = json.dumps(jwk, sort_keys=True), jwk_thumbprint(jwk)
    else:
        raise ValueError(f"unsupported issuer key algorithm {algorithm}")
    return IssuerKey(algorithm=algorithm, fragment=fragment, public_key=public_text, status="current",
                     private_key_enc=box.seal(_private_der(private), context=fragment.encode()))


def ensure_issuer(session: Session, box: SecretBox, default_name: str) -> list[str]:
    """A profile row and a current key of each algorithm; returns what was created."""
    created = []
    if session.get(IssuerProfile, 1) is None:
        session.add(IssuerProfile(id=1, name=default_name))
        created.append("issuer profile")
    current = set(session.scalars(select(IssuerKey.algorithm).where(IssuerKey.status == "current")))
    for algorithm in ("Ed25519", "ES256"):
        if algorithm not in current:
            session.add(new_issuer_key(box, algorithm))
            created.append(f"{algorithm} issuer key")
    session.flush()
    return created


def rotate_issuer_keys(session: Session, box: SecretBox) -> list[IssuerKey]:
    """New current keys; the previous ones stay published as retired."""
    for key in session.scalars(select(IssuerKey).where(IssuerKey.status == "current")):
        key.status, key.retired_dt = "retired", utcnow()
    fresh = [new_issuer_key(box, algorithm) for algorithm in ("Ed25519", "ES256")]
    session.add_all(fresh)
    session.flush()
    return fresh


@dataclass(frozen=True)
class IssuerState:
    """A per-process snapshot: the profile as credentials embed it, signers, and the published documents."""

    did: str
    profile: ProfileData
    di_signer: Ed25519Signer
    jwt_key: Any
    jwt_kid: str
    did_document: dict[str, Any]
    https_profile: dict[str, Any]


class Issuer:
    """Loads the issuer once per process and again every few seconds (an admin may change it elsewhere)."""

    def __init__(self, sessions: sessionmaker[Session], box: SecretBox, base_url: str,
                 refresh_seconds: float = 10.0) -> None:
        self._sessions, self._box, self._base_url = sessions, box, base_url
        self._refresh_seconds = refresh_seconds
        self._state: IssuerState | None = None
        self._loaded_at = -1e9
        self._private: dict[str, Any] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._loaded_at = -1e9

    def state(self) -> IssuerState:
        if self._state is None or time.monotonic() - self._loaded_at >= self._refresh_seconds:
            with self._lock:
                if self._state is None or time.monotonic() - self._loaded_at >= self._refresh_seconds:
                    self._state = self._load()
                    self._loaded_at = time.monotonic()
        return self._state

    def _load(self) -> IssuerState:
        did = issuer_did(self._base_url)
        with self._sessions() as session:
            row = session.get(IssuerProfile, 1)
            keys = list(session.scalars(select(IssuerKey).where(IssuerKey.status != "revoked").order_by(IssuerKey.id)))
            if row is None or not keys:
                raise RuntimeError("the issuer is not set up: run `microcred init`")
            profile = _profile_data(row, did)
            current = {k.algorithm: k for k in keys if k.status == "current"}
            di_key, jwt_key = current["Ed25519"], current["ES256"]
            state = IssuerState(
                did=did, profile=profile,
                di_signer=Ed25519Signer(f"{did}#{di_key.fragment}", self._private_key(di_key)),
                jwt_key=self._private_key(jwt_key), jwt_kid=f"{did}#{jwt_key.fragment}",
                did_document=_controller_document(did, keys),
                https_profile=_https_profile(self._base_url, row, keys),
            )
        return state

    def _private_key(self, key: IssuerKey) -> Any:
        loaded = self._private.get(key.fragment)
        if loaded is None:
            der = self._box.open(key.private_key_enc, context=key.fragment.encode())
            loaded = self._private[key.fragment] = serialization.load_der_private_key(der, password=None)
        return loaded


def _address(row: IssuerProfile) -> Address | None:
    """The stored postal address (Annex I: the issuer's country), or None when nothing is stored."""
    address = Address(country_code=row.country or None, locality=row.locality or None,
                      street_address=row.street_address or None, postal_code=row.postal_code or None)
    return address if address != Address() else None


def _profile_data(row: IssuerProfile, did: str) -> ProfileData:
    return ProfileData(id=did, name=row.name, url=row.url or None, email=row.email or None,
                       description=row.description or None, image=row.image_url or None, address=_address(row))


def _methods(controller: str, keys: list[IssuerKey]) -> list[dict[str, Any]]:
    methods = []
    for key in keys:
        if key.algorithm == "Ed25519":
            methods.append({"id": f"{controller}#{key.fragment}", "type": "Multikey", "controller": controller,
                            "publicKeyMultibase": key.public_key})
        else:
            methods.append({"id": f"{controller}#{key.fragment}", "type": "JsonWebKey", "controller": controller,
                            "publicKeyJwk": json.loads(key.public_key)})
    return methods


def _controller_document(controller: str, keys: list[IssuerKey]) -> dict[str, Any]:
    """The DID document: every published key (current and retired) may assert credentials."""
    methods = _methods(controller, keys)
    return {"@context": [DID_V1, MULTIKEY_V1, JWK_V1], "id": controller, "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods]}


def _https_profile(base_url: str, row: IssuerProfile, keys: list[IssuerKey]) -> dict[str, Any]:
    """The same keys under an HTTPS identifier, with the issuer's public profile, for HTTPS-minded verifiers."""
    controller = base_url.rstrip("/") + PROFILE_PATH
    document = _controller_document(controller, keys)
    document["@context"] = [DID_V1, MULTIKEY_V1, JWK_V1]
    document.update({"name": row.name, "url": row.url or None, "email": row.email or None,
                     "description": row.description or None, "image": row.image_url or None,
                     "address": address_json(_address(row)), "alsoKnownAs": [issuer_did(base_url)]})
    return {k: v for k, v in document.items() if v is not None}
