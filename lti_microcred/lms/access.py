"""Authorised calls to one platform's services: the right token, the scopes it really grants, one token
refresh when the platform answers 401, and a pause for the whole platform when it throttles us (429, or
Canvas's 403 "Rate Limit Exceeded"; for its Retry-After, else lms/http.py's THROTTLE_PAUSE_SECONDS), so
that every other delivery waits too instead of hammering it. (A 503's Retry-After delays
only the request that got it: an LMS answers 503 for one overloaded node as often as for all of it.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.lms.errors import AUTH, PERMANENT, TRANSIENT, NotReady, ScopeNotGranted, ServiceError
from lti_microcred.lms.http import PlatformHTTP
from lti_microcred.lms.token import AccessToken, TokenCache
from lti_microcred.lti import scopes as s
from lti_microcred.lti.models import Platform
from lti_microcred.lti.registry import PlatformInfo, Registry

T = TypeVar("T")
K = TypeVar("K")
AGS_SCOPES = frozenset({s.AGS_LINEITEM, s.AGS_LINEITEM_READONLY, s.AGS_RESULT_READONLY, s.AGS_SCORE})
NRPS_SCOPES = frozenset({s.NRPS_MEMBERSHIP_READONLY})
GRANTED_CACHE_SECONDS = 30.0
MAX_PAUSE_SECONDS = 3600.0
NARROWED_SECONDS = 3600.0  # then the full scope set is asked again: an LMS admin may have granted the rest


class ServiceClient:
    """What every AGS/NRPS call goes through."""

    def __init__(self, http: PlatformHTTP, tokens: TokenCache, registry: Registry,
                 sessions: sessionmaker[Session]) -> None:
        self.http = http
        self.tokens = tokens
        self._registry = registry
        self._sessions = sessions
        self._granted: dict[int, tuple[float, frozenset[str]]] = {}
        # Scope sets a platform refused as a whole, and platforms that asked us to wait: monotonic expiry times.
        self._narrowed: dict[tuple[int, frozenset[str]], float] = {}
        self._paused: dict[int, float] = {}
        self._lock = threading.Lock()

    def platform(self, platform_id: int) -> PlatformInfo:
        info = self._registry.platform(platform_id)
        if info is None or info.status != "active":
            raise ServiceError(f"platform {platform_id} is not registered or not active", PERMANENT)
        return info

    def registered_scopes(self, platform_id: int) -> frozenset[str]:
        """Scopes the registration granted (Dynamic Registration); empty when unknown (manual set-up)."""
        cached = self._granted.get(platform_id)
        if cached and time.monotonic() - cached[0] < GRANTED_CACHE_SECONDS:
            return cached[1]
        with self._sessions() as session:
            raw = session.execute(select(Platform.granted_scopes).where(Platform.id == platform_id)).scalar()
        granted = frozenset((raw or "").split())
        self._granted[platform_id] = (time.monotonic(), granted)
        return granted

    def call(self, platform_id: int, family: frozenset[str], needed: str, fn: Callable[[str], T]) -> T:
        """Run fn(token) with a token for the service family; on 401 refresh the token once and run it again."""
        self._check_pause(platform_id)
        try:
            return self._call(platform_id, family, needed, fn)
        except ServiceError as exc:
            if exc.throttled and exc.retry_after:
                self._paused[platform_id] = time.monotonic() + min(exc.retry_after, MAX_PAUSE_SECONDS)
            raise

    def paused(self) -> list[int]:
        """Platforms that asked us to wait: the worker does not claim their rows meanwhile."""
        return list(_unexpired(self._paused))

    def _check_pause(self, platform_id: int) -> None:
        left = self._paused.get(platform_id, 0.0) - time.monotonic()
        if left > 0:
            raise NotReady(f"the LMS limits our rate: waiting {left:.0f} s more before calling it again", left)

    def _call(self, platform_id: int, family: frozenset[str], needed: str, fn: Callable[[str], T]) -> T:
        platform = self.platform(platform_id)
        token, wanted = self._token(platform, family, needed)
        try:
            return fn(token.value)
        except ServiceError as exc:
            if exc.kind != AUTH:
                raise
            self.tokens.invalidate(platform_id, wanted, token.value)
        token, wanted = self._token(platform, family, needed)
        try:
            return fn(token.value)
        except ServiceError as exc:
            if exc.kind == AUTH:
                raise ServiceError(f"the LMS refused a fresh access token too: {exc}", TRANSIENT, exc.status) from exc
            raise

    def _token(self, platform: PlatformInfo, family: frozenset[str], needed: str) -> tuple[AccessToken, frozenset[str]]:
        registered = self.registered_scopes(platform.id)
        wanted = family & registered if registered else family
        if needed not in wanted and not _covered(needed, wanted):
            raise ScopeNotGranted(needed, registered)
        if (platform.id, wanted) in _unexpired(self._narrowed):
            wanted = frozenset({needed})
        try:
            token = self.tokens.get(platform, wanted)
        except ServiceError as exc:
            if exc.kind != PERMANENT or exc.status != 400 or len(wanted) == 1:
                raise
            # Canvas refuses a request naming any scope its developer key lacks: ask for the one we need.
            with self._lock:
                self._narrowed[(platform.id, wanted)] = time.monotonic() + NARROWED_SECONDS
            wanted = frozenset({needed})
            token = self.tokens.get(platform, wanted)
        if needed not in token.scopes and not _covered(needed, token.scopes):
            raise ScopeNotGranted(needed, token.scopes)
        return token, wanted


def _unexpired(until: dict[K, float]) -> dict[K, float]:
    """Drop what has expired from a per-process memory of `until` times, and return the rest."""
    now = time.monotonic()
    for key, when in list(until.items()):
        if when <= now:
            until.pop(key, None)
    return until


def _covered(needed: str, granted: frozenset[str]) -> bool:
    """Full line-item management includes reading line items."""
    return needed == s.AGS_LINEITEM_READONLY and s.AGS_LINEITEM in granted
