"""lti_microcred: micro-credentials inside Moodle and Canvas, over LTI 1.3."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from flask import Flask

    from lti_microcred.services import Services


def create_app(config: Mapping[str, Any] | None = None, services: Services | None = None) -> Flask:
    """Assemble the web app from settings (defaults -> file -> env -> `config`)."""
    import logging
    from pathlib import Path

    from flask import Flask

    from lti_microcred.config import load_settings
    from lti_microcred.lti.views import bp as lti_bp
    from lti_microcred.requestctx import NoCookieSession, close_db
    from lti_microcred.services import Services
    from lti_microcred.web import register_web

    if services is None:
        services = Services.from_settings(load_settings(config))
    settings = services.settings
    package = Path(__file__).parent
    app = Flask(__name__, template_folder=str(package / "web" / "templates"),
                static_folder=str(package / "web" / "static"))
    app.config.update(SECRET_KEY=settings.resolved_secret_key,
                      MAX_CONTENT_LENGTH=settings.upload_max_bytes + 1024 * 1024,  # a file plus its form
                      TEMPLATES_AUTO_RELOAD=False)
    app.session_interface = NoCookieSession()
    app.extensions["microcred"] = services
    logging.getLogger("lti_microcred").setLevel(settings.log_level.upper())
    app.register_blueprint(lti_bp)
    register_web(app)
    app.teardown_appcontext(close_db)
    from lti_microcred.cli_worker import start_in_process_worker

    start_in_process_worker(app)  # delivery thread, unless worker_in_process = 0 (or in tests)
    return app
