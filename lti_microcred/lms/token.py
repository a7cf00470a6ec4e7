"""OAuth2 client-credentials tokens for platform services, signed-JWT assertion, cached until expiry.

One token per (platform, scope set) is requested per expiry period: cached in memory per process and in a
shared store (the database, or Redis when configured) so every process and worker reuses it.
https://www.imsglobal.org/spec/security/v1p0/#using-json-web-tokens-with-oauth-2-0-client-credentials-grant
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import requests

from lti_microcred.core.outbound import OutboundError, OutboundHTTP
from lti_microcred.lms.errors import PERMANENT, TRANSIENT, ServiceError
from lti_microcred.lms.http import THROTTLE_PAUSE_SECONDS, is_throttle, retry_after_seconds
from lti_microcred.lti.keys import ToolKeyRing
from lti_microcred.lti.registry import PlatformInfo

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300  # seconds: the assertion only has to reach the token endpoint


@dataclass(frozen=True)
class AccessToken:
    value: str
    scopes: frozenset[str]  # what the platform actually granted
    expires_at: float  # epoch seconds
    refresh_at: float  # a little before expiry, so a token never expires in flight

    def usable(self, now: float) -> bool:
        return now < self.refresh_at


def scope_key(scopes: Iterable[str]) -> str:
    return hashlib.sha256(" ".join(sorted(set(scopes))).encode()).hexdigest()[:32]


class TokenStore(Protocol):
    """Where tokens are shared between processes."""

    def get(self, platform_id: int, key: str) -> AccessToken | None: ...
    def put(self, platform_id: int, key: str, token: AccessToken) -> None: ...
    def discard(self, platform_id: int, key: str, value: str) -> None: ...


class TokenCache:
    """Tokens per (platform, scope set): memory, then the shared store, then the platform's token endpoint."""

    def __init__(self, http: OutboundHTTP, keys: ToolKeyRing, store: TokenStore | None = None,
                 margin_seconds: float = 60.0) -> None:
        self._http = http
        self._keys = keys
        self._store = store
        self._margin = margin_seconds
        self._memory: dict[tuple[int, str], AccessToken] = {}
        self._locks: dict[tuple[int, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self.requests_made = 0  # token endpoint calls by this process (benchmarks and tests read it)

    def get(self, platform: PlatformInfo, scopes: frozenset[str]) -> AccessToken:
        key = (platform.id, scope_key(scopes))
        token = self._memory.get(key)
        if token is not None and token.usable(time.time()):
            return token
        with self._lock(key):  # one request per key at a time in this process
            token = self._memory.get(key)
            if token is not None and token.usable(time.time()):
                return token
            token = self._store.get(*key) if self._store else None
            if token is None or not token.usable(time.time()):
                token = self._request(platform, scopes)
                if self._store:
                    self._store.put(key[0], key[1], token)
            self._memory[key] = token
            return token

    def invalidate(self, platform_id: int, scopes: frozenset[str], value: str) -> None:
        """Forget a token the platform refused (401), here and in the shared store."""
        key = (platform_id, scope_key(scopes))
        with self._guard:
            if (current := self._memory.get(key)) is not None and current.value == value:
                del self._memory[key]
        if self._store:
            self._store.discard(key[0], key[1], value)

    def _lock(self, key: tuple[int, str]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _request(self, platform: PlatformInfo, scopes: frozenset[str]) -> AccessToken:
        now = int(time.time())
        assertion = self._keys.signing_key().sign({
            "iss": platform.client_id, "sub": platform.client_id,
            "aud": assertion_audience(platform.auth_token_url, platform.auth_audience),
            "iat": now, "exp": now + ASSERTION_LIFETIME, "jti": secrets.token_urlsafe(16)})
        form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion, "scope": " ".join(sorted(scopes))}
        self.requests_made += 1
        url = platform.auth_token_url
        try:
            response = self._http.request("POST", url, data=form, headers={"Accept": "application/json"})
        except OutboundError as exc:
            raise ServiceError(f"token request failed: {exc}", TRANSIENT) from exc
        if response.status_code != 200:
            raise _token_error(response, url)
        body = self._http.json_of(response, url)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ServiceError(f"{url} answered no access_token", TRANSIENT, response.status_code)
        granted = frozenset(str(body.get("scope") or " ".join(scopes)).split())
        lifetime = float(body.get("expires_in") or 3600)
        issued = time.time()
        return AccessToken(body["access_token"], granted, issued + lifetime,
                           issued + lifetime - min(self._margin, lifetime / 10))


def _token_error(response: requests.Response, url: str) -> ServiceError:
    status = response.status_code
    text = " ".join(str(response.text)[:300].split())
    message = f"the LMS token endpoint {url} answered HTTP {status}" + (f": {text}" if text else "")
    if is_throttle(response):
        return ServiceError(message, TRANSIENT, status, retry_after_seconds(response.headers.get("Retry-After"))
                            or THROTTLE_PAUSE_SECONDS, throttled=True)
    if status == 408 or status >= 500:
        headers = getattr(response, "headers", {})
        return ServiceError(message, TRANSIENT, status, retry_after_seconds(headers.get("Retry-After")))
    # 400 invalid_client / invalid_scope / unauthorized_client: the registration is wrong, a retry cannot help.
    return ServiceError(message + " (check the tool's registration and allowed services in the LMS)", PERMANENT,
                        status)


def assertion_audience(token_url: str, authorization_server: str | None) -> str | list[str]:
    """The client assertion's aud: the token URL, which every platform accepts (RFC 7523), plus the
    configuration's authorization_server when it names something else. Canvas publishes a bare host there
    (`canvas.instructure.com`) but accepts only an aud that is, or contains, its token URL."""
    if not authorization_server or authorization_server == token_url:
        return token_url
    return [token_url, authorization_server]

