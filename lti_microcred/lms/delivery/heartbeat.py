"""A delivery loop's sign of life in `worker_heartbeats`, so the metrics endpoint (and an operator with SQL)
sees which workers run and how long each has been silent.

Written from the loop itself, at most every INTERVAL seconds: a loop stuck on something stops beating, which
is the point. One upsert by primary key, plus deleting rows silent for a day (a worker killed without its
clean stop), both through the seen_dt index: a few hundred microseconds every few seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.db import dialect_insert, transaction, utcnow
from lti_microcred.lms.models import WorkerHeartbeat

INTERVAL = 5.0
FORGET_AFTER = dt.timedelta(days=1)
log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, sessions: sessionmaker[Session], worker: str, interval: float = INTERVAL) -> None:
        self._sessions = sessions
        self.worker = worker[:64]
        self.interval = interval
        self._started = utcnow()
        self._last = float("-inf")
        self.written = False

    def beat(self, delivered: int) -> None:
        """Record that the loop is alive (and how much it delivered), unless it did so within `interval`."""
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        try:
            self._write(delivered)
        except Exception as exc:  # never a reason to stop delivering; the age on /metrics shows the silence
            log.warning("could not write the heartbeat of worker %s: %s", self.worker, exc.__class__.__name__)

    def _write(self, delivered: int) -> None:
        seen = utcnow()
        with transaction(self._sessions) as session:
            insert = dialect_insert(session, WorkerHeartbeat).values(
                worker=self.worker, started_dt=self._started, seen_dt=seen, delivered=delivered)
            session.execute(insert.on_conflict_do_update(
                index_elements=["worker"], set_={"seen_dt": seen, "delivered": delivered}))
            session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_dt < seen - FORGET_AFTER))
        self.written = True

    def remove(self) -> None:
        """A clean stop: the worker is gone, not silent."""
        if not self.written:
            return
        try:
            with transaction(self._sessions) as session:
                session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker == self.worker))
        except Exception:  # stopping must not fail for want of a database; the row is forgotten in a day
            log.warning("could not remove the heartbeat of worker %s", self.worker, exc_info=True)
        self.written = False
