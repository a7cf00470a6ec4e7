"""A learner's achievement of a competency in a course, as the LMS's own competency framework may record it.

Moodle keeps competency frameworks, course competencies and learning plans of its own; when a framework was
imported from Moodle (its CSV export names every competency by its Moodle `idnumber`), a change in whether a
learner has achieved one of its competencies in a course is written to the outbox in the same transaction as
the change (kind RATE_COMPETENCY), one ordering key per (course, competency, learner). The LMS side decides
whether the institution asked for ratings at all and sends them; the domain only records what changed.

A competency counts as achieved in a course when any micro-credential of that course has it achieved for the
learner. A row is written only when that differs from the last row written for the key: achieved, or no longer
achieved ("revoked") after an achievement was written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies.importers.decode import MOODLE_CSV
from lti_microcred.competencies.models import Competency, CompetencyProgress, Framework, MicroCredential
from lti_microcred.competencies.rules import ACHIEVED
from lti_microcred.core import outbox
from lti_microcred.core.db import utcnow

RATED_SOURCES = (MOODLE_CSV,)  # frameworks whose competencies the LMS knows by identifier
ACHIEVED_STATUS, REVOKED_STATUS = "achieved", "revoked"


def rating_key(context_id: int, competency_id: int, learner_id: int) -> str:
    """The ordering key of one learner's rating of one competency in one course."""
    return f"rating:{context_id}:{competency_id}:{learner_id}"


def enqueue_rating_changes(session: Session, learner_id: int, context_id: int, competency_ids: Collection[int]) -> int:
    """After progress changed for these competencies: one RATE_COMPETENCY row per rated competency whose
    achievement in the course now differs from the last row written. Returns how many were written."""
    rated = sorted(session.execute(
        select(Competency.id).join(Framework, Framework.id == Competency.framework_id)
        .where(Competency.id.in_(list(competency_ids)), Framework.source.in_(RATED_SOURCES))).scalars())
    if not rated:
        return 0
    platform_id = session.execute(select(MicroCredential.platform_id).where(
        MicroCredential.context_id == context_id).limit(1)).scalar()
    if platform_id is None:
        return 0
    achieved = set(session.execute(
        select(CompetencyProgress.competency_id)
        .join(MicroCredential, MicroCredential.id == CompetencyProgress.micro_credential_id)
        .where(CompetencyProgress.learner_id == learner_id, CompetencyProgress.competency_id.in_(rated),
               CompetencyProgress.state == ACHIEVED, MicroCredential.context_id == context_id)).scalars())
    written = 0
    for competency_id in rated:
        key = rating_key(context_id, competency_id, learner_id)
        last = _last_payload(session, key)
        status = ACHIEVED_STATUS if competency_id in achieved else REVOKED_STATUS
        if status == (last or {}).get("status", REVOKED_STATUS):  # unchanged, or never rated and not achieved
            continue
        outbox.enqueue(session, outbox.RATE_COMPETENCY, platform_id, {
            "context_id": context_id, "competency_id": competency_id, "learner_id": learner_id, "status": status,
            "timestamp": _after(last).isoformat(timespec="microseconds")}, key)
        written += 1
    return written


def _last_payload(session: Session, key: str) -> dict[str, str] | None:
    raw = session.execute(select(outbox.OutboxMessage.payload).where(outbox.OutboxMessage.ordering_key == key)
                          .order_by(outbox.OutboxMessage.id.desc()).limit(1)).scalar()
    return json.loads(raw) if raw else None


def _after(last: dict[str, str] | None) -> dt.datetime:
    """Now, but never at or before the last decision of the key: the LMS side orders ratings by this."""
    now = utcnow()
    if last and last.get("timestamp"):
        now = max(now, dt.datetime.fromisoformat(last["timestamp"]) + dt.timedelta(microseconds=1))
    return now
