"""Request latency and counts per page group: the audience folder a blueprint lives in (public, learner, staff,
lti), or its module for the pages all roles share (home, files). A group per blueprint folder, never per path,
so the label set is fixed by the code; /metrics itself is not counted (a scrape every few seconds would only
hide the pages people use).

The clock starts when the WSGI call reaches the app (before routing and the session lookup, so a refusal
there is timed too) and stops in the last after-request hook; the label children are resolved once per
group, so a request costs two dictionary lookups and two metric updates (a few microseconds)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request

from lti_microcred.core.metrics import REQUEST_SECONDS, REQUESTS

AUDIENCES = ("public", "learner", "staff", "lti")
NOT_COUNTED = "metrics"  # the blueprint of /metrics
STARTED = "microcred.started"  # the WSGI environ key of the request's start


class _Group:
    """The metric children of one page group, resolved once."""

    def __init__(self, name: str) -> None:
        self.seconds = REQUEST_SECONDS.labels(name)
        self.answered = {status: REQUESTS.labels(name, f"{status}xx") for status in (2, 3, 4, 5)}


def install(app: Flask) -> None:
    """Time every request of the app; call once every blueprint is registered."""
    groups = {name: _Group(group_of(blueprint.import_name)) for name, blueprint in app.blueprints.items()
              if name != NOT_COUNTED}
    unrouted, static = _Group("unrouted"), _Group("static")
    inner = app.wsgi_app

    def timed_wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[STARTED] = time.perf_counter()
        return inner(environ, start_response)

    def finished(response: Response) -> Response:
        blueprint = request.blueprint
        if blueprint == NOT_COUNTED:
            return response
        group = groups.get(blueprint) if blueprint else static if request.endpoint == "static" else unrouted
        started = request.environ.get(STARTED)
        if group is not None and started is not None:
            group.seconds.observe(time.perf_counter() - started)
            answered = group.answered.get(response.status_code // 100)
            if answered is not None:
                answered.inc()
        return response

    app.wsgi_app = timed_wsgi_app  # type: ignore[method-assign]
    app.after_request(finished)  # registered before the app's other hooks, so it runs after them


def group_of(import_name: str) -> str:
    """lti_microcred.web.staff.review -> staff; lti_microcred.web.common.files -> files; ...web.home -> home."""
    parts = import_name.split(".")
    return parts[2] if len(parts) > 3 and parts[2] in AUDIENCES else parts[-1]
