"""Delivery workers: `microcred worker` processes for scale, or a thread in each web process by default.

This is process assembly (like the app factory): it may import every package, so it is where the delivery
handlers of all packages are registered.
"""

from __future__ import annotations

import atexit
import logging
import signal
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.orm import Session

from lti_microcred import outbox
from lti_microcred.competencies.awarding import reevaluate_in_batches
from lti_microcred.credentials.jobs import award_comment, issue_credential_job, revoke_credential_job
from lti_microcred.lms.delivery.jobs import Job
from lti_microcred.lms.delivery.worker import Worker, WorkerOptions
from lti_microcred.lms.runtime import LmsRuntime, runtime_of

if TYPE_CHECKING:
    from flask import Flask

    from lti_microcred.services import Services

log = logging.getLogger(__name__)


def configure_delivery(services: Services) -> LmsRuntime:
    """Everything a process needs to deliver outbox rows; safe to call more than once."""
    runtime = runtime_of(services)
    if outbox.ISSUE_CREDENTIAL not in runtime.handlers.kinds:
        runtime.handlers.register(outbox.ISSUE_CREDENTIAL, _issue_credential)
        runtime.handlers.register(outbox.REVOKE_CREDENTIAL, _in_transaction(revoke_credential_job))
        runtime.set_award_comment(award_comment(services.credential_urls))
        runtime.handlers.register(outbox.REEVALUATE_CREDENTIAL, _reevaluate, coalesce=True)
    # Kinds without a handler stay pending (never failed) until a process that has one picks them up.
    return runtime


def _issue_credential(job: Job) -> None:
    issue_credential_job(job.services, job.message)  # its own transactions: it signs before it writes


def _reevaluate(job: Job) -> None:
    reevaluate_in_batches(job.services.sessions, job.message.data)


def _in_transaction(job_function: Callable[[Any, Session, Any], None]) -> Callable[[Job], None]:
    """A domain job run in its own write transaction: committed when it returns, rolled back (and retried
    by the worker) when it raises."""

    def handler(job: Job) -> None:
        with job.services.sessions.begin() as session:
            job_function(job.services, session, job.message)

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


@click.command("worker")
@click.option("--batch", default=WorkerOptions.batch, show_default=True, help="Rows claimed per round.")
@click.option("--concurrency", default=WorkerOptions.concurrency, show_default=True,
              help="Deliveries in flight at once.")
@click.option("--lease-seconds", default=WorkerOptions.lease_seconds, show_default=True,
              help="How long a claimed row is ours; a crashed worker's rows are free again after this.")
@click.option("--drain", "drain_only", is_flag=True, help="Deliver what is due, then exit.")
@click.option("--no-schedule", is_flag=True,
              help="Do not queue roster syncs and grade read-backs (ended launch sessions are still deleted).")
def worker_command(batch: int, concurrency: int, lease_seconds: float, drain_only: bool, no_schedule: bool) -> None:
    """Deliver grades, awards and credentials from the outbox (run as many as you like)."""
    from lti_microcred.cli import _services

    services = _services()
    runtime = configure_delivery(services)
    options = replace(runtime.options(), batch=batch, concurrency=concurrency, lease_seconds=lease_seconds)
    logging.basicConfig(level=services.settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = runtime.worker(options)

    def _stop(_signum: int, _frame: Any) -> None:
        worker.request_stop()  # the loop settles what it sent, then returns; the pool is closed below

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if drain_only:
        if not no_schedule:
            runtime.scheduler.tick(force=True)
        delivered = worker.drain(timeout=3600)
        worker.stop()
        click.echo(f"delivered {delivered} row(s)")
        return
    tick = runtime.scheduler.purge_sessions if no_schedule else runtime.scheduler.tick
    click.echo(f"worker {worker.queue.worker_id} delivering {', '.join(runtime.handlers.kinds)}")
    worker.run_forever(tick)
    worker.stop()
    click.echo(f"stopped after delivering {worker.delivered} row(s)")


if __name__ == "__main__":  # `python -m lti_microcred.cli_worker` until `microcred worker` is registered
    worker_command()
