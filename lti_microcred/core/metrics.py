"""The events every process counts for Prometheus (launches, requests, deliveries, credentials, verifications).

One catalogue, so the names and label values stay the same wherever they are recorded. Every label value is
from a bounded set: a code or class name, a page group, an outbox kind, a platform's row id; never a path,
a user or an error message, so a scrape never grows with traffic. State (the outbox, the workers) is not
counted here: the web endpoint reads it from the database when it is scraped.

Under `microcred run` these live in files shared by uWSGI's processes (see core/metrics_exposition.py);
elsewhere they are plain in-process values. Recording one costs a few microseconds.
"""

from __future__ import annotations

import re

from prometheus_client import Counter, Histogram, disable_created_metrics
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

disable_created_metrics()  # no `_created` twin of every series (multiprocess mode has none either)
# Seconds: a page is ~5-50 ms, a launch ~20 ms; a slow LMS or a large upload reaches seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_CODE = re.compile(r"[a-z0-9_]{1,40}")

LAUNCHES = Counter("microcred_launches", "LTI logins and launches by outcome (accepted, awaiting_storage, confirmed, "
                   "refused, failed) and, when refused, the refusal's reason code.", ["outcome", "reason"])
REQUEST_SECONDS = Histogram("microcred_request_duration_seconds", "Time to answer a request, by page group.",
                            ["group"], buckets=LATENCY_BUCKETS)
REQUESTS = Counter("microcred_requests", "Requests answered, by page group and status class (2xx..5xx).",
                   ["group", "status"])
DELIVERIES = Counter("microcred_deliveries", "Outbox rows settled, by platform (its id in `microcred platform list`), "
                     "kind and outcome (done, retry, defer, failed, superseded, lms_newer).",
                     ["platform", "kind", "outcome"])
CREDENTIALS = Counter("microcred_credential_changes", "Credential status changes that were committed: issued, "
                      "revoked, superseded (revoked by a re-issue), suspended, reinstated.", ["change"])
VERIFICATIONS = Counter("microcred_verifications", "Public verifications by verdict (verified, unverified) and "
                        "the first check that failed.", ["verdict", "failed_check"])


def bounded(value: str) -> str:
    """A label value from a code (a-z, 0-9, _; at most 40 characters), or `other`."""
    return value if _CODE.fullmatch(value) else "other"


def count_launch(outcome: str, reason: str = "") -> None:
    LAUNCHES.labels(outcome, bounded(reason) if reason else "").inc()


def count_delivery(platform_id: int, kind: str, outcome: str) -> None:
    DELIVERIES.labels(str(platform_id), bounded(kind), bounded(outcome)).inc()


def count_verification(verified: bool, failed_check: str) -> None:
    """`failed_check`: the name of the first check that failed ("trusted issuer" is counted as trusted_issuer)."""
    check = bounded(re.sub(r"[^a-z0-9]+", "_", failed_check.lower())) if failed_check else ""
    VERIFICATIONS.labels("verified" if verified else "unverified", check).inc()


# --- counted when the transaction commits ------------------------------------------------------------------
_PENDING = "microcred_metrics_pending"


def count_credential_after_commit(session: Session, change: str) -> None:
    """Count a credential change when (and only if) the session's transaction commits."""
    session.info.setdefault(_PENDING, []).append(CREDENTIALS.labels(bounded(change)))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the outer transaction may still roll back
        return
    for counter in session.info.pop(_PENDING, ()):
        counter.inc()


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    """A root transaction that ends without a commit (rollback, close) forgets what it would have counted."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)

