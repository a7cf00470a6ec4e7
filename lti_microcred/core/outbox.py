"""The durable outbox: work for the world outside (LMS gradebook, credential issuing) written in the same
transaction as the change that caused it, and delivered later by workers.

Infrastructure shared by the domain (which writes rows) and the delivery packages (which consume them);
it imports nothing but the database base and the ids of the work in hand.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_microcred.core import request_ids
from lti_microcred.core.db import Base, UTCDateTime, utcnow

# Kinds written by the domain; each has one consumer.
ISSUE_CREDENTIAL = "issue_credential"  # credentials package: sign and store the award's credential
REVOKE_CREDENTIAL = "revoke_credential"  # credentials package: flip the status-list bit
AWARD_PASSBACK = "award_passback"  # lms package: the award (or its revocation) to the credential column
MODULE_RESULT = "module_result"  # lms package: a learner's module result to the module's column
REEVALUATE_CREDENTIAL = "reevaluate_credential"  # competencies: everyone again after a credential changed
RATE_COMPETENCY = "rate_competency"  # lms package: a course competency achieved (or no longer) to Moodle's rating


class OutboxMessage(Base):
    __tablename__ = "outbox"
    # Only the oldest pending row of an ordering key may be claimed: the second index answers "is there an older
    # pending one?" with one range scan (status in the middle, so PostgreSQL never intersects it with the status
    # index, which made claims take seconds on 10,000 pending rows).
    __table_args__ = (Index("ix_outbox_due", "status", "available_dt"),
                      Index("ix_outbox_ordering_key_status_id", "ordering_key", "status", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    # Rows of one ordering key are delivered in id order (e.g. one line item and learner).
    ordering_key: Mapped[str] = mapped_column(String(200), default="")
    payload: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | failed | superseded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The request that caused the row (see core/request_ids.py), so one id finds a launch's pages and deliveries.
    request_id: Mapped[str | None] = mapped_column(String(32))

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.payload)
        return data


def enqueue(session: Session, kind: str, platform_id: int, payload: dict[str, Any],
            ordering_key: str = "") -> OutboxMessage:
    """Add a message to the caller's transaction: it exists exactly when the change that caused it commits.
    It carries the id of what caused it (the launch, else the request or delivery in hand) for the worker's logs."""
    message = OutboxMessage(kind=kind, platform_id=platform_id, ordering_key=ordering_key,
                            payload=json.dumps(payload, sort_keys=True), request_id=request_ids.origin())
    session.add(message)
    return message
