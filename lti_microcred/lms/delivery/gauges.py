"""What a scrape of /metrics reads from the database: the outbox's backlog, the delivery workers' heartbeats
and which platform id is which LMS. State, not events: every process would report the same, so it is read
once per scrape instead of being counted in each process.

Three short reads per scrape: the pending rows grouped by kind (a range of the (status, available_dt) index:
it grows with the backlog, ~1 ms per 10,000 pending rows), the heartbeat rows (one per running worker, kept
a day after a crash) and the platforms table (one row per registration).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.db import utcnow
from lti_microcred.core.outbox import OutboxMessage
from lti_microcred.lms.models import WorkerHeartbeat
from lti_microcred.lti.models import Platform

LIVE_SECONDS = 60.0  # a worker silent longer than this is not counted live (it beats every 5 s)
log = logging.getLogger(__name__)


class DeliveryGauges:
    """A Prometheus collector over the database (read sessions only: a scrape never takes a write lock).
    `kinds`: the outbox kinds this process has handlers for, reported at 0 when nothing waits, so an alert
    sees a value rather than a gap."""

    def __init__(self, read_sessions: sessionmaker[Session], kinds: Iterable[str] = ()) -> None:
        self._sessions = read_sessions
        self._kinds = frozenset(kinds)

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("microcred_metrics_database_up",
                               "1 when the database answered this scrape's reads, 0 when it did not.")
        try:
            with self._sessions() as session:
                now = utcnow()
                found = [*_outbox(session, now, self._kinds), *_workers(session, now), _platforms(session)]
        except Exception:
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found


def _outbox(session: Session, now: dt.datetime, kinds: frozenset[str]) -> list[Metric]:
    pending = GaugeMetricFamily("microcred_outbox_pending", "Outbox rows waiting for delivery, by kind.",
                                labels=["kind"])
    oldest = GaugeMetricFamily("microcred_outbox_oldest_pending_age_seconds",
                               "Age of the oldest row waiting for delivery, by kind (0 when none waits).",
                               labels=["kind"])
    rows = {kind: (count, first) for kind, count, first in session.execute(
        select(OutboxMessage.kind, func.count(), func.min(OutboxMessage.created_dt))
        .where(OutboxMessage.status == "pending").group_by(OutboxMessage.kind))}
    for kind in sorted(kinds | set(rows)):
        count, first = rows.get(kind, (0, None))
        pending.add_metric([kind], count)
        oldest.add_metric([kind], max(0.0, (now - first).total_seconds()) if first else 0.0)
    return [pending, oldest]


def _workers(session: Session, now: dt.datetime) -> list[Metric]:
    age = GaugeMetricFamily("microcred_worker_heartbeat_age_seconds",
                            "Seconds since each delivery worker's last heartbeat (kept a day after it stops beating).",
                            labels=["worker"])
    delivered = GaugeMetricFamily("microcred_worker_delivered_rows", "Outbox rows each delivery worker had "
                                  "settled since it started, as of its last heartbeat.", labels=["worker"])
    live = 0
    for worker, seen, count in session.execute(
            select(WorkerHeartbeat.worker, WorkerHeartbeat.seen_dt, WorkerHeartbeat.delivered)):
        seconds = max(0.0, (now - seen).total_seconds())
        age.add_metric([worker], seconds)
        delivered.add_metric([worker], count)
        live += seconds <= LIVE_SECONDS
    workers = GaugeMetricFamily("microcred_workers_live",
                                f"Delivery workers whose last heartbeat is under {LIVE_SECONDS:.0f} s old.")
    workers.add_metric([], live)
    return [age, delivered, workers]


def _platforms(session: Session) -> Metric:
    info = GaugeMetricFamily("microcred_platform_info", "The LMS registrations behind the `platform` label.",
                             labels=["platform", "issuer_host", "status"])
    for platform_id, issuer, status in session.execute(select(Platform.id, Platform.issuer, Platform.status)):
        info.add_metric([str(platform_id), urlsplit(issuer).hostname or "", status], 1)
    return info
