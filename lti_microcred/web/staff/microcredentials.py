"""Defining a micro-credential: create and edit its EU Annex I description, see its structure, publish it."""

from __future__ import annotations

from collections.abc import Callable

from flask import render_template, request
from werkzeug.wrappers import Response

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.credential_fields import PARTICIPATION_FORMS, PATHWAY_RULES
from lti_microcred.competencies.models import MicroCredential
from lti_microcred.web.common import scoped
from lti_microcred.web.common.context import db
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.views_support import BUILDERS, REVIEWERS, actor, notice, see_other
from lti_microcred.web.staff.microcredential_form import ParsedForm, parse, values_of
from lti_microcred.web.staff.microcredential_structure import structure

bp = session_blueprint("credentials", __name__, "/credentials")
STATUS_CHANGES = {"published", "archived", "draft"}


@bp.route("/new", methods=["GET"])
@requires_role(*BUILDERS)
def new() -> str:
    kind = "pathway" if request.args.get("kind") == "pathway" else "standard"
    return _form(None, {**values_of(None), "kind": kind}, {})


@bp.route("/", methods=["POST"])
@requires_role(*BUILDERS)
def create() -> Response | tuple[str, int]:
    parsed = parse(request.form, "pathway" if request.form.get("kind") == "pathway" else "standard")
    if parsed.problems:
        return _form(None, parsed.values, parsed.problems), 422
    credential = _saved(parsed, lambda: ops.create_micro_credential(db(), actor(), parsed.fields))
    if credential is None:
        return _form(None, parsed.values, parsed.problems), 422
    return see_other("credentials.show", "created", key=credential.key)


@bp.route("/<key>", methods=["GET"])
@requires_role(*REVIEWERS)
def show(key: str) -> str:
    credential = scoped.credential(db(), current_session(), key)
    return render_template("staff/microcredential.html", s=current_session(), c=credential, notice=notice(),
                           error=None, may_build=current_session().role in BUILDERS,
                           **structure(db(), current_session(), credential, request.args.get("q", "")))


@bp.route("/<key>/edit", methods=["GET"])
@requires_role(*BUILDERS)
def edit(key: str) -> str:
    credential = scoped.credential(db(), current_session(), key)
    return _form(credential, values_of(credential), {})


@bp.route("/<key>/edit", methods=["POST"])
@requires_role(*BUILDERS)
def update(key: str) -> Response | tuple[str, int]:
    credential = scoped.credential(db(), current_session(), key)
    parsed = parse(request.form, credential.kind)
    if parsed.problems or _saved(parsed, lambda: ops.update_micro_credential(
            db(), actor(), credential, parsed.fields)) is None:
        return _form(credential, parsed.values, parsed.problems), 422
    return see_other("credentials.show", "saved", key=credential.key)


@bp.route("/<key>/status", methods=["POST"])
@requires_role(*BUILDERS)
def status(key: str) -> Response | tuple[str, int]:
    """Publishing evaluates everyone with evidence (in the domain), so earlier evidence counts at once."""
    session, credential = db(), scoped.credential(db(), current_session(), key)
    wanted = request.form.get("status", "")
    try:
        ops.set_status(session, actor(), credential, wanted if wanted in STATUS_CHANGES else "?")
        session.commit()
    except ops.DomainError as exc:
        session.rollback()
        return render_template("staff/microcredential.html", s=current_session(), c=credential, notice=None,
                               error=str(exc), may_build=True, **structure(session, current_session(), credential,
                                                                           "")), 422
    return see_other("credentials.show", wanted, key=credential.key)


def _saved(parsed: ParsedForm, save: Callable[[], MicroCredential]) -> MicroCredential | None:
    """Run the create/update verb and commit; the domain's per-field problems land in `parsed.problems`."""
    session = db()
    try:
        credential = save()
        session.commit()
    except ops.DefinitionError as exc:
        session.rollback()
        parsed.problems.update(exc.problems)
        return None
    return credential


def _form(credential: MicroCredential | None, values: dict[str, str], problems: dict[str, str]) -> str:
    return render_template("staff/microcredential_form.html", s=current_session(), c=credential, v=values,
                           problems=problems, forms=PARTICIPATION_FORMS, rules=PATHWAY_RULES)
