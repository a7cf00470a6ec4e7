"""The one HTTP client for calls to platforms: timeouts, a User-Agent, pooled keep-alive connections."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import requests
from requests.adapters import HTTPAdapter

MAX_JSON_BYTES = 2 * 1024 * 1024


def tool_version() -> str:
    try:
        return metadata.version("lti-microcred")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "dev"


class OutboundError(Exception):
    """A platform service could not be reached or answered something unusable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class OutboundHTTP:
    """Shared by every thread of a process; requests' connection pool is thread-safe."""

    def __init__(self, base_url: str, connect_timeout: float, read_timeout: float, pool_size: int = 20) -> None:
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        # Canvas answers 403 to API calls without a User-Agent.
        self.session.headers["User-Agent"] = f"lti-microcred/{tool_version()} (+{base_url})"
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        try:
            return self.session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise OutboundError(f"{method} {url} failed: {exc.__class__.__name__}: {exc}") from exc

    def get_json(self, url: str, **kwargs: Any) -> Any:
        """GET a JSON document, refusing non-2xx answers and bodies over MAX_JSON_BYTES."""
        response = self.request("GET", url, **kwargs)
        return self.json_of(response, url)

    def json_of(self, response: requests.Response, url: str) -> Any:
        if not 200 <= response.status_code < 300:
            raise OutboundError(f"{url} answered HTTP {response.status_code}", response.status_code)
        if len(response.content) > MAX_JSON_BYTES:
            raise OutboundError(f"{url} answered more than {MAX_JSON_BYTES} bytes")
        try:
            return response.json()
        except ValueError as exc:
            raise OutboundError(f"{url} did not answer JSON") from exc
