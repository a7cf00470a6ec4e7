"""What the app hands uWSGI's request log (app/server.py's LOG_FORMAT and JSON_LOG_FORMAT) as request variables.

Paths carry secrets (a session token in /s/<token>/…), so the log never takes uWSGI's own %(uri): the app gives
the path with its secret hashed (`mc_path`), first thing on every request, so whatever the app answers (even a
crash) is logged without the token. For JSON lines it also gives the time, method and ids, escaped for a JSON
string, since uWSGI substitutes variables as they are.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from lti_microcred.core import request_ids
from lti_microcred.core.logs import iso_utc
from lti_microcred.web.common.errors import redacted_path

# uWSGI keeps a request variable's length in one byte: longer values would wrap around, not be cut.
MAX_LOGVAR_BYTES = 255


def logvar(value: str, json_string: bool) -> str:
    """The value as a request variable: escaped for a JSON string if asked (ASCII only, so bytes = characters),
    and cut at whole characters to fit uWSGI's limit, never inside an escape."""
    pieces = (json.dumps(c)[1:-1] for c in value) if json_string else iter(value)
    kept: list[str] = []
    size = 0
    for piece in pieces:
        size += len(piece.encode("utf-8"))
        if size > MAX_LOGVAR_BYTES:
            break
        kept.append(piece)
    return "".join(kept)


def feed_uwsgi_request_log(app: Flask, log_format: str) -> None:
    """Set the request variables on every request when running inside uWSGI; nothing elsewhere."""
    try:
        uwsgi = importlib.import_module("uwsgi")  # exists only inside a uWSGI process
    except ImportError:
        return
    inner = app.wsgi_app
    as_json = log_format == "json"

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        uwsgi.set_logvar("mc_path", logvar(redacted_path(environ.get("PATH_INFO", "")), as_json))
        if not as_json:
            return inner(environ, start_response)
        uwsgi.set_logvar("mc_time", iso_utc(time.time()))
        uwsgi.set_logvar("mc_method", logvar(environ.get("REQUEST_METHOD", ""), True))
        uwsgi.set_logvar("mc_request_id", request_ids.current() or "")
        try:
            return inner(environ, start_response)
        finally:  # known once a view opened a launched session (or was the launch)
            uwsgi.set_logvar("mc_launch_id", request_ids.current_launch() or "")

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
