"""Public keys found through a controller (or DID) document, so verifiers never trust a key out of thin air.

A verifier is handed a `KeyResolver` callback: the web layer resolves our own did:web or HTTPS controller
documents from memory, and nothing here touches the network.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from lti_microcred.credentials.errors import KeyResolutionError
from lti_microcred.credentials.proofs.jsonld_values import as_list
from lti_microcred.credentials.proofs.multikey import ed25519_public_key_from_multibase

PublicKey = Ed25519PublicKey | RSAPublicKey | EllipticCurvePublicKey
_MULTIBASE_TYPES = ("Multikey", "Ed25519VerificationKey2020")
_JWK_TYPES = ("JsonWebKey", "JsonWebKey2020")


@dataclass(frozen=True)
class ResolvedKey:
    """A verification method's id, its controller, and the public key it publishes."""

    id: str
    controller: str
    public_key: PublicKey


KeyResolver = Callable[[str], ResolvedKey]
"""Maps a verification method id (a proof's verificationMethod, a JWT's kid) to its key, or raises
KeyResolutionError; it must only return keys its controller authorises for assertionMethod."""


def key_from_verification_method(method: dict[str, Any]) -> ResolvedKey:
    """Decode one verification method object (Multikey, JsonWebKey and their 2020 cousins)."""
    method_id, controller, kind = method.get("id"), method.get("controller"), method.get("type")
    if not isinstance(method_id, str) or not isinstance(controller, str):
        raise KeyResolutionError("A verification method needs a string id and controller.")
    try:
        if kind in _MULTIBASE_TYPES:
            key: PublicKey = ed25519_public_key_from_multibase(method.get("publicKeyMultibase", ""))
        elif kind in _JWK_TYPES:
            key = _key_from_jwk(method.get("publicKeyJwk"))
        else:
            raise KeyResolutionError(f"Verification method type {kind!r} is not supported.")
    except (ValueError, jwt.PyJWTError) as exc:
        raise KeyResolutionError(f"The key of {method_id} cannot be read: {exc}") from exc
    return ResolvedKey(id=method_id, controller=controller, public_key=key)


def _key_from_jwk(jwk: Any) -> PublicKey:
    if not isinstance(jwk, dict):
        raise KeyResolutionError("publicKeyJwk must be a JSON object.")
    if "d" in jwk:
        raise KeyResolutionError("publicKeyJwk contains a private key; refusing to use it.")
    key = jwt.PyJWK(jwk).key
    if not isinstance(key, RSAPublicKey | EllipticCurvePublicKey | Ed25519PublicKey):
        raise KeyResolutionError("publicKeyJwk is not an RSA, EC or Ed25519 public key.")
    return key


def resolve_in_document(document: dict[str, Any], method_id: str, purpose: str = "assertionMethod") -> ResolvedKey:
    """The key `method_id` from a controller document, only if the document authorises it for `purpose`."""
    methods = {m["id"]: m for m in _objects(document.get("verificationMethod")) if isinstance(m.get("id"), str)}
    authorised = False
    for entry in as_list(document.get(purpose)):
        if entry == method_id:
            authorised = True
        elif isinstance(entry, dict) and entry.get("id") == method_id:
            methods[method_id], authorised = entry, True
    if method_id not in methods:
        raise KeyResolutionError(f"{method_id} is not a verification method of {document.get('id')}.")
    if not authorised:
        raise KeyResolutionError(f"{document.get('id')} does not authorise {method_id} for {purpose}.")
    resolved = key_from_verification_method(methods[method_id])
    if resolved.controller != document.get("id"):
        raise KeyResolutionError(f"{method_id} names {resolved.controller} as controller, not {document.get('id')}.")
    return resolved


def document_resolver(documents: Iterable[dict[str, Any]]) -> KeyResolver:
    """A KeyResolver over known controller/DID documents (e.g. our own did:web document)."""
    by_id = {doc["id"]: json.loads(json.dumps(doc)) for doc in documents}

    def resolve(method_id: str) -> ResolvedKey:
        document = by_id.get(method_id.split("#", 1)[0])
        if document is None:
            raise KeyResolutionError(f"No controller document is known for {method_id}.")
        return resolve_in_document(document, method_id)

    return resolve


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in as_list(value) if isinstance(item, dict)]
