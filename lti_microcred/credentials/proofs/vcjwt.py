"""VC-JWT: the credential itself as JWT payload plus iss/jti/nbf/sub/exp (VC 2.0, OB 3.0 section 8.2).

~80x cheaper than a Data Integrity proof (no canonicalization); RS256 is the OB 3.0 minimum, ES256 is
offered for smaller keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import (
    SECP256R1,
    EllipticCurvePrivateKey,
    EllipticCurvePublicKey,
)
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from lti_microcred.credentials.documents.dates import parse_datetime
from lti_microcred.credentials.errors import ProofError, VcJwtError
from lti_microcred.credentials.proofs.controller_keys import KeyResolver, ResolvedKey

ACCEPTED_TYPS: Final = frozenset({"JWT", "vc+jwt", "vc+ld+json+jwt"})
JWT_CLAIMS: Final = frozenset({"iss", "jti", "nbf", "sub", "exp", "iat"})
MAX_TOKEN_BYTES: Final = 1_000_000


@dataclass(frozen=True)
class DecodedVcJwt:
    """A VC-JWT whose signature held: the credential, the JOSE header, the JWT claims and the key."""

    credential: dict[str, Any]
    header: dict[str, Any]
    claims: dict[str, Any]
    key: ResolvedKey


def encode(
    credential: dict[str, Any],
    private_key: RSAPrivateKey | EllipticCurvePrivateKey,
    kid: str,
    *,
    typ: str = "JWT",
) -> str:
    """Compact JWS of the credential; `kid` must be a dereferenceable verification method id."""
    algorithm = _algorithm_for(private_key)
    payload = {**credential, **registered_claims(credential)}
    return jwt.encode(payload, private_key, algorithm=algorithm, headers={"kid": kid, "typ": typ})


def registered_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """iss, jti, nbf, sub, exp mirrored from the credential, as OB 3.0 asks."""
    claims: dict[str, Any] = {"iss": issuer_id(credential), "jti": credential.get("id")}
    valid_from, valid_until = (
        parse_datetime(credential.get("validFrom")),
        parse_datetime(credential.get("validUntil")),
    )
    if valid_from is None:
        raise VcJwtError("The credential needs a valid validFrom date-time to become a VC-JWT.")
    claims["nbf"] = int(valid_from.timestamp())
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict) and isinstance(subject.get("id"), str):
        claims["sub"] = subject["id"]
    if valid_until is not None:
        claims["exp"] = int(valid_until.timestamp())
    return {k: v for k, v in claims.items() if v is not None}


def decode(token: str, resolve_key: KeyResolver) -> DecodedVcJwt:
    """Check a VC-JWT's signature with the key its `kid` names; claims must agree with the credential."""
    if len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
        raise VcJwtError("This is not a compact JWT of acceptable size.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise VcJwtError(f"The JWT header cannot be read: {exc}") from exc
    key = _key_for(header, resolve_key)
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[header["alg"]],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.InvalidSignatureError as exc:
        raise ProofError("The JWT signature does not match: it was changed or signed with another key.") from exc
    except jwt.PyJWTError as exc:
        raise VcJwtError(f"The JWT cannot be read: {exc}") from exc
    credential = _credential_of(claims)
    _check_claims(credential, claims)
    return DecodedVcJwt(credential=credential, header=header, claims=claims, key=key)


def issuer_id(credential: dict[str, Any]) -> str | None:
    """The issuer's id, whether the issuer is embedded as a Profile or given as a bare URI."""
    issuer = credential.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    return issuer if isinstance(issuer, str) else None


def _algorithm_for(key: Any) -> str:
    if isinstance(key, RSAPrivateKey | RSAPublicKey):
        if key.key_size < 2048:
            raise VcJwtError("RSA keys for VC-JWT must have at least 2048 bits.")
        return "RS256"
    if isinstance(key, EllipticCurvePrivateKey | EllipticCurvePublicKey) and isinstance(key.curve, SECP256R1):
        return "ES256"
    raise VcJwtError("VC-JWTs are signed with RSA (RS256) or P-256 (ES256) keys only.")


def _key_for(header: dict[str, Any], resolve_key: KeyResolver) -> ResolvedKey:
    typ = header.get("typ", "JWT")
    if not isinstance(typ, str) or typ not in ACCEPTED_TYPS:
        raise VcJwtError(f"JWT typ {header.get('typ')!r} is not a verifiable-credential type.")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise VcJwtError("The JWT header has no kid naming the issuer's key.")
    key = resolve_key(kid)
    if header.get("alg") != _algorithm_for(key.public_key):
        raise ProofError(f"The JWT says alg {header.get('alg')!r}, which does not fit the key {kid}.")
    return key


def _credential_of(claims: dict[str, Any]) -> dict[str, Any]:
    legacy = claims.get("vc")  # VC 1.1-era VC-JWTs nest the credential under "vc"
    if isinstance(legacy, dict):
        return dict(legacy)
    return {k: v for k, v in claims.items() if k not in JWT_CLAIMS}


def _check_claims(credential: dict[str, Any], claims: dict[str, Any]) -> None:
    expected = registered_claims(credential)
    for name in ("iss", "jti", "sub", "nbf", "exp"):
        if name in claims and name in expected and claims[name] != expected[name]:
            raise VcJwtError(
                f"The JWT claim {name}={claims[name]!r} disagrees with the credential ({expected[name]!r})."
            )
