"""The learner's pages: progress per micro-credential and competency, evidence, prior learning, workplace.

Every query here is keyed by the session's own user id: a learner reaches nothing of anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template, request, url_for
from sqlalchemy import bindparam, case, select
from werkzeug.wrappers import Response

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import MicroCredential, Module
from lti_microcred.core.storage import StorageError
from lti_microcred.lti.roles import LEARNER
from lti_microcred.web.common import scoped
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.progress import CompetencyView, CredentialView, learner_progress
from lti_microcred.web.common.uploads import with_upload
from lti_microcred.web.common.views_support import actor, course_id, notice, see_other, text, whole_or_none
from lti_microcred.web.learner import tasks

bp = session_blueprint("learner", __name__, "/me")
FORMS = ("evidence", "prior", "workplace")
FIRST_FIELD = {"evidence": "text", "prior": "description", "workplace": "description"}
# The landing page's query, built once (it runs on every launch); the launch's own credential comes first.
_PUBLISHED = (select(MicroCredential)
              .where(MicroCredential.context_id == bindparam("context_id"),
                     MicroCredential.platform_id == bindparam("platform_id"), MicroCredential.status == "published")
              .order_by(case((MicroCredential.id == bindparam("first"), 0), else_=1), MicroCredential.title,
                        MicroCredential.id))


@dataclass(frozen=True)
class FormProblem:
    """A refused form: summarised at the top of the page, shown beside the field it concerns, with what the
    learner typed kept."""

    form: str
    credential_key: str
    competency_id: int | None
    message: str
    values: dict[str, str] = field(default_factory=dict)
    field_name: str = ""

    def is_for(self, form: str, credential_key: str, competency_id: int) -> bool:
        return (self.form, self.credential_key, self.competency_id) == (form, credential_key, competency_id)

    @property
    def field_id(self) -> str:
        """The id of the field in error (the template builds its fields' ids the same way)."""
        return f"{self.form}-{self.field_name}-{self.credential_key}-{self.competency_id}"


@dataclass(frozen=True)
class ModuleTasks:
    """The launch's module: its micro-credential and the competencies its requirements name."""

    module: Module
    view: CredentialView | None
    competencies: list[CompetencyView]


def dashboard(problem: FormProblem | None = None) -> str:
    """The learner's landing page; a launch from a module opens with that module's tasks."""
    s, session = current_session(), db()
    module = ops.module_by_key(session, course_id(), s.module_key) if s.module_key else None
    first = module.micro_credential_id if module is not None else None
    credentials = list(session.scalars(_PUBLISHED, {"context_id": course_id(), "platform_id": s.platform_id,
                                                    "first": first}))
    views = learner_progress(session, course_id(), s.user_id, credentials)
    return render_template("learner/dashboard.html", s=s, module=module, views=views, problem=problem,
                           this_module=module_tasks(module, views) if module is not None else None, tasks=tasks,
                           notice=notice(), about=_about(views), max_bytes=services().settings.upload_max_bytes)


def _about(views: list[CredentialView]) -> tuple[CredentialView, CompetencyView] | None:
    """The competency a notice is about ("?about=<credential key>-<competency id>"), to link to it."""
    key, _, competency = request.args.get("about", "")[:60].partition("-")
    return next(((v, c) for v in views if v.credential.key == key for c in v.competencies
                 if str(c.competency.id) == competency), None)


def module_tasks(module: Module, views: list[CredentialView]) -> ModuleTasks:
    view = next((v for v in views if v.credential.id == module.micro_credential_id), None)
    competencies = [c for c in view.competencies if module.id in c.module_ids] if view is not None else []
    return ModuleTasks(module, view, competencies)


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
    return see_other("session.entry", "submitted", anchor=f"comp-{credential.key}-{competency_id}",
                     about=f"{credential.key}-{competency_id}")


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
    return see_other("session.entry", "claimed", anchor=f"comp-{credential.key}-{competency_id}",
                     about=f"{credential.key}-{competency_id}")


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
    problem = FormProblem(form, credential_key, competency_id, str(exc), values, _field_of(form, exc, values))
    return dashboard(problem), 422


def _field_of(form: str, exc: Exception, values: dict[str, str]) -> str:
    """The field a refusal is about, for the summary's link and the message beside it."""
    message = str(exc).lower()
    if isinstance(exc, StorageError):
        return "file"
    if "link" in message:
        return "url"
    if form == "workplace" and "supervisor" in message:
        return "supervisor_email" if values.get("supervisor_name", "").strip() else "supervisor_name"
    return FIRST_FIELD[form]
