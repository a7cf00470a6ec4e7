"""The web app factory: assembles settings, services, blueprints and the delivery thread; nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from lti_microcred.app.delivery import start_in_process_worker
from lti_microcred.app.request_log import feed_uwsgi_request_log
from lti_microcred.core.config import load_settings
from lti_microcred.core.logs import configure_logging
from lti_microcred.core.metrics_exposition import mark_dead_at_exit
from lti_microcred.services import Services
from lti_microcred.web import register_web
from lti_microcred.web.common.context import NoCookieSession, close_db
from lti_microcred.web.common.request_id_header import RequestIds

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
    configure_logging(settings)  # text or JSON lines, with the request and launch ids
    register_web(app)
    app.teardown_appcontext(close_db)
    start_in_process_worker(app)  # delivery thread, unless worker_in_process = 0 (or in tests)
    mark_dead_at_exit()  # under `microcred run`: the process's metrics files are tidied when it ends
    feed_uwsgi_request_log(app, settings.log_format)  # uWSGI's request log: redacted path, time, ids
    app.wsgi_app = RequestIds(app.wsgi_app)  # type: ignore[method-assign]  # outermost: binds the request id
    return app

