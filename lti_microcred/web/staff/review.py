"""The review queue: the course's evidence waiting for a decision, oldest first, each beside what its competency
requires; accept or reject each. Accepting below what a requirement asks, or deciding before the learner's
supervisor answered, takes an explicit second step."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request
from werkzeug.wrappers import Response

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Evidence
from lti_microcred.competencies.rules import RUBRIC_LEVELS
from lti_microcred.web.common import scoped
from lti_microcred.web.common.context import db
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.views_support import REVIEWERS, actor, course_id, notice, see_other, text, whole_or_none
from lti_microcred.web.staff.course_queries import REVIEW_PAGE, QueueItem, pending_count, review_queue
from lti_microcred.web.staff.review_needs import EvidenceNeeds, ago, needs_of

bp = session_blueprint("review", __name__, "/review")
NO_LEVEL = "no level"


@dataclass(frozen=True)
class Held:
    """A decision the page sent back instead of saving: why, and what the person had chosen (shown again)."""

    key: str
    message: str
    reason: str  # short_of_requirement | supervisor | refused
    comment: str = ""
    level: int | None = None


@bp.route("/", methods=["GET"])
@requires_role(*REVIEWERS)
def queue() -> str:
    return _page(whole_or_none(request.args.get("page")) or 1)


@bp.route("/<key>", methods=["POST"])
@requires_role(*REVIEWERS)
def decide(key: str) -> Response | tuple[str, int]:
    session = db()
    evidence = scoped.evidence(session, current_session(), key)
    decision, comment, level = text("decision", 16), text("comment"), whole_or_none(text("rubric_level", 4)) or None
    page = whole_or_none(request.form.get("page")) or 1
    held = _second_step_needed(needs_of(session, course_id(), [evidence])[evidence.id], decision, comment, level)
    if held is not None:
        return _page(page, held), 422
    try:
        ops.assess_evidence(session, actor(), evidence, decision, comment, level)
        session.commit()
    except ops.DomainError as exc:
        session.rollback()
        return _page(page, Held(key, str(exc), "refused", comment, level)), 422
    return see_other("review.queue", "decided", page=page)


def _second_step_needed(found: EvidenceNeeds, decision: str, comment: str, level: int | None) -> Held | None:
    """A decision before the supervisor answered needs a reason; accepting short of a requirement, a confirmation
    of that very level (so a changed choice is checked again)."""
    key = found.evidence.key
    waiting = found.supervisor is not None and found.supervisor.waiting and decision in ("accepted", "rejected")
    if waiting and (request.form.get("without_supervisor") != "yes" or not comment.strip()):
        name = found.supervisor.name if found.supervisor else ""
        return Held(key, f"The learner's supervisor, {name}, has not answered yet. To decide now, say why in the "
                         "reason box.", "supervisor", comment, level)
    unmet = found.unmet(level) if decision == "accepted" else []
    if unmet and request.form.get("confirmed_level") != str(level or NO_LEVEL):
        chosen = RUBRIC_LEVELS.get(level or 0, "no rubric level")
        short = "; ".join(f"{n.text} (for {n.credential})" for n in unmet)
        return Held(key, f"Accepting with {chosen} does not meet what the competency requires: {short}. Choose a "
                         "level that meets it, or “Accept anyway”.", "short_of_requirement", comment, level)
    return None


def _page(page: int, held: Held | None = None) -> str:
    session = db()
    total = pending_count(session, course_id())
    items = review_queue(session, course_id(), page)
    needs = needs_of(session, course_id(), [q.evidence for q in items])
    return render_template("staff/review.html", s=current_session(), items=items, needs=needs, total=total,
                           page=page, pages=max(1, -(-total // REVIEW_PAGE)), levels=RUBRIC_LEVELS, held=held,
                           no_level=NO_LEVEL, oldest=_oldest(items, page), ago=ago, notice=notice())


def _oldest(items: list[QueueItem], page: int) -> Evidence | None:
    """The oldest waiting piece (the queue's first, on its first page)."""
    return items[0].evidence if items and page == 1 else None
