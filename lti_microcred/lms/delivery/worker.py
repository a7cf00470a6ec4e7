"""The delivery loop: claim a batch, run its handlers side by side (one row per ordering key, so order is
kept), settle the outcomes, repeat. Runs as a daemon thread in the web process or as `microcred worker`.

Back-off is exponential with jitter (a random point in the upper half of the window), from
delivery_backoff_seconds up to delivery_backoff_max_seconds; a platform's Retry-After (429/503) wins when
it is longer. Transient failures give up after MAX_ATTEMPTS
(about a day with the default back-off), permanent ones at once; both are shown to the instructor.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lti_microcred.core import request_ids
from lti_microcred.core.db import utcnow
from lti_microcred.lms.delivery.heartbeat import Heartbeat
from lti_microcred.lms.delivery.jobs import DEFER, DONE, FAILED, RETRY, Claimed, HandlerRegistry, Job, Outcome
from lti_microcred.lms.delivery.outcome_log import log_outcome
from lti_microcred.lms.delivery.queue import Queue
from lti_microcred.lms.errors import PERMANENT, NotReady, ServiceError, UnexpectedError

if TYPE_CHECKING:
    from lti_microcred.lms.connection import LmsConnection

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 30
RETRY_AFTER_CAP = 6 * 3600.0  # a platform's Retry-After is obeyed up to this, whatever our own ceiling


@dataclass(frozen=True)
class WorkerOptions:
    batch: int = 100
    concurrency: int = 8
    lease_seconds: float = 120.0
    poll_seconds: float = 1.0
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 3600.0
    max_attempts: int = MAX_ATTEMPTS


def worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"


def backoff(attempts: int, base: float, ceiling: float, retry_after: float | None = None,
            rng: random.Random | None = None) -> float:
    """Seconds to wait before attempt `attempts + 1`: jittered, and at least the platform's Retry-After."""
    window = min(ceiling, base * (2 ** max(0, attempts - 1)))
    delay = (rng or random).uniform(window / 2, window)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
    return delay


