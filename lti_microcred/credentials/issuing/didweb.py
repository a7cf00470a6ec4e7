"""did:web identifiers and the DID document that publishes our signing keys (wallets resolve did:web keys).

The DID document lives at https://<host>/.well-known/did.json (or /<path>/did.json); every verification
method is controlled by the DID itself, so proofs' controllers equal the credential's issuer id.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from lti_microcred.credentials.contexts import DID_V1, MULTIKEY_V1
from lti_microcred.credentials.proofs.multikey import ed25519_public_key_to_multibase

# Context of the JsonWebKey verification method type. DID documents are read as plain JSON by the
# verifiers we target (a DID-v1-first document is not reframed), so it is named, not bundled.
JWK_V1: Final = "https://w3id.org/security/jwk/v1"
_JWK_REQUIRED: Final = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}


def did_web(host: str, port: int | None = None, path: str = "") -> str:
    """did:web for a host (':' before a port becomes %3A) and an optional path."""
    host = host.strip().lower()
    if not host or "/" in host or ":" in host:
        raise ValueError(f"{host!r} is not a bare host name")
    authority = f"{host}%3A{port}" if port else host
    segments = [quote(s, safe="") for s in path.strip("/").split("/") if s]
    return ":".join(["did", "web", authority, *segments])


def did_web_from_url(url: str) -> str:
    """did:web for an https URL such as https://tool.example.edu:8443/issuers/1."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("did:web needs an https URL")
    return did_web(parts.hostname, parts.port, parts.path)


def did_web_document_url(did: str) -> str:
    """Where a did:web DID document is served."""
    if not did.startswith("did:web:"):
        raise ValueError(f"{did!r} is not a did:web identifier")
    authority, *segments = did[len("did:web:") :].split("#", 1)[0].split(":")
    path = "/".join(unquote(s) for s in segments) or ".well-known"
    return f"https://{unquote(authority)}/{path}/did.json"


def multikey_id(controller: str, key: Ed25519PublicKey) -> str:
    """Verification method id of an Ed25519 key: the controller plus its multibase as fragment."""
    return f"{controller}#{ed25519_public_key_to_multibase(key)}"


def public_jwk(key: RSAPublicKey | EllipticCurvePublicKey) -> dict[str, Any]:
    """The public JWK of an RSA or P-256 key (never private members)."""
    jwk = (
        RSAAlgorithm.to_jwk(key, as_dict=True)
        if isinstance(key, RSAPublicKey)
        else ECAlgorithm.to_jwk(key, as_dict=True)
    )
    return {k: jwk[k] for k in _JWK_REQUIRED[jwk["kty"]]}


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url: a stable name for a JWK."""
    members = {k: jwk[k] for k in _JWK_REQUIRED[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def jwk_id(controller: str, key: RSAPublicKey | EllipticCurvePublicKey) -> str:
    """Verification method id (and VC-JWT kid) of an RSA or P-256 key: controller + thumbprint."""
    return f"{controller}#{jwk_thumbprint(public_jwk(key))}"


def build_did_document(
    controller: str,
    ed25519_key: Ed25519PublicKey,
    jwk_keys: Sequence[RSAPublicKey | EllipticCurvePublicKey] = (),
) -> dict[str, Any]:
    """A DID (or HTTPS controller) document: a Multikey method, then a JsonWebKey method per extra key."""
    methods: list[dict[str, Any]] = [
        {
            "id": multikey_id(controller, ed25519_key),
            "type": "Multikey",
            "controller": controller,
            "publicKeyMultibase": ed25519_public_key_to_multibase(ed25519_key),
        }
    ]
    contexts = [DID_V1, MULTIKEY_V1]
    if jwk_keys:
        contexts.append(JWK_V1)
    methods += [
        {
            "id": jwk_id(controller, key),
            "type": "JsonWebKey",
            "controller": controller,
            "publicKeyJwk": public_jwk(key),
        }
        for key in jwk_keys
    ]
    return {
        "@context": contexts,
        "id": controller,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }
