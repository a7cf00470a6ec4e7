"""VC-JWT (RS256 and ES256): claims mirror the credential, the kid resolves through the DID document, and
tampering, a wrong key or an algorithm swap are refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from lti_microcred.credentials.errors import ProofError, VcJwtError
from lti_microcred.credentials.issuing.didweb import jwk_id
from lti_microcred.credentials.proofs.controller_keys import KeyResolver
from lti_microcred.credentials.proofs.vcjwt import decode, encode
from lti_microcred.credentials.verification.verdict import CheckName, Outcome
from lti_microcred.credentials.verification.verifier import verify_credential

from .conftest import ISSUER, NOW

ShapeMap = dict[str, Callable[[], dict[str, Any]]]


def _swap_payload(token: str, payload: dict[str, Any]) -> str:
    header, _, signature = token.split(".")
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key"])
@pytest.mark.parametrize("shape", ["minimal", "full", "hashed-identity-only", "eu-mandatory-only", "clr"])
def test_round_trip(
    shape: str, key_name: str, request: pytest.FixtureRequest, shapes: ShapeMap, resolver: KeyResolver
) -> None:
    key = request.getfixturevalue(key_name)
    credential = shapes[shape]()
    token = encode(credential, key, jwk_id(ISSUER, key.public_key()))
    header = jwt.get_unverified_header(token)
    assert header["alg"] == ("RS256" if key_name == "rsa_key" else "ES256")
    assert header["kid"].startswith(ISSUER + "#") and header["typ"] == "JWT"
    decoded = decode(token, resolver)
    assert decoded.credential == credential
    assert decoded.claims["iss"] == ISSUER and decoded.claims["jti"] == credential["id"]
    assert decoded.claims["nbf"] == int(NOW.timestamp()) - (
        10 * 86400 if shape == "full" else 86400 if shape == "clr" else 0
    )
    assert ("exp" in decoded.claims) == ("validUntil" in credential)
    assert decoded.claims.get("sub") == credential["credentialSubject"].get("id")
    verdict = verify_credential(token, resolve_key=resolver, now=NOW)
    assert verdict.check(CheckName.PROOF).outcome is Outcome.PASSED  # type: ignore[union-attr]
    assert verdict.check(CheckName.JSON_LD).outcome is Outcome.PASSED  # type: ignore[union-attr]
    assert verdict.check(CheckName.ISSUER).outcome is Outcome.PASSED  # type: ignore[union-attr]


def test_a_changed_payload_is_refused(shapes: ShapeMap, rsa_key: rsa.RSAPrivateKey, resolver: KeyResolver) -> None:
    token = encode(shapes["full"](), rsa_key, jwk_id(ISSUER, rsa_key.public_key()))
    payload = jwt.decode(token, options={"verify_signature": False})
    payload["credentialSubject"]["achievement"]["name"] = "Something grander"
    with pytest.raises(ProofError, match="signature does not match"):
        decode(_swap_payload(token, payload), resolver)
    assert (
        "signature does not match" in verify_credential(_swap_payload(token, payload), resolve_key=resolver).summary()
    )


def test_a_token_signed_with_another_key_is_refused(
    shapes: ShapeMap, rsa_key: rsa.RSAPrivateKey, resolver: KeyResolver
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = encode(shapes["minimal"](), stranger, jwk_id(ISSUER, rsa_key.public_key()))
    with pytest.raises(ProofError):
        decode(token, resolver)


def test_claims_must_agree_with_the_credential(
    shapes: ShapeMap, ec_key: ec.EllipticCurvePrivateKey, resolver: KeyResolver
) -> None:
    credential = shapes["minimal"]()
    kid = jwk_id(ISSUER, ec_key.public_key())
    payload = {**credential, "iss": "did:web:evil.example", "jti": credential["id"], "nbf": 0}
    token = jwt.encode(payload, ec_key, algorithm="ES256", headers={"kid": kid})
    with pytest.raises(VcJwtError, match="iss"):
        decode(token, resolver)


def test_algorithm_and_header_checks(
    shapes: ShapeMap, ec_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey, resolver: KeyResolver
) -> None:
    credential = shapes["minimal"]()
    rsa_kid = jwk_id(ISSUER, rsa_key.public_key())
    hs = jwt.encode(credential, "secret-secret-secret-secret-secret", algorithm="HS256", headers={"kid": rsa_kid})
    with pytest.raises(ProofError, match="does not fit"):
        decode(hs, resolver)
    no_kid = jwt.encode(credential, ec_key, algorithm="ES256")
    with pytest.raises(VcJwtError, match="kid"):
        decode(no_kid, resolver)
    odd_typ = encode(credential, ec_key, jwk_id(ISSUER, ec_key.public_key()), typ="at+jwt")
    with pytest.raises(VcJwtError, match="typ"):
        decode(odd_typ, resolver)
    with pytest.raises(VcJwtError):
        decode("not.a.jwt", resolver)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - refused below
    with pytest.raises(VcJwtError, match="2048"):
        encode(credential, small, "did:web:x#k")


def test_legacy_vc_claim_is_read(shapes: ShapeMap, ec_key: ec.EllipticCurvePrivateKey, resolver: KeyResolver) -> None:
    credential = shapes["minimal"]()
    token = jwt.encode(
        {"vc": credential, "iss": ISSUER, "jti": credential["id"]},
        ec_key,
        algorithm="ES256",
        headers={"kid": jwk_id(ISSUER, ec_key.public_key())},
    )
    assert decode(token, resolver).credential == credential
