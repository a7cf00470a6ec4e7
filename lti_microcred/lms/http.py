"""Calls to platform services: bearer token, media types, `Link` pagination, errors classified for retries.

Uses the process's one OutboundHTTP: its connection pools (keep-alive), its User-Agent and its timeouts.
Service calls go straight to the pool's urllib3 connection pool rather than through requests' Session
machinery, which costs three times as much CPU per call (0.6 against 0.2 ms measured here): at a thousand
scores a second that is most of a core.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import urllib3
from requests.utils import parse_header_links

from lti_microcred.core.outbound import OutboundError, OutboundHTTP
from lti_microcred.lms.errors import AUTH, PERMANENT, TRANSIENT, ServiceError

MAX_PAGES = 1000
RETRY_STATUSES = frozenset({408, 429})
DETAIL_CHARS = 300  # of an error answer's text, kept to show to people
# A throttle that names no Retry-After (Canvas's 403, a bare 429): the platform waits this long. Canvas's
# leaky bucket drains 10 units a second below its 600-unit mark (app/middleware/request_throttle.rb).
THROTTLE_PAUSE_SECONDS = 10.0
# Canvas reports what is left of the bucket on every answer (X-Rate-Limit-Remaining); below this we slow down
# before it refuses, waiting for it to drain by as much as we are below, at its 10 units a second, at most
# PACE_MAX_SECONDS per call.
PACE_BELOW = 100.0
PACE_DRAIN_PER_SECOND = 10.0
PACE_MAX_SECONDS = 5.0


def service_url(resource_url: str, suffix: str) -> str:
    """`…/lineitem?type_id=3` + "scores" -> `…/lineitem/scores?type_id=3` (Moodle): append to the path only."""
    parts = urlsplit(resource_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + suffix))


def with_query(url: str, params: dict[str, Any]) -> str:
    """Add filters to a URL that may already carry a query (Moodle's `?type_id=`), keeping what is there."""
    wanted = {k: str(v) for k, v in params.items() if v is not None}
    if not wanted:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in wanted]
    return urlunsplit(parts._replace(query=urlencode(query + list(wanted.items()))))


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Answer:
    """What a platform answered: the parts of an HTTP response the services read."""

    __slots__ = ("content", "headers", "status_code", "url")

    def __init__(self, status_code: int, headers: Any, content: bytes, url: str) -> None:
        self.status_code, self.headers, self.content, self.url = status_code, headers, content, url

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def links(self) -> dict[str, dict[str, str]]:
        """`Link` header by rel, like requests (the header name in any case; URLs exactly as sent)."""
        found: dict[str, dict[str, str]] = {}
        for link in parse_header_links(self.headers.get("Link", "")):
            found.setdefault(link.get("rel") or link.get("url", ""), link)
        return found


def said(response: Answer | requests.Response) -> str:
    """The platform's own words in an error answer: a JSON error's message if it has one, else its text."""
    if not response.content:
        return ""
    text = response.text[:20 * DETAIL_CHARS]
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        found = next((body[k] for k in ("error_description", "error", "message", "reason", "errors") if body.get(k)),
                     body)
        text = found if isinstance(found, str) else json.dumps(found, separators=(",", ":"))
    return " ".join(text.split())[:DETAIL_CHARS]


def is_throttle(response: Answer | requests.Response) -> bool:
    """429, or Canvas's throttle: 403 "403 Forbidden (Rate Limit Exceeded)" with X-Rate-Limit-Remaining 0
    and no Retry-After (app/middleware/request_throttle.rb, `rate_limit_exceeded`)."""
    if response.status_code == 429:
        return True
    return response.status_code == 403 and b"Rate Limit Exceeded" in (response.content or b"")[:200]


def classify(response: Answer | requests.Response, method: str, url: str) -> ServiceError:
    """401 -> auth; a throttle -> transient, pausing the platform (Retry-After, else THROTTLE_PAUSE_SECONDS);
    408/5xx -> transient (with Retry-After); any other 4xx -> permanent."""
    status = response.status_code
    detail = said(response)
    message = f"{method} {url} answered HTTP {status}" + (f": {detail}" if detail else "")
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    if status == 401:
        return ServiceError(message, AUTH, status, detail=detail)
    if is_throttle(response):
        return ServiceError(message, TRANSIENT, status, retry_after or THROTTLE_PAUSE_SECONDS, detail, throttled=True)
    if status in RETRY_STATUSES or status >= 500:
        return ServiceError(message, TRANSIENT, status, retry_after, detail)
    return ServiceError(message, PERMANENT, status, detail=detail)


