"""Handlers of the gradebook kinds: a module result to its column, an award (or revocation) to the
credential's column. Each sends the value decided in the domain with the timestamp of that decision, so a
re-send after a crash is the same score again (harmless), and the LMS never takes an older value last."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import outbox
from ...competencies.models import Award, MicroCredential
from ...lti.models import User
from ..ags import Ags, Score
from ..errors import PERMANENT, NotReady, ServiceError, UnexpectedError
from ..lineitems import CREDENTIAL, MODULE, Column
from .jobs import DEFER, DONE, LMS_NEWER, RECORD_STATES, SUPERSEDED, DeliveryRecord, HandlerRegistry, Job, Outcome

AwardComment = Callable[[Session, Award], str]
log = logging.getLogger(__name__)


def default_award_comment(session: Session, award: Award) -> str:
    credential = session.get(MicroCredential, award.micro_credential_id)
    return f"Micro-credential awarded: {credential.title if credential else award.micro_credential_id}"


def module_result(job: Job) -> Outcome:
    data = job.message.data
    record = partial(DeliveryRecord, job.message.ordering_key, job.message.platform_id, data["context_id"], MODULE,
                     data["module_id"], data["learner_id"])

    def attempt() -> Outcome:
        score = Score(data["user_sub"], data["score_given"], data["score_maximum"],
                      dt.datetime.fromisoformat(data["timestamp"]), activity_progress=data.get("activity", "Completed"))
        return _send(job, data["context_id"], score, record,
                     lambda: job.runtime.columns.module(data["context_id"], data["module_id"]))

    return _guarded(job, record, attempt)


def award_passback(job: Job, comment: AwardComment = default_award_comment) -> Outcome | None:
    data = job.message.data
    revoked = data.get("status") == "revoked"
    with job.services.read_sessions() as session:
        award = session.get(Award, data["award_id"])
        if award is None:
            return None  # the award (and its learner or course) was deleted: nothing to show any more
        credential = session.get(MicroCredential, award.micro_credential_id)
        assert credential is not None
        context_id, credential_id = credential.context_id, credential.id
        record = partial(DeliveryRecord, job.message.ordering_key, job.message.platform_id, context_id, CREDENTIAL,
                         credential_id, award.learner_id)
        try:
            score = _award_score(session, award, credential, revoked, comment)
        except Exception as exc:  # the comment is another package's code
            return _unexpected(job, exc, record)

    def column() -> Column:
        return job.runtime.columns.credential(context_id, credential_id)

    return _guarded(job, record, lambda: _send(job, context_id, score, record, column, full_marks=not revoked))


def _award_score(session: Session, award: Award, credential: MicroCredential, revoked: bool,
                 comment: AwardComment) -> Score:
    """The award's score, marks left to the column: dated when the award (or its revocation) was decided."""
    sub = session.execute(select(User.sub).where(User.id == award.learner_id)).scalar_one()
    when = award.revoked_dt if revoked and award.revoked_dt else award.awarded_dt
    text = f"Micro-credential revoked: {credential.title}" if revoked else comment(session, award)
    return Score(sub, None, 0.0, when, "Completed", "FullyGraded", text[:1000])


def _guarded(job: Job, record: Callable[..., DeliveryRecord], attempt: Callable[[], Outcome]) -> Outcome:
    """Run one delivery so that even a bug in it reaches the instructor's cell (retrying, then failed)."""
    try:
        return attempt()
    except Exception as exc:
        return _unexpected(job, exc, record)


def _unexpected(job: Job, exc: Exception, record: Callable[..., DeliveryRecord]) -> Outcome:
    log.exception("outbox row %s (%s) failed unexpectedly", job.message.id, job.message.kind)
    return _with(job.outcome(UnexpectedError(exc)), record)


def _send(job: Job, context_id: int, score: Score, record: Callable[..., DeliveryRecord],
          resolve: Callable[[], Column], full_marks: bool | None = None) -> Outcome:
    last = job.message.last_sent
    if last is not None and score.timestamp < last:
        return Outcome(SUPERSEDED, "a newer value of ours is already in the LMS")  # never send an older one after it
    column: Column | None = None
    try:
        column = resolve()
        if full_marks is not None:  # award columns: full marks, or zero once revoked
            score = Score(score.user_id, column.score_maximum if full_marks else 0.0, column.score_maximum,
                          score.timestamp, score.activity_progress, score.grading_progress, score.comment)
        status = Ags(job.runtime.client, job.message.platform_id).post_score(
            column.lineitem_url, score, job.runtime.family(context_id) == "canvas")
    except NotReady as exc:
        return _with(Outcome(DEFER, str(exc), exc.delay_seconds), record)
    except ServiceError as exc:
        return _with(_failure(job, exc, column, job.runtime.family(context_id)), record)
    return _with(Outcome(DONE, http_status=status), record, score)


def _failure(job: Job, exc: ServiceError, column: Column | None, family: str | None) -> Outcome:
    text = str(exc).lower()
    if exc.status == 409 or (exc.status == 400 and "timestamp" in text):
        # Canvas (400) and others (409) refuse a timestamp older than the one they hold: a grade entered in
        # the LMS is newer than ours, and the LMS is right to keep it.
        return Outcome(LMS_NEWER, f"the LMS holds a newer grade: {exc}", http_status=exc.status)
    if exc.status == 404 and column is not None:
        job.runtime.columns.forget(column)  # deleted in the LMS: found or created again on the next attempt
        return job.outcome(ServiceError(f"the column is gone from the LMS: {exc}", status=404))
    if exc.status == 400 and exc.kind == PERMANENT and family == "moodle":
        exc = ServiceError(f"{exc} (Moodle refuses scores of people not enrolled in the course)", PERMANENT, 400)
    return job.outcome(exc)


def _with(outcome: Outcome, record: Callable[..., DeliveryRecord], score: Score | None = None) -> Outcome:
    values: dict[str, Any] = {"state": RECORD_STATES[outcome.status], "http_status": outcome.http_status,
                              "error": outcome.error}
    if score is not None:
        values.update(score_given=score.score_given, score_maximum=score.score_maximum,
                      score_timestamp=score.timestamp)
    outcome.record = record(**values)
    return outcome


def register_gradebook_handlers(handlers: HandlerRegistry, award_comment: AwardComment | None = None) -> None:
    """Module results and award passback; `award_comment` adds the credential's verification link."""
    handlers.register(outbox.MODULE_RESULT, module_result, coalesce=True)
    handlers.register(outbox.AWARD_PASSBACK, partial(award_passback, comment=award_comment or default_award_comment),
                      coalesce=True)
