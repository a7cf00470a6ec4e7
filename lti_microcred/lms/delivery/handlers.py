"""Handlers of the gradebook kinds: a module result to its column, an award (or revocation) to the
credential's column. Each sends the value decided in the domain with the timestamp of that decision, so a
re-send after a crash is the same score again (harmless), and the LMS never takes an older value last."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import Award, MicroCredential
from lti_microcred.core import outbox
from lti_microcred.lms import canvas_grades
from lti_microcred.lms.ags import Ags, Score
from lti_microcred.lms.delivery.jobs import (
    DEFER,
    DONE,
    LMS_NEWER,
    RECORD_STATES,
    SUPERSEDED,
    DeliveryRecord,
    HandlerRegistry,
    Job,
    Outcome,
)
from lti_microcred.lms.errors import PERMANENT, NotReady, ServiceError, UnexpectedError
from lti_microcred.lms.lineitems import CREDENTIAL, MODULE, Column
from lti_microcred.lms.roster import is_withdrawn
from lti_microcred.lti.models import User

AwardComment = Callable[[Session, Award], str]
log = logging.getLogger(__name__)


def default_award_comment(session: Session, award: Award) -> str:
    credential = session.get(MicroCredential, award.micro_credential_id)
    return f"Micro-credential awarded: {credential.title if credential else award.micro_credential_id}"


@dataclass(frozen=True)
class Target:
    """One learner's cell of one column: where a delivery goes, and what the instructor sees of it."""

    job: Job
    context_id: int
    kind: str
    subject_id: int
    learner_id: int

    def record(self, **values: Any) -> DeliveryRecord:
        m = self.job.message
        return DeliveryRecord(m.ordering_key, m.platform_id, self.context_id, self.kind, self.subject_id,
                              self.learner_id, **values)


def module_result(job: Job) -> Outcome:
    data = job.message.data
    target = Target(job, data["context_id"], MODULE, data["module_id"], data["learner_id"])

    def attempt() -> Outcome:
        score = Score(data["user_sub"], data["score_given"], data["score_maximum"],
                      dt.datetime.fromisoformat(data["timestamp"]), activity_progress=data.get("activity", "Completed"),
                      grading_progress=data.get("grading", "FullyGraded"))
        return _send(target, score, lambda: job.lms.columns.module(target.context_id, target.subject_id))

    return _guarded(target, attempt)


def award_passback(job: Job, comment: AwardComment = default_award_comment) -> Outcome | None:
    data = job.message.data
    revoked = data.get("status") == "revoked"
    with job.lms.read_sessions() as session:
        award = session.get(Award, data["award_id"])
        if award is None:
            return None  # the award (and its learner or course) was deleted: nothing to show any more
        credential = session.get(MicroCredential, award.micro_credential_id)
        assert credential is not None
        if not credential.gradebook_column:
            return None  # the instructor keeps this micro-credential out of the LMS gradebook
        target = Target(job, credential.context_id, CREDENTIAL, credential.id, award.learner_id)
        try:
            score = _award_score(session, award, credential, revoked, comment)
        except Exception as exc:  # the comment is another package's code
            return _unexpected(target, exc)

    def column() -> Column:
        return job.lms.columns.credential(target.context_id, target.subject_id)

    return _guarded(target, lambda: _send(target, score, column, full_marks=not revoked))


def _award_score(session: Session, award: Award, credential: MicroCredential, revoked: bool,
                 comment: AwardComment) -> Score:
    """The award's score, marks left to the column, dated when the award (or its revocation) was decided. A
    revocation empties the grade (no scoreGiven), so the column no longer counts in the course total."""
    sub = session.execute(select(User.sub).where(User.id == award.learner_id)).scalar_one()
    when = award.revoked_dt if revoked and award.revoked_dt else award.awarded_dt
    text = f"Micro-credential revoked: {credential.title}" if revoked else comment(session, award)
    return Score(sub, None, 0.0, when, "Completed", "FullyGraded", text[:1000])


