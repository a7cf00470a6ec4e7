"""One log line per delivery attempt: sent, not sent (and why), waiting, retrying or failed.

Written while the worker has the row's request id bound (core/request_ids.py), so the line names the launch or
request that caused the row, and an operator following a launch sees its grades and credentials go out.
"""

from __future__ import annotations

import logging

from lti_microcred.lms.delivery.jobs import DEFER, DONE, FAILED, LMS_NEWER, RETRY, SUPERSEDED, Claimed, Outcome

log = logging.getLogger(__name__)


def log_outcome(message: Claimed, outcome: Outcome, max_attempts: int) -> None:
    attempt = message.attempts + 1
    row = f"outbox row {message.id} ({message.kind}"
    row += f", standing for {len(message.ids)} rows)" if message.followers else ")"
    status, error = outcome.status, outcome.error or "no reason given"
    if status == DONE:
        answer = f" (HTTP {outcome.http_status})" if outcome.http_status else ""
        log.info("%s done on attempt %d%s", row, attempt, answer)
    elif status in (SUPERSEDED, LMS_NEWER):
        log.info("%s not sent: %s", row, error)
    elif status == DEFER:
        log.info("%s waits %.0f s: %s", row, outcome.delay or 0.0, error)
    elif status == RETRY and attempt < max_attempts:
        log.warning("%s attempt %d failed, next in %.0f s: %s", row, attempt, outcome.delay or 0.0, error)
    elif status in (RETRY, FAILED):
        log.error("%s failed for good on attempt %d: %s", row, attempt, error)
