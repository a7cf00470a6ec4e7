"""Short signed tokens (HMAC-SHA256), one derived key per purpose so a token of one kind is never
accepted as another."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from lti_microcred.core.crypto_box import b64url, b64url_decode


class BadToken(Exception):
    """The token was not made by us for this purpose, or is garbled."""


class TokenExpired(BadToken):
    """The token was ours but is older than allowed."""


class Signer:
    def __init__(self, secret: str) -> None:
        self._root = hashlib.sha256(b"lti-microcred/signing/" + secret.encode("utf-8")).digest()
        self._keys: dict[str, bytes] = {}

    def _key(self, purpose: str) -> bytes:
        key = self._keys.get(purpose)
        if key is None:
            key = self._keys[purpose] = hmac.new(self._root, purpose.encode(), hashlib.sha256).digest()
        return key

    def mac(self, purpose: str, data: str, length: int = 32) -> str:
        """A URL-safe MAC of data; length is in bytes before encoding."""
        return b64url(hmac.new(self._key(purpose), data.encode("utf-8"), hashlib.sha256).digest()[:length])

    def dumps(self, purpose: str, payload: dict[str, Any]) -> str:
        """payload + issue time, as `body.mac` (readable by anyone, alterable by no one)."""
        body = b64url(json.dumps({**payload, "iat": int(time.time())}, separators=(",", ":")).encode())
        return f"{body}.{self.mac(purpose, body, 18)}"

    def loads(self, purpose: str, token: str, max_age: float) -> dict[str, Any]:
        body, _, mac = token.partition(".")
        if not body or not mac or not hmac.compare_digest(mac, self.mac(purpose, body, 18)):
            raise BadToken(f"{purpose} token is not ours")
        try:
            payload = json.loads(b64url_decode(body))
        except ValueError as exc:
            raise BadToken(f"{purpose} token is garbled") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("iat"), int):
            raise BadToken(f"{purpose} token is garbled")
        if time.time() - payload["iat"] > max_age:
            raise TokenExpired(f"{purpose} token expired")
        return payload
