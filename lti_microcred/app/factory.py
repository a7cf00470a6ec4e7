"""The web app factory: assembles settings, services, blueprints and the delivery thread; nothing else."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from lti_microcred.app.delivery import start_in_process_worker
from lti_microcred.core.config import load_settings
from lti_microcred.services import Services
from lti_microcred.web import register_web
from lti_microcred.web.common.context import NoCookieSession, close_db
from lti_microcred.web.common.errors import redacted_path

WEB = Path(__file__).resolve().parent.parent / "web"


def create_app(config: Mapping[str, Any] | None = None, services: Services | None = None) -> Flask:
    """Assemble the web app from settings (defaults -> file -> env -> `config`)."""
    if services is None:
        services = Services.from_settings(load_settings(config))
    settings = services.settings
    app = Flask("lti_microcred", template_folder=str(WEB / "templates"), static_folder=str(WEB / "static"))
    app.config.update(SECRET_KEY=settings.resolved_secret_key,
                      MAX_CONTENT_LENGTH=settings.upload_max_bytes + 1024 * 1024,  # a file plus its form
                      TEMPLATES_AUTO_RELOAD=False)
    app.session_interface = NoCookieSession()
    app.extensions["microcred"] = services
    logging.getLogger("lti_microcred").setLevel(settings.log_level.upper())
    register_web(app)
    app.teardown_appcontext(close_db)
    start_in_process_worker(app)  # delivery thread, unless worker_in_process = 0 (or in tests)
    _log_redacted_paths_under_uwsgi(app)
    return app


def _log_redacted_paths_under_uwsgi(app: Flask) -> None:
    """Give uWSGI's request log (app/server.py's LOG_FORMAT) the path with its secret hashed, first thing on
    every request, so whatever the app answers (even a crash) is logged without the token."""
    try:
        uwsgi = importlib.import_module("uwsgi")  # exists only inside a uWSGI process
    except ImportError:
        return
    inner = app.wsgi_app

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        uwsgi.set_logvar("mc_path", redacted_path(environ.get("PATH_INFO", "")))
        return inner(environ, start_response)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
