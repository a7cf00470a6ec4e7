"""One learner of the course for staff: progress, full evidence history, awards, the audit trail; and the
instructor's judgements (manual award, competency override, revocation), each with a mandatory reason.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import render_template
from werkzeug.wrappers import Response

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Award
from lti_microcred.lti.models import User
from lti_microcred.web.common import scoped
from lti_microcred.web.common.context import db
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.progress import evidence_history, learner_progress
from lti_microcred.web.common.scoped import credentials_of_course
from lti_microcred.web.common.views_support import (
    BUILDERS,
    REVIEWERS,
    actor,
    course_id,
    notice,
    see_other,
    text,
    whole_or_none,
)
from lti_microcred.web.staff.audit_lines import audit_lines
from lti_microcred.web.staff.course_queries import audit_trail, awards_of_learner

bp = session_blueprint("learners", __name__, "/learners")


@bp.route("/<int:user_id>", methods=["GET"])
@requires_role(*REVIEWERS)
def show(user_id: int) -> str:
    return _page(scoped.learner(db(), current_session(), user_id))


@bp.route("/<int:user_id>/award", methods=["POST"])
@requires_role(*BUILDERS)
def award(user_id: int) -> Response | tuple[str, int]:
    learner = scoped.learner(db(), current_session(), user_id)
    credential = scoped.credential(db(), current_session(), text("credential", 32))
    return _apply(learner, "awarded", lambda: ops.award_manually(db(), actor(), credential, learner.id,
                                                                   text("reason", 5000)))


@bp.route("/<int:user_id>/override", methods=["POST"])
@requires_role(*BUILDERS)
def override(user_id: int) -> Response | tuple[str, int]:
    learner = scoped.learner(db(), current_session(), user_id)
    credential = scoped.credential(db(), current_session(), text("credential", 32))
    competency = scoped.required_competency(db(), credential, whole_or_none(text("competency", 12)))
    achieved = text("achieved", 3) == "yes"
    return _apply(learner, "overridden", lambda: ops.override_competency(
        db(), actor(), credential, learner.id, competency.id, achieved, text("reason", 5000)))


@bp.route("/<int:user_id>/awards/<key>/revoke", methods=["POST"])
@requires_role(*BUILDERS)
def revoke(user_id: int, key: str) -> Response | tuple[str, int]:
    learner = scoped.learner(db(), current_session(), user_id)
    found = scoped.award(db(), current_session(), key, learner.id)
    return _apply(learner, "revoked", lambda: _confirmed_revocation(found))


def _confirmed_revocation(found: Award) -> Award:
    """Only with the box ticked that says what is revoked for whom: the form says what revoking does."""
    reason = text("reason", 5000)
    if reason.strip() and text("confirmed", 3) != "yes":
        raise ops.DomainError("Nothing was revoked: tick “Yes, revoke …” under the reason to confirm.")
    return ops.revoke(db(), actor(), found, reason)


def _apply(learner: User, done: str, change: Callable[[], object]) -> Response | tuple[str, int]:
    session = db()
    try:
        change()
        session.commit()
    except ops.DomainError as exc:
        session.rollback()
        return _page(learner, error=str(exc)), 422
    return see_other("learners.show", done, user_id=learner.id)


def _page(learner: User, error: str | None = None) -> str:
    s, session = current_session(), db()
    credentials = credentials_of_course(session, s.platform_id, course_id())
    history = evidence_history(session, course_id(), learner.id)
    views = learner_progress(session, course_id(), learner.id, [c for c in credentials if c.status != "draft"],
                             history)
    return render_template("staff/learner.html", s=s, learner=learner, views=views, history=history,
                           awards=awards_of_learner(session, course_id(), learner.id),
                           audit=audit_lines(session, audit_trail(session, course_id(), learner.id)),
                           credentials=credentials,
                           may_build=s.role in BUILDERS, error=error, notice=notice())
