"""The LMS side of one process, built from the delivery parts: the connection to LMSs, the outbox handlers
of grades, rosters and read-backs, the scheduler and the delivery worker. Made once per process by
`lti_microcred.services.runtime_of`."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.config import Settings
from lti_microcred.lms.connection import LmsConnection
from lti_microcred.lms.delivery.handlers import AwardComment, register_gradebook_handlers
from lti_microcred.lms.delivery.jobs import HandlerRegistry
from lti_microcred.lms.delivery.worker import Worker, WorkerOptions
from lti_microcred.lms.moodle.ratings import register_moodle_ratings
from lti_microcred.lms.scheduler import GRADE_READBACK, ROSTER_SYNC, Scheduler, readback_job, roster_job


class LmsRuntime:
    def __init__(self, settings: Settings, connection: LmsConnection) -> None:
        self.settings = settings
        self.connection = connection
        self.client = connection.client
        self.columns = connection.columns
        self.tokens = connection.tokens
        self.handlers = HandlerRegistry()
        register_gradebook_handlers(self.handlers)
        register_moodle_ratings(self.handlers, settings)  # off unless a registration enabled them
        self.handlers.register(ROSTER_SYNC, roster_job, coalesce=True)
        self.handlers.register(GRADE_READBACK, readback_job, coalesce=True)
        self.scheduler = Scheduler(connection.sessions, connection.read_sessions, settings)
        self._worker: Worker | None = None
        self._lock = threading.Lock()

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.connection.sessions

    def family(self, context_id: int) -> str | None:
        return self.connection.family(context_id)

    def set_award_comment(self, award_comment: AwardComment) -> None:
        """The credentials package's comment for award columns (with the verification link)."""
        register_gradebook_handlers(self.handlers, award_comment)

    def options(self) -> WorkerOptions:
        s = self.settings
        return WorkerOptions(poll_seconds=s.worker_poll_seconds, backoff_seconds=s.delivery_backoff_seconds,
                             backoff_max_seconds=s.delivery_backoff_max_seconds)

    def worker(self, options: WorkerOptions | None = None) -> Worker:
        """This process's delivery worker (one per runtime unless options are given)."""
        if options is not None:
            return Worker(self.connection, self.handlers, options)
        with self._lock:
            if self._worker is None:
                self._worker = Worker(self.connection, self.handlers, self.options())
            return self._worker

    def wake(self) -> None:
        """New work was queued in this process: do not wait for the next poll."""
        if self._worker is not None:
            self._worker.wake()
