"""did:web identifiers, the DID document, and key resolution through it."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lti_microcred.credentials.errors import KeyResolutionError
from lti_microcred.credentials.issuing.didweb import (
    did_web,
    did_web_document_url,
    did_web_from_url,
    jwk_id,
    jwk_thumbprint,
    multikey_id,
)
from lti_microcred.credentials.proofs.controller_keys import document_resolver, resolve_in_document

from .conftest import ISSUER


@pytest.mark.parametrize(
    ("did", "url"),
    [
        (did_web("Example.EDU"), "https://example.edu/.well-known/did.json"),
        (did_web("localhost", 8443), "https://localhost:8443/.well-known/did.json"),
        (
            did_web_from_url("https://tool.example.edu:8443/issuers/1"),
            "https://tool.example.edu:8443/issuers/1/did.json",
        ),
    ],
)
def test_did_web_and_its_document_url(did: str, url: str) -> None:
    assert did_web_document_url(did) == url


def test_port_is_percent_encoded() -> None:
    assert did_web("example.edu") == "did:web:example.edu"
    assert did_web("localhost", 8443) == "did:web:localhost%3A8443"
    assert did_web_from_url("https://example.edu/issuers/1") == "did:web:example.edu:issuers:1"
    for bad in ("https://example.edu", "example.edu/x", ""):
        with pytest.raises(ValueError):
            did_web(bad)
    with pytest.raises(ValueError):
        did_web_from_url("http://example.edu")


def test_did_document_lists_both_keys_for_assertion(
    did_document: dict[str, Any],
    ed_key: Ed25519PrivateKey,
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    assert did_document["id"] == ISSUER
    methods = did_document["verificationMethod"]
    assert [m["type"] for m in methods] == ["Multikey", "JsonWebKey", "JsonWebKey"]
    assert all(m["controller"] == ISSUER for m in methods)
    assert did_document["assertionMethod"] == [m["id"] for m in methods]
    assert methods[0]["id"] == multikey_id(ISSUER, ed_key.public_key())
    assert methods[1]["publicKeyJwk"].keys() == {"kty", "n", "e"}
    assert methods[2]["publicKeyJwk"]["crv"] == "P-256" and "d" not in methods[2]["publicKeyJwk"]
    resolve = document_resolver([did_document])
    assert resolve(methods[0]["id"]).public_key == ed_key.public_key()
    assert resolve(jwk_id(ISSUER, rsa_key.public_key())).public_key == rsa_key.public_key()
    assert resolve(jwk_id(ISSUER, ec_key.public_key())).public_key == ec_key.public_key()


def test_rfc7638_thumbprint() -> None:
    # RFC 7638 section 3.1 example
    jwk = {
        "kty": "RSA",
        "e": "AQAB",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWK"
            "RXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMic"
            "AtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
            "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_resolution_refuses_unauthorised_or_foreign_methods(did_document: dict[str, Any]) -> None:
    method_id = did_document["verificationMethod"][0]["id"]
    not_for_assertion = {**did_document, "assertionMethod": []}
    with pytest.raises(KeyResolutionError, match="does not authorise"):
        resolve_in_document(not_for_assertion, method_id)
    hijacked = {**did_document, "id": "did:web:evil.example"}
    with pytest.raises(KeyResolutionError, match="controller"):
        resolve_in_document(hijacked, method_id)
    with pytest.raises(KeyResolutionError, match="No controller document"):
        document_resolver([did_document])("did:web:unknown.example#k")
    with pytest.raises(KeyResolutionError, match="not a verification method"):
        resolve_in_document(did_document, ISSUER + "#missing")
    private = {
        **did_document,
        "verificationMethod": [
            {
                **did_document["verificationMethod"][2],
                "publicKeyJwk": {**did_document["verificationMethod"][2]["publicKeyJwk"], "d": "x"},
            }
        ],
    }
    with pytest.raises(KeyResolutionError, match="private key"):
        resolve_in_document(private, did_document["verificationMethod"][2]["id"])
