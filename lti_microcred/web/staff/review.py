"""The review queue: the course's evidence waiting for a decision, oldest first; accept or reject each."""

from __future__ import annotations

from flask import render_template, request
from werkzeug.wrappers import Response

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.rules import RUBRIC_LEVELS
from lti_microcred.web.common import scoped
from lti_microcred.web.common.context import db
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.views_support import REVIEWERS, actor, course_id, notice, see_other, text, whole_or_none
from lti_microcred.web.staff.course_queries import REVIEW_PAGE, pending_count, review_queue

bp = session_blueprint("review", __name__, "/review")
DECISIONS = {"accepted": "Accept", "rejected": "Reject"}


@bp.route("/", methods=["GET"])
@requires_role(*REVIEWERS)
def queue() -> str:
    return _page(whole_or_none(request.args.get("page")) or 1)


@bp.route("/<key>", methods=["POST"])
@requires_role(*REVIEWERS)
def decide(key: str) -> Response | tuple[str, int]:
    session = db()
    evidence = scoped.evidence(session, current_session(), key)
    try:
        ops.assess_evidence(session, actor(), evidence, text("decision", 16), text("comment"),
                            whole_or_none(text("rubric_level", 4)) or None)
        session.commit()
    except ops.DomainError as exc:
        session.rollback()
        return _page(whole_or_none(request.form.get("page")) or 1, error=(key, str(exc))), 422
    return see_other("review.queue", "decided", page=whole_or_none(request.form.get("page")) or 1)


def _page(page: int, error: tuple[str, str] | None = None) -> str:
    total = pending_count(db(), course_id())
    return render_template("staff/review.html", s=current_session(), items=review_queue(db(), course_id(), page),
                           total=total, page=page, pages=max(1, -(-total // REVIEW_PAGE)), levels=RUBRIC_LEVELS,
                           decisions=DECISIONS, error=error, notice=notice())
