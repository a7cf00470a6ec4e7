"""What a micro-credential is made of: its modules, the requirements mapping modules to competencies, and
(for a pathway) its component credentials. Each POST is one domain verb and one commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template, request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.credential_reevaluation import reevaluation_pending
from lti_microcred.competencies.definitions import components_of
from lti_microcred.competencies.models import Competency, MicroCredential, Module, Requirement
from lti_microcred.competencies.rules import EVIDENCE_COUNT, RUBRIC, RUBRIC_LEVELS, SCORE
from lti_microcred.lti.models import Context
from lti_microcred.lti.sessions import ToolSession
from lti_microcred.web.common import scoped
from lti_microcred.web.common.context import db
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.progress import requirement_text
from lti_microcred.web.common.views_support import (
    BUILDERS,
    MAX_ID,
    RecordNotFound,
    actor,
    course_id,
    decimal,
    see_other,
    text,
    whole_or_none,
)
from lti_microcred.web.staff.audit_lines import audit_lines
from lti_microcred.web.staff.competency_picker import competency_choices
from lti_microcred.web.staff.course_queries import CREDENTIAL_AUDIT_LIMIT, credential_audit

bp = session_blueprint("structure", __name__, "/credentials")
KINDS = {SCORE: "Score in the module (%)", RUBRIC: "Rubric level from an assessor",
         EVIDENCE_COUNT: "Accepted pieces of evidence"}
COUNTABLE = {"submission": "Submitted by the learner", "workplace": "Confirmed by a workplace supervisor"}


def structure(session: Session, s: ToolSession, credential: MicroCredential, search: str) -> dict[str, Any]:
    """Everything the credential page shows besides the credential itself."""
    modules = list(session.scalars(select(Module).where(Module.context_id == credential.context_id)
                                   .order_by(Module.position, Module.id)))
    rows = session.execute(select(Requirement, Competency).join(Competency, Competency.id == Requirement.competency_id)
                           .where(Requirement.micro_credential_id == credential.id).order_by(Requirement.id)).all()
    titles = {m.id: m.title for m in modules}
    return {
        "modules": [m for m in modules if m.micro_credential_id == credential.id],
        "other_modules": [m for m in modules if m.micro_credential_id is None],  # a module serves one credential
        "requirements": [(r, c, requirement_text(r, titles)) for r, c in rows],
        "choices": competency_choices(session, s.platform_id, search) if credential.kind == "standard" else [],
        "q": search, "kinds": KINDS, "levels": RUBRIC_LEVELS, "countable": COUNTABLE,
        "components": components_of(session, credential.id) if credential.kind == "pathway" else [],
        "candidates": _candidates(session, credential) if credential.kind == "pathway" else [],
        "reevaluating": reevaluation_pending(session, credential.id),
        "audit": audit_lines(session, credential_audit(session, credential)), "audit_limit": CREDENTIAL_AUDIT_LIMIT,
    }


def _candidates(session: Session, pathway: MicroCredential) -> list[tuple[MicroCredential, str]]:
    """Credentials a pathway may stack: this course's, and published ones of the institution's other courses."""
    return [(c, title or "") for c, title in session.execute(
        select(MicroCredential, Context.title).join(Context, Context.id == MicroCredential.context_id)
        .where(MicroCredential.platform_id == pathway.platform_id, MicroCredential.id != pathway.id,
               or_(MicroCredential.context_id == pathway.context_id, MicroCredential.status == "published"))
        .order_by(MicroCredential.context_id != pathway.context_id, Context.title, MicroCredential.title))]


@bp.route("/<key>/modules", methods=["POST"])
@requires_role(*BUILDERS)
def add_module(key: str) -> Response | tuple[str, int]:
    credential = scoped.credential(db(), current_session(), key)
    return _apply(credential, "module", "modules", lambda: ops.create_module(
        db(), course_id(), text("title", 200), _points(), micro_credential_id=credential.id))


@bp.route("/<key>/modules/attach", methods=["POST"])
@requires_role(*BUILDERS)
def attach(key: str) -> Response | tuple[str, int]:
    credential = scoped.credential(db(), current_session(), key)
    module = scoped.module(db(), text("module", 32))
    return _apply(credential, "module", "modules", lambda: ops.attach_module(db(), actor(), credential, module))


@bp.route("/<key>/requirements", methods=["POST"])
@requires_role(*BUILDERS)
def set_requirement(key: str) -> Response | tuple[str, int]:
    credential = scoped.credential(db(), current_session(), key)
    module = scoped.module(db(), text("module", 32))
    kind = text("kind", 16)
    return _apply(credential, "requirement", "requirements", lambda: ops.set_requirement(
        db(), actor(), credential, module, whole_or_none(text("competency", 12)) or 0, kind, _threshold(kind),
        [k for k in request.form.getlist("evidence_kinds") if k in COUNTABLE]))


@bp.route("/<key>/requirements/<int:requirement_id>/remove", methods=["POST"])
@requires_role(*BUILDERS)
def remove_requirement(key: str, requirement_id: int) -> Response | tuple[str, int]:
    credential = scoped.credential(db(), current_session(), key)
    if requirement_id > MAX_ID:
        raise RecordNotFound(f"no requirement {requirement_id}")
    return _apply(credential, "requirement_removed", "requirements", lambda: ops.remove_requirement(
        db(), actor(), credential, requirement_id))


@bp.route("/<key>/components", methods=["POST"])
@requires_role(*BUILDERS)
def set_components(key: str) -> Response | tuple[str, int]:
    credential = scoped.credential(db(), current_session(), key)
    ids = {i for raw in request.form.getlist("component")[:200] if (i := whole_or_none(raw))}
    return _apply(credential, "components", "components",
                  lambda: ops.set_pathway_components(db(), actor(), credential, ids))


def _apply(credential: MicroCredential, done: str, anchor: str,
           change: Callable[[], object]) -> Response | tuple[str, int]:
    """One change (the domain re-evaluates a published credential) and one commit."""
    session = db()
    try:
        change()
        session.commit()
    except (ops.DomainError, ValueError) as exc:
        session.rollback()
        return render_template("staff/microcredential.html", s=current_session(), c=credential, notice=None,
                               error=str(exc) if isinstance(exc, ops.DomainError) else "Give a number.",
                               may_build=True, **structure(session, current_session(), credential, "")), 422
    return see_other("credentials.show", done, key=credential.key, anchor=anchor)


def _points() -> float:
    value = decimal(request.form.get("points") or "100")
    return 100.0 if value is None else value


def _threshold(kind: str) -> float | None:
    field = {SCORE: "min_percent", RUBRIC: "min_level", EVIDENCE_COUNT: "min_count"}.get(kind)
    return decimal(request.form.get(field)) if field else None