def pace_seconds(remaining_header: str | None) -> float:
    """How long to wait before the next call to a platform that says this much of its budget is left."""
    try:
        remaining = float(remaining_header) if remaining_header is not None else PACE_BELOW
    except ValueError:
        return 0.0
    if remaining != remaining or remaining >= PACE_BELOW:  # NaN or plenty
        return 0.0
    return min(PACE_MAX_SECONDS, (PACE_BELOW - max(remaining, 0.0)) / PACE_DRAIN_PER_SECOND)


class PlatformHTTP:
    """Bearer-authenticated JSON calls to one platform's services."""

    def __init__(self, outbound: OutboundHTTP) -> None:
        self.outbound = outbound
        connect, read = outbound.timeout
        self._timeout = urllib3.Timeout(connect=connect, read=read)
        self._pools: dict[str, Any] = {}
        self._pace_until: dict[str, float] = {}  # origin -> monotonic time before which we hold back

    def _pool(self, url: str) -> Any:
        """The requests adapter's own pool for this origin (same connections, same limits); None behind a proxy."""
        key = "/".join(url.split("/", 3)[:3])
        if key not in self._pools:
            session = self.outbound.session
            proxied = session.trust_env and bool(requests.utils.get_environ_proxies(url))
            adapter: Any = session.get_adapter(url)
            self._pools[key] = None if proxied else adapter.poolmanager.connection_from_url(url)
        return self._pools[key]

    def _through_requests(self, method: str, url: str, headers: dict[str, Any], data: bytes | None) -> Answer:
        try:
            response = self.outbound.request(method, url, headers=headers, data=data, allow_redirects=False)
        except OutboundError as exc:
            raise ServiceError(str(exc), TRANSIENT) from exc
        return Answer(response.status_code, response.headers, response.content, url)

    def call(self, method: str, url: str, token: str, *, accept: str | None = None, body: Any = None,
             content_type: str | None = None) -> Answer:
        headers = {**self.outbound.session.headers, "Authorization": f"Bearer {token}"}
        if accept:
            headers["Accept"] = accept
        data = None
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
            data = json.dumps(body, separators=(",", ":")).encode()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ServiceError(f"not a service URL: {url!r}", PERMANENT)
        origin = f"{parts.scheme}://{parts.netloc}"
        self._pace(origin)
        pool = self._pool(url)
        if pool is None:
            answer = self._through_requests(method, url, headers, data)
        else:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                raw = pool.urlopen(method, target, body=data, headers=headers, timeout=self._timeout,
                                   retries=False, redirect=False, assert_same_host=False)
            except (urllib3.exceptions.HTTPError, OSError) as exc:  # refused, reset, timed out, dropped
                raise ServiceError(f"{method} {url} failed: {exc.__class__.__name__}: {exc}", TRANSIENT) from exc
            answer = Answer(raw.status, raw.headers, raw.data, url)
        if wait := pace_seconds(answer.headers.get("X-Rate-Limit-Remaining")):
            self._pace_until[origin] = time.monotonic() + wait
        if not 200 <= answer.status_code < 300:
            raise classify(answer, method, url)
        return answer

    def _pace(self, origin: str) -> None:
        """Hold this call back while the platform's rate budget refills (see pace_seconds)."""
        left = self._pace_until.get(origin, 0.0) - time.monotonic()
        if left > 0:
            time.sleep(min(left, PACE_MAX_SECONDS))

    def json(self, response: Answer, url: str) -> Any:
        try:
            return self.outbound.json_of(response, url)  # type: ignore[arg-type]
        except OutboundError as exc:
            raise ServiceError(str(exc), TRANSIENT, response.status_code) from exc

    def pages(self, url: str, token: str, accept: str) -> Iterator[Any]:
        """Every page's JSON body, following `Link: <…>; rel="next"` (header name in any case, URL as given)."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url and next_url not in seen and len(seen) < MAX_PAGES:
            seen.add(next_url)
            response = self.call("GET", next_url, token, accept=accept)
            yield self.json(response, next_url)
            next_url = response.links.get("next", {}).get("url")
