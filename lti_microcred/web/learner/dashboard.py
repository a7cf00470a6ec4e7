"""The learner's pages: progress per micro-credential and competency, evidence, prior learning, workplace.

Every query here is keyed by the session's own user id: a learner reaches nothing of anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template, url_for
from sqlalchemy import bindparam, case, select
from werkzeug.wrappers import Response

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import MicroCredential
from lti_microcred.core.storage import StorageError
from lti_microcred.lti.roles import LEARNER
from lti_microcred.web.common import scoped
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.progress import learner_progress
from lti_microcred.web.common.uploads import with_upload
from lti_microcred.web.common.views_support import actor, course_id, notice, see_other, text, whole_or_none

bp = session_blueprint("learner", __name__, "/me")
FORMS = ("evidence", "prior", "workplace")
# The landing page's query, built once (it runs on every launch); the launch's own credential comes first.
_PUBLISHED = (select(MicroCredential)
              .where(MicroCredential.context_id == bindparam("context_id"),
                     MicroCredential.platform_id == bindparam("platform_id"), MicroCredential.status == "published")
              .order_by(case((MicroCredential.id == bindparam("first"), 0), else_=1), MicroCredential.title,
                        MicroCredential.id))


@dataclass(frozen=True)
class FormProblem:
    """A refused form, shown next to the form it came from, with what the learner typed."""

    form: str
    credential_key: str
    competency_id: int | None
    message: str
    values: dict[str, str] = field(default_factory=dict)

    def is_for(self, form: str, credential_key: str, competency_id: int) -> bool:
        return (self.form, self.credential_key, self.competency_id) == (form, credential_key, competency_id)


def dashboard(problem: FormProblem | None = None) -> str:
    """The learner's landing page; the launch's module (if any) puts its credential first."""
    s, session = current_session(), db()
    module = ops.module_by_key(session, course_id(), s.module_key) if s.module_key else None
    first = module.micro_credential_id if module is not None else None
    credentials = list(session.scalars(_PUBLISHED, {"context_id": course_id(), "platform_id": s.platform_id,
                                                    "first": first}))
    views = learner_progress(session, course_id(), s.user_id, credentials)
    return render_template("learner/dashboard.html", s=s, module=module, views=views, problem=problem,
                           notice=notice(), max_megabytes=services().settings.upload_max_bytes / (1024 * 1024))


@bp.route("/evidence", methods=["POST"])
@requires_role(LEARNER)
def submit() -> Response | tuple[str, int]:
    credential, competency_id = _target()
    values = {"title": text("title", 200), "text": text("text"), "url": text("url", 2048)}
    try:
        with_upload(lambda file: _commit(ops.submit_evidence(
            db(), actor(), competency_id, values["title"], values["text"], values["url"], file, credential)))
    except (ops.DomainError, StorageError) as exc:
        return _refused("evidence", credential.key, competency_id, exc, values)
    return see_other("session.entry", "submitted", anchor=f"comp-{credential.key}-{competency_id}")


@bp.route("/prior-learning", methods=["POST"])
@requires_role(LEARNER)
def claim() -> Response | tuple[str, int]:
    credential, competency_id = _target()
    values = {"description": text("description"), "url": text("url", 2048)}
    try:
        with_upload(lambda file: _commit(ops.claim_prior_learning(
            db(), actor(), competency_id, values["description"], file, values["url"])))
    except (ops.DomainError, StorageError) as exc:
        return _refused("prior", credential.key, competency_id, exc, values)
    return see_other("session.entry", "claimed", anchor=f"comp-{credential.key}-{competency_id}")


@bp.route("/workplace", methods=["POST"])
@requires_role(LEARNER)
def workplace() -> str | tuple[str, int]:
    """Workplace evidence: we cannot send e-mail, so the learner gets the supervisor's link to pass on."""
    credential, competency_id = _target()
    values = {"description": text("description"), "supervisor_name": text("supervisor_name", 200),
              "supervisor_email": text("supervisor_email", 320)}
    try:
        evidence, token = ops.request_attestation(db(), actor(), current_session().user_id, competency_id,
                                                  values["description"], values["supervisor_name"],
                                                  values["supervisor_email"])
        db().commit()
    except ops.DomainError as exc:
        return _refused("workplace", credential.key, competency_id, exc, values)
    link = services().settings.url(url_for("attest.answer", token=token))
    return render_template("learner/attestation_link.html", s=current_session(), evidence=evidence, link=link,
                           credential=credential, competency_id=competency_id)


def _target() -> tuple[MicroCredential, int]:
    """The published credential of the course and one of its competencies the form names (404 otherwise)."""
    credential = scoped.published_credential(db(), current_session(), text("credential", 32))
    competency = scoped.required_competency(db(), credential, whole_or_none(text("competency", 12)))
    return credential, competency.id


def _commit(result: object) -> object:
    db().commit()
    return result


def _refused(form: str, credential_key: str, competency_id: int, exc: Exception,
             values: dict[str, str]) -> tuple[str, int]:
    db().rollback()
    return dashboard(FormProblem(form, credential_key, competency_id, str(exc), values)), 422
