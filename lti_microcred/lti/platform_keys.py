"""Platform public keys, fetched from the key set URL once and kept as key objects.

An unknown kid triggers one refetch (the platform may have rotated), but never more often than
jwks_min_refetch_seconds per key set, so forged kids cannot make us hammer the LMS.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt

from lti_microcred.core.outbound import OutboundError, OutboundHTTP
from lti_microcred.lti.errors import KeySetUnavailable, UnknownKey, UnsupportedAlgorithm
from lti_microcred.lti.registry import PlatformInfo

ALLOWED_ALGS = frozenset({"RS256", "RS384", "RS512"})


@dataclass
class _KeySet:
    keys: dict[str, tuple[Any, str]] = field(default_factory=dict)  # kid -> (public key, alg)
    fetched_at: float = -1e9


def parse_key_set(document: Any) -> dict[str, tuple[Any, str]]:
    """kid -> (key object, alg) for the RSA signing keys of a JWKS; other keys are ignored."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document (no 'keys' list)")
    keys: dict[str, tuple[Any, str]] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not jwk.get("kid"):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        alg = jwk.get("alg", "RS256")
        if alg not in ALLOWED_ALGS:
            continue
        try:
            keys[str(jwk["kid"])] = (jwt.PyJWK(jwk, algorithm=alg).key, alg)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
    return keys


class PlatformKeyCache:
    """Per-process cache keyed by key set URL (hosted Canvas shares one URL among many client ids)."""

    def __init__(self, http: OutboundHTTP, cache_seconds: float, min_refetch_seconds: float) -> None:
        self._http = http
        self._cache_seconds = cache_seconds
        self._min_refetch_seconds = min_refetch_seconds
        self._sets: dict[str, _KeySet] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def clear(self) -> None:
        self._sets.clear()

    def key_for(self, platform: PlatformInfo, kid: str, alg: str) -> Any:
        if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
            raise UnsupportedAlgorithm(f"the token is signed with {str(alg)[:40]!r}; only RS256/384/512 are accepted")
        if not isinstance(kid, str):
            raise UnknownKey("the token's kid is not a string, so it names no published key")
        keys = self._static(platform) if platform.key_set_json else self._remote(platform, kid)
        found = keys.get(kid)
        if found is None:
            raise UnknownKey(f"no key with kid {kid!r} in the key set of {platform.issuer}")
        key, key_alg = found
        if key_alg != alg:
            raise UnsupportedAlgorithm(f"key {kid!r} is published for {key_alg}, but the token uses {alg}")
        return key

    def _static(self, platform: PlatformInfo) -> dict[str, tuple[Any, str]]:
        cache_key = f"static:{platform.id}:{hash(platform.key_set_json)}"
        entry = self._sets.get(cache_key)
        if entry is None:
            try:
                entry = _KeySet(parse_key_set(json.loads(platform.key_set_json or "")), time.monotonic())
            except ValueError as exc:
                raise KeySetUnavailable(f"the key set stored for {platform.issuer} is unusable: {exc}") from exc
            self._sets[cache_key] = entry
        return entry.keys

    def _remote(self, platform: PlatformInfo, kid: str) -> dict[str, tuple[Any, str]]:
        url = platform.key_set_url
        if not url:
            raise KeySetUnavailable(f"no key set URL is registered for {platform.issuer}")
        entry = self._sets.get(url)
        now = time.monotonic()
        if entry and kid in entry.keys and now - entry.fetched_at < self._cache_seconds:
            return entry.keys
        with self._lock_for(url):
            entry = self._sets.get(url)
            now = time.monotonic()
            stale = entry is None or now - entry.fetched_at >= self._cache_seconds
            unknown_kid = entry is not None and kid not in entry.keys
            may_refetch = entry is None or now - entry.fetched_at >= self._min_refetch_seconds
            if stale or (unknown_kid and may_refetch):
                try:
                    entry = self._fetch(url, platform.issuer)
                except KeySetUnavailable:
                    # An LMS briefly down must not stop launches signed with keys we already hold.
                    if entry is None or kid not in entry.keys:
                        raise
            assert entry is not None
            return entry.keys

    def _fetch(self, url: str, issuer: str) -> _KeySet:
        try:
            document = self._http.get_json(url)
            entry = _KeySet(parse_key_set(document), time.monotonic())
        except (OutboundError, ValueError) as exc:
            raise KeySetUnavailable(f"could not read the key set of {issuer} at {url}: {exc}") from exc
        self._sets[url] = entry
        return entry

    def _lock_for(self, url: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(url, threading.Lock())
