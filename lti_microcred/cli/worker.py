"""`microcred worker`: deliver grades, awards and credentials from the outbox, as its own process."""

from __future__ import annotations

import logging
import signal
from dataclasses import replace
from typing import Any

import click

from lti_microcred.app.delivery import configure_delivery
from lti_microcred.cli.common import command_services
from lti_microcred.lms.delivery.worker import WorkerOptions


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
    services = command_services()
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

