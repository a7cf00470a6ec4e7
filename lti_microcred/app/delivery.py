"""Delivery set-up for web and worker processes: the outbox handlers of every package, the in-process
delivery thread of a web process, and draining for tests and `microcred worker --drain`.

This is process assembly (like the app factory): it may import every package, so it is where the delivery
handlers of all packages are registered.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from lti_microcred.competencies.credential_reevaluation import reevaluate_in_batches
from lti_microcred.core import outbox
from lti_microcred.credentials.issuing.jobs import award_comment, issue_credential_job, revoke_credential_job
from lti_microcred.lms.delivery.jobs import Job
from lti_microcred.lms.delivery.worker import Worker, WorkerOptions
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.services import Services, runtime_of

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)


def configure_delivery(services: Services) -> LmsRuntime:
    """Everything a process needs to deliver outbox rows; safe to call more than once."""
    runtime = runtime_of(services)
    if outbox.ISSUE_CREDENTIAL not in runtime.handlers.kinds:
        register = runtime.handlers.register
        # Issuing runs its own transactions: it signs before it writes.
        register(outbox.ISSUE_CREDENTIAL, lambda job: issue_credential_job(services, job.message))
        register(outbox.REVOKE_CREDENTIAL, _in_transaction(services, revoke_credential_job))
        register(outbox.REEVALUATE_CREDENTIAL, partial(_reevaluate, services), coalesce=True)
        runtime.set_award_comment(award_comment(services.credential_urls))
    # Kinds without a handler stay pending (never failed) until a process that has one picks them up.
    return runtime


def _reevaluate(services: Services, job: Job) -> None:
    reevaluate_in_batches(services.sessions, job.message.data)


def _in_transaction(services: Services, job_function: Callable[[Any, Session, Any], None]) -> Callable[[Job], None]:
    """A domain job run in its own write transaction: committed when it returns, rolled back (and retried
    by the worker) when it raises."""

    def handler(job: Job) -> None:
        with services.sessions.begin() as session:
            job_function(services, session, job.message)

    return handler


def start_in_process_worker(app: Flask, force: bool = False) -> Worker | None:
    """The single-machine default: a daemon thread delivering from inside the web process.

    Not started when settings.worker_in_process is 0 (run `microcred worker` instead) or in the test
    environment, where tests drive delivery themselves with `drain()` (or pass force=True).
    """
    services: Services = app.extensions["microcred"]
    runtime = configure_delivery(services)
    settings = services.settings
    if not force and (not settings.worker_in_process or settings.env == "test"):
        return None
    worker = runtime.worker()
    if worker.thread is None:
        worker.start(tick=runtime.scheduler.tick)
        atexit.register(worker.stop, 5.0)
    app.extensions["microcred_worker"] = worker
    return worker


def drain(services: Services, timeout: float = 30.0, tick: bool = True, options: WorkerOptions | None = None) -> int:
    """Deliver everything due now (and what falls due within `timeout`): tests and `microcred worker --drain`."""
    runtime = configure_delivery(services)
    if tick:
        runtime.scheduler.tick(force=True)
    return runtime.worker(options).drain(timeout)

