"""RS256/384/512 signature check and time-claim checks of an id_token whose parts we already decoded.

PyJWT would parse and scan the token again on every launch; with the header and body already read and the
key object cached, the check is one RSA verification.
"""

from __future__ import annotations

import binascii
import math
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lti_microcred.core.crypto_box import b64url_decode
from lti_microcred.lti.errors import BadSignature, Expired, InvalidClaim, IssuedInFuture, MalformedToken, MissingClaim

HASHES: dict[str, type[hashes.SHA256] | type[hashes.SHA384] | type[hashes.SHA512]] = {
    "RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}


def verify_signature(token: str, key: Any, alg: str) -> None:
    """Raise BadSignature unless `token` (compact JWS) is signed by `key` with `alg`."""
    if not isinstance(key, rsa.RSAPublicKey) or alg not in HASHES:
        raise BadSignature(f"no RSA key usable for {alg}")
    signing_input, _, encoded = token.rpartition(".")
    try:
        signature = b64url_decode(encoded)
    except (binascii.Error, ValueError) as exc:
        raise MalformedToken("the id_token signature is not base64url") from exc
    try:
        key.verify(signature, signing_input.encode("ascii"), padding.PKCS1v15(), HASHES[alg]())
    except (InvalidSignature, UnicodeEncodeError) as exc:
        raise BadSignature("the id_token signature does not verify with the platform's key") from exc


def check_times(body: dict[str, Any], now: float, skew: int, max_age: int) -> None:
    """exp not passed, nbf/iat not in the future, iat not older than max_age (all with `skew` leeway)."""
    for claim in ("exp", "iat"):
        if claim not in body:
            raise MissingClaim(f"the id_token has no {claim} claim")
    values = {k: _seconds(k, body[k]) for k in ("exp", "iat", "nbf") if k in body}
    if values["exp"] < now - skew:
        raise Expired("the id_token's exp has passed")
    if values["iat"] > now + skew or values.get("nbf", now) > now + skew:
        raise IssuedInFuture(f"iat is {int(values['iat'] - now)} s in the future")
    if now - values["iat"] > max_age + skew:
        raise Expired(f"the id_token was issued {int(now - values['iat'])} s ago; the limit is {max_age} s")


def _seconds(claim: str, value: Any) -> float:
    """A time claim as float seconds; NaN, infinities and out-of-range numbers would compare as 'fine'."""
    try:
        seconds = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    except OverflowError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise InvalidClaim(f"{claim} must be a finite number of seconds, got {str(value)[:40]!r}")
    return seconds