def _guarded(target: Target, attempt: Callable[[], Outcome]) -> Outcome:
    """Run one delivery so that even a bug in it reaches the instructor's cell (retrying, then failed)."""
    try:
        return attempt()
    except Exception as exc:
        return _unexpected(target, exc)


def _unexpected(target: Target, exc: Exception) -> Outcome:
    log.exception("outbox row %s (%s) failed unexpectedly", target.job.message.id, target.job.message.kind)
    return _with(target.job.outcome(UnexpectedError(exc)), target)


def _send(target: Target, score: Score, resolve: Callable[[], Column], full_marks: bool = False) -> Outcome:
    job = target.job
    last = job.message.last_sent
    if last is not None and score.timestamp < last:
        return Outcome(SUPERSEDED, "a newer value of ours is already in the LMS")  # never send an older one after it
    column: Column | None = None
    try:
        column = resolve()
        if full_marks:  # an award's column: full marks (a revocation empties it)
            score = replace(score, score_given=column.score_maximum, score_maximum=column.score_maximum)
        ags = Ags(job.lms.client, job.message.platform_id)
        canvas = job.lms.family(target.context_id) == "canvas"
        if canvas:
            cell = canvas_grades.cell_for(job.message, column, award=target.kind == CREDENTIAL)
            score, kept = canvas_grades.prepare(ags, column.lineitem_url, score, cell)
            if kept:
                return _with(Outcome(LMS_NEWER, kept), target)
        status = ags.post_score(column.lineitem_url, score, canvas)
    except NotReady as exc:
        return _with(Outcome(DEFER, str(exc), exc.delay_seconds), target)
    except ServiceError as exc:
        return _with(_failure(target, exc, column), target)
    return _with(Outcome(DONE, http_status=status), target, score)


def _failure(target: Target, exc: ServiceError, column: Column | None) -> Outcome:
    job = target.job
    if exc.status == 409 or (exc.status == 400 and "timestamp" in str(exc).lower()):
        # Canvas (400) and others (409) refuse a timestamp older than the one they hold: a grade entered in
        # the LMS is newer than ours, and the LMS is right to keep it.
        return Outcome(LMS_NEWER, f"the LMS holds a newer grade: {exc}", http_status=exc.status)
    if exc.status == 404 and column is not None:
        job.lms.columns.forget(column)  # deleted in the LMS: found or created again on the next attempt
        return job.outcome(ServiceError(f"the column is gone from the LMS: {exc}", status=404))
    if exc.kind == PERMANENT and exc.status is not None:
        return job.outcome(_refusal(target, exc))
    return job.outcome(exc)


def _refusal(target: Target, exc: ServiceError) -> ServiceError:
    """The LMS's own reason, and the one thing we know that often explains it: the learner has left."""
    family = target.job.lms.family(target.context_id)
    lms = family.capitalize() if family in ("moodle", "canvas") else "The LMS"
    message = f"{lms} refused the score (HTTP {exc.status}): {exc.detail or 'it gave no reason'}"
    with target.job.lms.read_sessions() as session:
        if is_withdrawn(session, target.context_id, target.learner_id):
            message += ". The learner is withdrawn from the course (the LMS roster no longer lists them)"
    return ServiceError(message, PERMANENT, exc.status, detail=exc.detail)


def _with(outcome: Outcome, target: Target, score: Score | None = None) -> Outcome:
    values: dict[str, Any] = {"state": RECORD_STATES[outcome.status], "http_status": outcome.http_status,
                              "error": outcome.error}
    if score is not None:
        values.update(score_given=score.score_given, score_maximum=score.score_maximum,
                      score_timestamp=score.timestamp)
    outcome.record = target.record(**values)
    return outcome


def register_gradebook_handlers(handlers: HandlerRegistry, award_comment: AwardComment | None = None) -> None:
    """Module results and award passback; `award_comment` adds the credential's verification link."""
    handlers.register(outbox.MODULE_RESULT, module_result, coalesce=True)
    handlers.register(outbox.AWARD_PASSBACK, partial(award_passback, comment=award_comment or default_award_comment),
                      coalesce=True)
