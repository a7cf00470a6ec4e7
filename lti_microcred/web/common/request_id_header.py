"""Every request gets an id: a proxy's sane X-Request-Id, else a new one. It is bound for everything the request
logs (core/request_ids.py) and sent back in the X-Request-Id response header, so a user's report or a proxy's
log line leads to the tool's lines."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from lti_microcred.core import request_ids

HEADER = "X-Request-Id"
WSGI_KEY = "HTTP_X_REQUEST_ID"

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RequestIds:
    """WSGI middleware around the whole app, error pages included: binds the id before anything runs and
    resets both ids (request and launch) when the request is answered, so a thread's next request starts clean."""

    def __init__(self, inner: Wsgi) -> None:
        self.inner = inner

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = request_ids.accepted(environ.get(WSGI_KEY)) or request_ids.new_id()

        def with_header(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            headers = [(name, value) for name, value in headers if name.lower() != HEADER.lower()]
            return start_response(status, [*headers, (HEADER, request_id)], *exc_info)

        with request_ids.bound(request_id):
            return self.inner(environ, with_header)
