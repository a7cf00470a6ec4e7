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

from lti_microcred.core.db import utcnow
from lti_microcred.lms.delivery.jobs import DEFER, DONE, FAILED, RETRY, Claimed, HandlerRegistry, Job, Outcome
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
        while not self._stopping:
            try:
                if callable(tick):
                    tick()
                busy = self.run_batches()
            except Exception:  # the database may be briefly unavailable: keep going
                log.exception("delivery round failed; retrying shortly")
                busy = 0
            if not busy:
                self._wake.wait(self.options.poll_seconds)
                self._wake.clear()

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
