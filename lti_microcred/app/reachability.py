"""`microcred doctor`'s calls out: the tool's own BASE_URL/health, and for each active registration its key set
(it must answer with keys) and its token endpoint (it must answer at all: a HEAD, or with `tokens` a real token
request). Each request goes to the stored address only: no redirect is followed (one is reported), no token is
asked for unless told, and the timeouts are short."""

from __future__ import annotations

import time
from urllib.parse import urljoin

import requests
from sqlalchemy import select

from lti_microcred.app.diagnostics import Check
from lti_microcred.core.config import Settings
from lti_microcred.core.outbound import OutboundError, OutboundHTTP
from lti_microcred.lms.errors import ServiceError
from lti_microcred.lms.token import TokenCache
from lti_microcred.lti.models import Platform
from lti_microcred.lti.platform_keys import parse_key_set
from lti_microcred.lti.registry import PlatformInfo
from lti_microcred.lti.scopes import TOOL_SCOPES
from lti_microcred.services import Services

CONNECT_SECONDS, READ_SECONDS = 3.05, 5.0


def doctor_http(settings: Settings) -> OutboundHTTP:
    return OutboundHTTP(settings.base_url, min(settings.http_connect_timeout, CONNECT_SECONDS),
                        min(settings.http_read_timeout, READ_SECONDS), pool_size=2)


def _get(http: OutboundHTTP, method: str, url: str) -> requests.Response:
    return http.request(method, url, allow_redirects=False, headers={"Accept": "application/json"})


def _redirect(response: requests.Response, url: str) -> str | None:
    if response.is_redirect or 300 <= response.status_code < 400:
        return urljoin(url, response.headers.get("Location", ""))
    return None


def base_url_check(settings: Settings, http: OutboundHTTP) -> Check:
    url = settings.url("/health")
    started = time.monotonic()
    try:
        response = _get(http, "GET", url)
    except OutboundError as exc:
        return Check("fail", "base URL", f"{url} cannot be reached from this machine ({_why(exc)}): is the tool "
                                         "running, and is BASE_URL its public address?")
    elapsed = (time.monotonic() - started) * 1000
    if response.status_code == 200:
        return Check("ok", "base URL", f"{url} answered 200 in {elapsed:.0f} ms")
    moved = _redirect(response, url)
    where = f" (a redirect to {moved}, not followed)" if moved else ""
    return Check("fail", "base URL", f"{url} answered HTTP {response.status_code}{where}")


def registration_checks(services: Services, http: OutboundHTTP, tokens: bool) -> list[Check]:
    with services.read_sessions() as session:
        rows = list(session.scalars(select(Platform).order_by(Platform.id)))
    checks = [Check("warn", f"platform {p.id}", f"{p.name} is {p.status}: launches are refused "
                                                f"(`microcred platform activate {p.id}`)")
              for p in rows if p.status == "pending"]
    cache = TokenCache(http, services.tool_keys) if tokens else None
    for row in (p for p in rows if p.status == "active"):
        checks.append(key_set_check(row, http))
        granted = [s for s in row.granted_scopes.split() if s in TOOL_SCOPES]
        checks.append(token_check(PlatformInfo.of(row), frozenset(granted or TOOL_SCOPES), http, cache))
    if not rows:
        checks.append(Check("warn", "platforms", "no LMS is registered yet (`microcred platform invite` or `add`)"))
    return checks


def key_set_check(row: Platform, http: OutboundHTTP) -> Check:
    name = f"platform {row.id} key set"
    if not row.key_set_url:
        return Check("ok", name, "a key set stored with the registration (nothing to fetch)")
    try:
        response = _get(http, "GET", row.key_set_url)
    except OutboundError as exc:
        return Check("fail", name, f"{row.key_set_url} cannot be reached ({_why(exc)})")
    moved = _redirect(response, row.key_set_url)
    if moved:
        return Check("warn", name, f"{row.key_set_url} redirects to {moved} (not followed here)")
    try:
        keys = parse_key_set(http.json_of(response, row.key_set_url))
    except (OutboundError, ValueError) as exc:
        return Check("fail", name, f"{row.key_set_url}: {exc}")
    if not keys:
        return Check("fail", name, f"{row.key_set_url} answered no RSA signing key")
    return Check("ok", name, f"{row.key_set_url}: {len(keys)} signing key(s)")


def token_check(platform: PlatformInfo, scopes: frozenset[str], http: OutboundHTTP,
                cache: TokenCache | None) -> Check:
    """Reachability (HEAD), or with a cache a real token request for the scopes the LMS granted (else all)."""
    name, url = f"platform {platform.id} token URL", platform.auth_token_url
    if cache is not None:
        try:
            token = cache.get(platform, scopes)
        except ServiceError as exc:
            return Check("fail", f"platform {platform.id} token", str(exc)[:400])
        return Check("ok", f"platform {platform.id} token", f"access token granted for {len(token.scopes)} scope(s)")
    try:
        response = _get(http, "HEAD", url)
    except OutboundError as exc:
        return Check("fail", name, f"{url} cannot be reached ({_why(exc)})")
    moved = _redirect(response, url)
    if moved:
        return Check("warn", name, f"{url} redirects to {moved} (not followed): check the token URL")
    return Check("ok", name, f"{url} answers (HTTP {response.status_code} to HEAD; `--tokens` asks for a token)")


def _why(exc: OutboundError) -> str:
    cause = exc.__cause__
    return type(cause).__name__ if cause is not None else str(exc)[:200]
