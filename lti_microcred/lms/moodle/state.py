"""What was rated in Moodle, per course, learner and competency: what the Gradebook page's "Moodle competency
ratings" section and `microcred moodle-ratings status` show.

A rating is "rated in Moodle" when Moodle took the latest value and nothing newer waits; otherwise it says what
waits (queued, retrying after an error) or why it failed. The states come from the delivery rows the worker
writes (subject kind `moodle_rating`) and the rows still pending in the outbox, as for the gradebook's cells.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import Competency
from lti_microcred.core import outbox
from lti_microcred.core.outbox import OutboxMessage
from lti_microcred.lms.models import Delivery
from lti_microcred.lms.moodle.admin import settings_of
from lti_microcred.lms.moodle.models import SUBJECT
from lti_microcred.lti.models import Context, User

LABELS = {"sent": "Rated in Moodle", "queued": "Queued", "retrying": "Retrying", "waiting": "Waiting",
          "failed": "Failed"}
ORDER = {"failed": 0, "retrying": 1, "waiting": 2, "queued": 3, "sent": 4}
SHOWN = 200  # rows of one course on the Gradebook page (failed ones first)


@dataclass(frozen=True)
class RatingRow:
    key: str
    context_id: int
    competency_id: int
    learner_id: int
    state: str  # sent | queued | retrying | waiting | failed
    status: str | None = None  # achieved | revoked: the latest value decided
    grade: int | None = None  # the scale value Moodle took (1-based)
    sent_dt: dt.datetime | None = None
    error: str | None = None
    attempts: int = 0
    next_attempt_dt: dt.datetime | None = None
    learner: str = ""
    moodle_user: str = ""
    competency: str = ""
    idnumber: str = ""

    @property
    def label(self) -> str:
        return LABELS.get(self.state, self.state)


def parse_key(key: str) -> tuple[int, int, int] | None:
    """`rating:<context>:<competency>:<learner>` -> (context, competency, learner)."""
    parts = key.split(":")
    if len(parts) != 4 or parts[0] != "rating" or not all(p.isdigit() for p in parts[1:]):
        return None
    return int(parts[1]), int(parts[2]), int(parts[3])


def rating_rows(session: Session, *, context_id: int | None = None, platform_id: int | None = None) -> list[RatingRow]:
    """Every rating of a course (or of a registration), failed first, then by learner and competency."""
    where = [Delivery.subject_kind == SUBJECT]
    pending = [OutboxMessage.kind == outbox.RATE_COMPETENCY, OutboxMessage.status == "pending"]
    if context_id is not None:
        where.append(Delivery.context_id == context_id)
        pending.append(OutboxMessage.ordering_key.startswith(f"rating:{context_id}:", autoescape=True))
    if platform_id is not None:
        where.append(Delivery.platform_id == platform_id)
        pending.append(OutboxMessage.platform_id == platform_id)
    found = {d.ordering_key: d for d in session.scalars(select(Delivery).where(*where))}
    waiting = {row.ordering_key: row for row in session.execute(
        select(OutboxMessage.ordering_key, func.min(OutboxMessage.available_dt).label("due"),
               func.max(OutboxMessage.attempts).label("attempts"), func.max(OutboxMessage.id).label("newest"))
        .where(*pending).group_by(OutboxMessage.ordering_key))}
    statuses = _statuses(session, [w.newest for w in waiting.values()]
                         + [d.last_message_id for d in found.values() if d.last_message_id])
    rows = [row for key in set(found) | set(waiting)
            if (row := _row(key, found.get(key), waiting.get(key), statuses)) is not None]
    return sorted(_named(session, rows), key=lambda r: (ORDER.get(r.state, 9), r.learner, r.idnumber))


def _row(key: str, delivery: Delivery | None, waiting: Any, statuses: dict[int, str]) -> RatingRow | None:
    ids = parse_key(key)
    if ids is None or (delivery is None and waiting is None):
        return None
    grade = int(delivery.score_given) if delivery is not None and delivery.score_given is not None else None
    sent_dt = delivery.sent_dt if delivery is not None else None
    if waiting is not None:
        state = delivery.state if delivery is not None and delivery.state in ("retrying", "waiting") else "queued"
        error = delivery.last_error if delivery is not None and state != "queued" else None
        return RatingRow(key, *ids, state, statuses.get(waiting.newest), grade, sent_dt, error, waiting.attempts,
                         waiting.due)
    assert delivery is not None
    return RatingRow(key, *ids, delivery.state, statuses.get(delivery.last_message_id or 0), grade, sent_dt,
                     delivery.last_error if delivery.state != "sent" else None, delivery.attempts)


def _statuses(session: Session, message_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(message_ids))
    if not ids:
        return {}
    return {i: json.loads(payload).get("status", "") for i, payload in session.execute(
        select(OutboxMessage.id, OutboxMessage.payload).where(OutboxMessage.id.in_(ids)))}


def _named(session: Session, rows: list[RatingRow]) -> list[RatingRow]:
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_({r.learner_id for r in rows})))}
    competencies = {c.id: c for c in session.scalars(select(Competency).where(
        Competency.id.in_({r.competency_id for r in rows})))}
    named = []
    for row in rows:
        user, competency = users.get(row.learner_id), competencies.get(row.competency_id)
        named.append(replace(
            row, learner=user.display_name if user else f"user {row.learner_id}", moodle_user=user.sub if user else "",
            competency=competency.short_name if competency else f"competency {row.competency_id}",
            idnumber=competency.identifier if competency else ""))
    return named


@dataclass
class CourseRatings:
    """The Gradebook page's section: whether ratings are on for the course's LMS, and its ratings."""

    enabled: bool
    rows: list[RatingRow]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def summary(self) -> list[tuple[str, str, int]]:
        """(state, label, count), failed first."""
        return [(s, LABELS.get(s, s), n) for s, n in sorted(self.counts.items(), key=lambda i: ORDER.get(i[0], 9))]


def course_ratings(session: Session, context_id: int) -> CourseRatings | None:
    """None when the course's LMS never had ratings and none were made (the section is not shown)."""
    context = session.get(Context, context_id)
    if context is None:
        return None
    config = settings_of(session, context.platform_id)
    rows = rating_rows(session, context_id=context_id)
    if config is None and not rows:
        return None
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    return CourseRatings(bool(config and config.enabled), rows[:SHOWN], counts)


@dataclass
class CourseSummary:
    context_id: int
    title: str
    course_id: str  # the LMS's id of the course (Moodle's course id)
    counts: dict[str, int]
    last_rated_dt: dt.datetime | None
    failures: list[RatingRow]


def platform_summary(session: Session, platform_id: int) -> list[CourseSummary]:
    """Per course of the registration: how many ratings are in Moodle, waiting or failed, and the failures."""
    by_course: dict[int, list[RatingRow]] = {}
    for row in rating_rows(session, platform_id=platform_id):
        by_course.setdefault(row.context_id, []).append(row)
    contexts = {c.id: c for c in session.scalars(select(Context).where(Context.id.in_(by_course)))}
    summaries = []
    for context_id, rows in sorted(by_course.items()):
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.state] = counts.get(row.state, 0) + 1
        context = contexts.get(context_id)
        summaries.append(CourseSummary(
            context_id, (context.title or context.label or "") if context else "",
            context.lti_context_id if context else "?", counts,
            max((r.sent_dt for r in rows if r.sent_dt), default=None), [r for r in rows if r.state == "failed"]))
    return summaries
