"""Periodic work of the delivery loop: learn service URLs from new launches, queue roster syncs and
grade read-backs when a course is due (on launch, then every roster_sync_minutes / grade_readback_minutes),
delete ended launch sessions every few minutes, and evidence files no row refers to every ten.

Jobs go through the outbox like every delivery (leases, retries, errors kept), so any worker may run them;
a conditional UPDATE of the due time decides which worker queues them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select, update

from lti_microcred.competencies.models import Evidence
from lti_microcred.core import outbox
from lti_microcred.core.db import transaction, utcnow
from lti_microcred.core.file_sweep import OrphanSweep
from lti_microcred.core.storage import LocalFileStorage
from lti_microcred.lms.course import note_launches
from lti_microcred.lms.models import CourseServices
from lti_microcred.lms.readback import read_back
from lti_microcred.lms.roster import sync_roster
from lti_microcred.lti.models import LaunchSession
from lti_microcred.lti.sessions import SessionPurge, replay_window_seconds

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from lti_microcred.core.config import Settings
    from lti_microcred.lms.delivery.jobs import Job

log = logging.getLogger(__name__)
ROSTER_SYNC, GRADE_READBACK = "lms_roster_sync", "lms_grade_readback"
LOOKBACK = 50  # launch ids re-read each scan: a launch may commit after one with a higher id
TICK_SECONDS = 5.0


class Scheduler:
    def __init__(self, sessions: sessionmaker[Session], read_sessions: sessionmaker[Session], settings: Settings,
                 tick_seconds: float = TICK_SECONDS) -> None:
        self.sessions, self.read_sessions, self.settings = sessions, read_sessions, settings
        self.tick_seconds = tick_seconds
        self._cursor: int | None = None
        self._next = 0.0
        self.purge_sessions = SessionPurge(
            sessions, read_sessions, replay_window_seconds(settings.iat_max_age_seconds, settings.clock_skew_seconds))
        self.sweep_files = OrphanSweep(LocalFileStorage.from_settings(settings), partial(_referenced, read_sessions))

    def tick(self, force: bool = False) -> int:
        """Scan launches and queue due jobs, at most every tick_seconds; returns how many jobs were queued."""
        if not force and time.monotonic() < self._next:
            return 0
        self._next = time.monotonic() + self.tick_seconds
        self.purge_sessions()  # every few minutes at most; ended launch sessions would pile up forever
        if swept := self.sweep_files():  # every ten minutes at most: files of uploads killed before their commit
            log.info("deleted %d evidence files that no evidence refers to", swept)
        if not self._anything_to_do():
            return 0  # the usual case: no write transaction (SQLite has one writer for everyone)
        settings = self.settings
        with transaction(self.sessions) as session:
            if self._cursor is None:
                self._cursor = int(session.execute(select(func.max(CourseServices.last_launch_id))).scalar() or 0)
            scanned, _ = note_launches(session, max(0, self._cursor - LOOKBACK))
            self._cursor = max(self._cursor, scanned)  # the look-back never moves the cursor backwards
            queued = _queue_due(session, ROSTER_SYNC, CourseServices.next_roster_dt,
                                CourseServices.memberships_url, dt.timedelta(minutes=settings.roster_sync_minutes))
            queued += _queue_due(session, GRADE_READBACK, CourseServices.next_readback_dt,
                                 CourseServices.lineitems_url, dt.timedelta(minutes=settings.grade_readback_minutes))
        return queued


    def _anything_to_do(self) -> bool:
        now = utcnow()
        with self.read_sessions() as session:
            newest = session.execute(select(func.max(LaunchSession.id))  # launches note_launches would read
                                     .where(LaunchSession.context_id.is_not(None))).scalar() or 0
            due = session.execute(select(CourseServices.id).where(
                or_(and_(CourseServices.next_roster_dt <= now, CourseServices.memberships_url.is_not(None)),
                    and_(CourseServices.next_readback_dt <= now, CourseServices.lineitems_url.is_not(None))))
                .limit(1)).first()
        return self._cursor is None or newest > self._cursor or due is not None


def _referenced(read_sessions: sessionmaker[Session], keys: list[str]) -> set[str]:
    with read_sessions() as session:
        return set(session.scalars(select(Evidence.file_key).where(Evidence.file_key.in_(keys))))


def _queue_due(session: Any, kind: str, due_column: Any, url_column: Any, period: dt.timedelta) -> int:
    now = utcnow()
    rows = session.execute(select(CourseServices.id, CourseServices.platform_id, CourseServices.context_id).where(
        due_column <= now, url_column.is_not(None)).limit(200)).all()
    queued = 0
    for row in rows:
        claimed = session.execute(update(CourseServices).where(CourseServices.id == row.id, due_column <= now)
                                  .values({due_column.key: now + period})).rowcount
        if claimed:
            queue_job(session, kind, row.platform_id, row.context_id)
            queued += 1
    return queued


def queue_job(session: Any, kind: str, platform_id: int, context_id: int) -> None:
    """A roster sync or read-back for one course (coalesced with one already waiting)."""
    outbox.enqueue(session, kind, platform_id, {"context_id": context_id}, f"{kind}:{context_id}")


def roster_job(job: Job) -> None:
    sync_roster(job.lms, job.message.data["context_id"])


def readback_job(job: Job) -> None:
    read_back(job.lms, job.message.data["context_id"])
