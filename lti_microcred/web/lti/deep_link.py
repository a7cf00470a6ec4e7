"""Deep Linking picker: the instructor chooses (or creates) modules to place in the course; placing one that is
in the course already needs a second, explicit choice (its second gradebook column would stay empty)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from lti_microcred.competencies.models import Module
from lti_microcred.competencies.operations import DomainError, create_module, module_by_key, modules_of_context
from lti_microcred.lti.deep_linking import PlacedItem, build_response, settings_of
from lti_microcred.lti.errors import InvalidClaim
from lti_microcred.lti.persistence import MODULE_PARAM
from lti_microcred.lti.roles import ADMIN, INSTRUCTOR
from lti_microcred.web.common import scoped
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.scoped import credentials_of_course
from lti_microcred.web.common.views_support import actor
from lti_microcred.web.lti.placed_modules import placements, record_placements

bp = session_blueprint("deep_link", __name__, "/deep-link")
MAX_ITEMS = 50


@bp.route("/", methods=["GET"])
@requires_role(INSTRUCTOR, ADMIN)
def picker() -> str:
    s = current_session()
    settings_of(s.claims)
    return _picker(s.context_id, None, {})


@bp.route("/", methods=["POST"])
@requires_role(INSTRUCTOR, ADMIN)
def place() -> tuple[str, int] | str:
    s = current_session()
    dl_settings = settings_of(s.claims)
    if s.context_id is None:
        raise InvalidClaim("Deep Linking outside a course: the LMS sent no context claim")
    session = db()
    chosen = request.form.getlist("module")[:MAX_ITEMS]
    form: dict[str, Any] = {"new_title": request.form.get("new_title", "").strip(), "chosen": chosen,
                            "new_points": request.form.get("new_points", ""),
                            "new_credential": request.form.get("new_credential", "")}
    modules = [m for key in chosen if (m := module_by_key(session, s.context_id, key)) is not None]
    again = [m for m in modules if m.key in placements(session, s.context_id)]
    if again and request.form.get("place_again") != "yes":
        return _picker(s.context_id, None, form, again), 422
    try:
        title = form["new_title"]
        if title:
            modules.append(create_module(session, s.context_id, title, _points(request.form.get("new_points")),
                                         micro_credential_id=_credential_id(request.form.get("new_credential"))))
        if not modules:
            raise DomainError("Choose at least one module, or give a title for a new one.")
        if len(modules) > 1 and dl_settings.get("accept_multiple") in (False, "false"):
            raise DomainError("This LMS accepts one item at a time: choose a single module.")
    except DomainError as exc:
        session.rollback()
        return _picker(s.context_id, str(exc), form), 422
    launch_url = services().settings.url("/lti/launch")
    items = [PlacedItem(title=m.title, url=launch_url, custom={MODULE_PARAM: m.key}, score_maximum=m.score_maximum,
                        resource_id=m.key, tag="microcred-module") for m in modules]
    platform = services().registry.platform(s.platform_id)
    assert platform is not None
    response = build_response(platform, s.lti_deployment_id, s.claims, items, services().tool_keys.signing_key())
    record_placements(session, actor(), modules)
    session.commit()
    return render_template("lti/deep_link_return.html", response=response, count=len(items))


def _picker(context_id: int | None, error: str | None, form: dict[str, Any],
            again: list[Module] | None = None) -> str:
    """Modules grouped by micro-credential (those in none last), each placed one marked; a new module may join a
    credential. `again`: the chosen modules that are placed already, to ask about."""
    credentials = credentials_of_course(db(), current_session().platform_id, context_id) if context_id else []
    modules = modules_of_context(db(), context_id) if context_id else []
    groups = [(c, [m for m in modules if m.micro_credential_id == c.id]) for c in credentials]
    loose = [m for m in modules if m.micro_credential_id not in {c.id for c in credentials}]
    return render_template("lti/deep_link_picker.html", s=current_session(), modules=modules, error=error, form=form,
                           groups=[g for g in groups if g[1]], loose=loose, credentials=credentials, again=again or [],
                           placed=placements(db(), context_id) if context_id else {})


def _credential_id(key: str | None) -> int | None:
    """The chosen credential of this course for a new module; none chosen means a module on its own."""
    if not key:
        return None
    return scoped.credential(db(), current_session(), key).id


def _points(raw: str | None) -> float:
    try:
        return float(raw) if raw else 100.0
    except ValueError as exc:
        raise DomainError("Maximum points must be a number.") from exc
