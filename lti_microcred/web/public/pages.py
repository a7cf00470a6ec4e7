"""Pages anyone may open: the tool's front page (URLs for LMS admins) and health."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template
from sqlalchemy import text

from lti_microcred.core.migrate import current_revision, head_revision, schema_state
from lti_microcred.lti.canvas_config import canvas_config
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import refuse_nul_in_address

bp = Blueprint("public", __name__)
# For every request of the app, not only this blueprint's, and before any session is looked up.
bp.app_url_value_preprocessor(refuse_nul_in_address)


@bp.route("/")
def index() -> str:
    settings = services().settings
    urls = {
        "Registration URL (LTI Dynamic Registration)": settings.url("/lti/register"),
        "Login initiation URL": settings.url("/lti/login"),
        "Launch / redirection URL": settings.url("/lti/launch"),
        "Public keyset URL (JWKS)": settings.url("/lti/jwks"),
        "Canvas developer-key JSON": settings.url("/lti/config.json"),
    }
    return render_template("public/index.html", urls=urls, settings=settings,
                           canvas=canvas_config(settings.base_url, settings.tool_name))


@bp.route("/health")
def health() -> tuple[Response, int]:
    """Liveness: the process answers and reaches its database (one cheap statement)."""
    try:
        db().execute(text("SELECT 1"))
        return jsonify(status="ok", database="ok"), 200
    except Exception as exc:
        return jsonify(status="error", database=exc.__class__.__name__), 503



@bp.route("/ready")
def ready() -> tuple[Response, int]:
    """Readiness, for a load balancer or an orchestrator: 503 while the database is unreachable or behind the
    schema this code needs (a deploy whose migrations have not run yet), with the reason. A schema a newer
    release has migrated stays ready, so old processes serve until they are replaced."""
    try:
        revision = current_revision(db().connection())
    except Exception as exc:
        return jsonify(status="error", database=exc.__class__.__name__), 503
    state = schema_state(revision)
    if state == "behind":
        return jsonify(status="error", database="not migrated", schema=revision, needs=head_revision()), 503
    return jsonify(status="ok", database="ok", schema=revision, code=head_revision(), state=state), 200
