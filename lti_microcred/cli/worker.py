"""`microcred worker`: deliver grades, awards and credentials from the outbox, as its own process."""

from __future__ import annotations

import signal
from dataclasses import replace
from typing import Any

import click

from lti_microcred.app.delivery import configure_delivery
from lti_microcred.cli.common import command_services
from lti_microcred.core.logs import configure_logging
from lti_microcred.core.metrics_exposition import serve as serve_metrics
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
@click.option("--metrics-listen", default="", metavar="HOST:PORT",
              help="Serve this worker's metrics there (default: the metrics_listen setting; none when empty).")
def worker_command(batch: int, concurrency: int, lease_seconds: float, drain_only: bool, no_schedule: bool,
                   metrics_listen: str) -> None:
    """Deliver grades, awards and credentials from the outbox (run as many as you like)."""
    services = command_services()
    runtime = configure_delivery(services)
    options = replace(runtime.options(), batch=batch, concurrency=concurrency, lease_seconds=lease_seconds)
    configure_logging(services.settings)  # as command_services did (a second call changes nothing): text or JSON
    worker = runtime.worker(options)
    _serve_metrics(metrics_listen or services.settings.metrics_listen)

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


def _serve_metrics(listen: str) -> None:
    """The worker's deliveries and credential changes for Prometheus, without a token: bind it locally."""
    if not listen:
        return
    try:
        serve_metrics(listen)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot serve metrics on {listen}: {exc}") from exc
