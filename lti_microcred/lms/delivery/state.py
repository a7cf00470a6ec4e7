"""What instructors see of gradebook delivery, per column and learner, and the retry they can ask for.

A cell is "up to date" when the LMS accepted the latest value and nothing newer waits in the outbox;
otherwise it says what is waiting (queued, retrying after an error, waiting for a column) or why it failed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from lti_microcred.core import outbox
from lti_microcred.core.db import utcnow
from lti_microcred.core.outbox import OutboxMessage
from lti_microcred.lms.models import Delivery

GRADEBOOK_KINDS = (outbox.MODULE_RESULT, outbox.AWARD_PASSBACK)
GRADEBOOK_SUBJECTS = ("module", "credential")  # delivery rows of gradebook columns (not of Moodle ratings)
LABELS = {"sent": "In the LMS", "queued": "Queued", "retrying": "Retrying", "waiting": "Waiting",
          "failed": "Failed", "lms_newer": "LMS has a newer grade", "none": "Nothing to send"}


@dataclass(frozen=True)
class Cell:
    state: str  # sent | queued | retrying | waiting | failed | lms_newer | none
    score_given: float | None = None
    score_maximum: float | None = None
    sent_dt: dt.datetime | None = None
    error: str | None = None
    attempts: int = 0
    next_attempt_dt: dt.datetime | None = None

    @property
    def label(self) -> str:
        return LABELS.get(self.state, self.state)

    @property
    def up_to_date(self) -> bool:
        return self.state == "sent"


def prefixes(module_ids: list[int], credential_ids: list[int]) -> list[str]:
    return [f"module:{m}:" for m in module_ids] + [f"award:{c}:" for c in credential_ids]


def cells(session: Session, context_id: int, module_ids: list[int], credential_ids: list[int]) -> dict[str, Cell]:
    """Cells by ordering key for the course's columns (keys with nothing sent or queued are absent)."""
    found = {d.ordering_key: d for d in session.scalars(select(Delivery).where(
        Delivery.context_id == context_id, Delivery.subject_kind.in_(GRADEBOOK_SUBJECTS)))}
    waiting = _pending(session, prefixes(module_ids, credential_ids))
    result: dict[str, Cell] = {}
    for key in set(found) | set(waiting):
        delivery, pending = found.get(key), waiting.get(key)
        result[key] = _cell(delivery, pending)
    return result


def _pending(session: Session, key_prefixes: list[str]) -> dict[str, tuple[dt.datetime, int]]:
    if not key_prefixes:
        return {}
    rows = session.execute(
        select(OutboxMessage.ordering_key, func.min(OutboxMessage.available_dt), func.max(OutboxMessage.attempts))
        .where(OutboxMessage.status == "pending", OutboxMessage.kind.in_(GRADEBOOK_KINDS),
               or_(*(OutboxMessage.ordering_key.startswith(p, autoescape=True) for p in key_prefixes)))
        .group_by(OutboxMessage.ordering_key)).all()
    return {key: (due, attempts) for key, due, attempts in rows}


def _cell(delivery: Delivery | None, pending: tuple[dt.datetime, int] | None) -> Cell:
    sent: dict[str, Any] = dict(score_given=delivery.score_given, score_maximum=delivery.score_maximum,
                                sent_dt=delivery.sent_dt) if delivery is not None else {}
    if pending is not None:
        due, attempts = pending
        state = delivery.state if delivery is not None and delivery.state in ("retrying", "waiting") else "queued"
        error = delivery.last_error if delivery is not None and state != "queued" else None
        return Cell(state, error=error, attempts=attempts, next_attempt_dt=due, **sent)
    if delivery is None:
        return Cell("none")
    return Cell(delivery.state, error=delivery.last_error if delivery.state != "sent" else None,
                attempts=delivery.attempts, **sent)


def retry_failed(session: Session, context_id: int, ordering_key: str | None = None) -> int:
    """Queue again the last failed value of each failed cell (or of one); returns how many were queued."""
    query = select(Delivery.ordering_key).where(Delivery.context_id == context_id, Delivery.state == "failed")
    if ordering_key is not None:
        query = query.where(Delivery.ordering_key == ordering_key)
    return requeue_failed(session, session.execute(query).scalars(), GRADEBOOK_KINDS)


def requeue_failed(session: Session, keys: Iterable[str], kinds: Collection[str] | None = None) -> int:
    """Queue again the newest outbox row of each ordering key (of `kinds`) when that row failed, and show its
    cell as retrying; a key whose newest row is not failed already has a newer value on its way."""
    queued = 0
    now = utcnow()
    for key in list(keys):
        query = select(OutboxMessage).where(OutboxMessage.ordering_key == key)
        if kinds is not None:
            query = query.where(OutboxMessage.kind.in_(kinds))
        latest = session.execute(query.order_by(OutboxMessage.id.desc()).limit(1)).scalar_one_or_none()
        if latest is None or latest.status != "failed":
            continue
        latest.status, latest.attempts, latest.available_dt = "pending", 0, now
        latest.last_error, latest.completed_dt = None, None
        session.execute(update(Delivery).where(Delivery.ordering_key == key).values(
            state="retrying", attempts=0, updated_dt=now))
        queued += 1
    session.flush()
    return queued