class Worker:
    """One delivery loop; several may run against the same database (threads, processes, machines)."""

    def __init__(self, lms: LmsConnection, handlers: HandlerRegistry, options: WorkerOptions | None = None,
                 name: str | None = None) -> None:
        self.lms = lms
        self.handlers = handlers
        self.options = options or WorkerOptions()
        self.queue = Queue(lms.sessions, name or worker_id(), self.options.lease_seconds)
        self._pool = ThreadPoolExecutor(max_workers=self.options.concurrency, thread_name_prefix="lms-deliver")
        self._stopping = False  # a plain flag, so that a signal handler may set it (an Event takes a lock)
        self._wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.delivered = 0
        self._failed_rounds = 0  # rounds in a row that raised (the database away): quieter logs, longer waits
        self.heartbeat: Heartbeat | None = None  # written while run_forever runs

    # --- rounds --------------------------------------------------------------------------------------------
    def _claim(self) -> list[Claimed]:
        return self.queue.claim(self.handlers.kinds, self.handlers.coalescing, self.options.batch,
                                self.lms.client.paused())

    def _submit(self, claimed: list[Claimed]) -> list[Future[Outcome]]:
        return [self._pool.submit(self._deliver, message) for message in claimed]

    def _settle(self, claimed: list[Claimed], futures: list[Future[Outcome]]) -> int:
        outcomes = [future.result() for future in futures]
        self.queue.settle(zip(claimed, outcomes, strict=True), self.options.max_attempts)
        self.delivered += len(claimed)
        self._beat()
        return len(claimed)

    def run_once(self) -> int:
        """Claim, deliver and settle one batch; returns how many rows it handled."""
        claimed = self._claim()
        return self._settle(claimed, self._submit(claimed)) if claimed else 0

    def run_batches(self) -> int:
        """Batches until none is due, the database work of one overlapping the deliveries of the next.

        Batch N+1 is claimed while N is in flight (N's rows are leased, so it cannot take them or anything after
        them in their keys). Once N is sent, only `concurrency` rows of N+1 start before N is settled: enough to
        keep the LMS busy meanwhile, and a worker that dies leaves at most batch + concurrency rows sent but not
        recorded, which another worker sends again (the same scores, harmless) after their lease."""
        claimed = self._claim()
        futures = self._submit(claimed)
        handled = 0
        width = self.options.concurrency
        while claimed:
            upcoming = [] if self._stopping else self._claim()
            for future in futures:
                future.result()
            started = self._submit(upcoming[:width])
            handled += self._settle(claimed, futures)
            claimed, futures = upcoming, started + self._submit(upcoming[width:])
        return handled

    def _deliver(self, message: Claimed) -> Outcome:
        """Run the row's handler with the id of what caused the row bound, so every line about it names that."""
        with request_ids.bound(message.request_id):
            outcome = self._handle(message)
            log_outcome(message, outcome, self.options.max_attempts)
        return outcome

    def _handle(self, message: Claimed) -> Outcome:
        spec = self.handlers.get(message.kind)
        assert spec is not None, "only kinds with a handler are claimed"
        try:
            return spec.handler(Job(message, self.lms, self.outcome_of)) or Outcome(DONE)
        except NotReady as exc:
            return Outcome(DEFER, str(exc), exc.delay_seconds)
        except ServiceError as exc:
            return self.outcome_of(message, exc)
        except Exception as exc:  # a bug in one handler must not stop every delivery
            log.exception("outbox row %s (%s) failed unexpectedly", message.id, message.kind)
            return self.outcome_of(message, UnexpectedError(exc))

    def outcome_of(self, message: Claimed, exc: ServiceError) -> Outcome:
        if exc.kind == PERMANENT:
            return Outcome(FAILED, str(exc), http_status=exc.status)
        return Outcome(RETRY, str(exc), self._delay(message, exc.retry_after), exc.status)

    def _delay(self, message: Claimed, retry_after: float | None) -> float:
        o = self.options
        return backoff(message.attempts + 1, o.backoff_seconds, o.backoff_max_seconds, retry_after)

    # --- loops ------------------------------------------------------------------------------------------------
    def drain(self, timeout: float = 30.0) -> int:
        """Deliver until nothing claimable is left or due within `timeout`, or a stop is requested."""
        deadline = time.monotonic() + timeout
        handled = 0
        while time.monotonic() < deadline and not self._stopping:
            count = self.run_batches()
            handled += count
            if count:
                continue
            due = self.queue.next_due(self.handlers.kinds)
            if due is None:
                return handled
            wait = (due - utcnow()).total_seconds()
            if wait > deadline - time.monotonic():
                return handled
            # Due but not claimable (another worker's lease, a kind without a handler, a paused LMS): poll.
            time.sleep(self.options.poll_seconds if wait <= 0 else min(wait, self.options.poll_seconds))
        return handled

    def run_forever(self, tick: object = None) -> None:
        """Until stop() or request_stop(): a scheduler tick (roster, read-back) then batches; sleep when idle."""
        self.heartbeat = self.heartbeat or Heartbeat(self.lms.sessions, self.queue.worker_id)
        while not self._stopping:
            self._beat()
            try:
                if callable(tick):
                    tick()
                busy = self.run_batches()
                self._failed_rounds = 0
            except Exception as exc:  # the database may be unavailable for a while: keep going, quietly
                self._failed_rounds += 1
                self._log_failed_round(exc)
                busy = 0
            if not busy:
                self._wake.wait(self._idle_seconds())
                self._wake.clear()

    def _log_failed_round(self, exc: Exception) -> None:
        """The whole traceback once, then one line per failed round (a database outage would otherwise print
        hundreds of lines a minute)."""
        if self._failed_rounds == 1:
            log.exception("delivery round failed; retrying shortly")
        else:
            first_line = (str(exc).splitlines() or [""])[0][:200]
            log.warning("delivery round failed again (%d in a row; next try in %.0f s): %s: %s", self._failed_rounds,
                        self._idle_seconds(), exc.__class__.__name__, first_line)

    def _idle_seconds(self) -> float:
        """The poll interval, doubled per failed round in a row, up to 30 s (or the interval, if longer)."""
        if not self._failed_rounds:
            return self.options.poll_seconds
        ceiling = max(self.options.poll_seconds, 30.0)
        return min(ceiling, self.options.poll_seconds * 2 ** min(self._failed_rounds - 1, 16))

    def start(self, tick: object = None) -> threading.Thread:
        self.thread = threading.Thread(target=self.run_forever, args=(tick,), name="lms-worker", daemon=True)
        self.thread.start()
        return self.thread

    def wake(self) -> None:
        self._wake.set()

    def request_stop(self) -> None:
        """Finish and settle the batch in flight, then leave run_forever (within poll_seconds when idle).

        Safe in a signal handler: it only sets a flag. Stopping the pool there instead would drop the settling
        of rows already sent, which another worker would then send again."""
        self._stopping = True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop, wait for its thread, then close the delivery pool."""
        self._stopping = True
        self._wake.set()
        if self.thread is not None:
            self.thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.heartbeat is not None:
            self.heartbeat.remove()

    def _beat(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.beat(self.delivered)
