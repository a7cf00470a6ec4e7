"""The worker's line about each delivery attempt (done, retrying, failed) names what caused the row: the
launch whose pages decided it, else the request; the delivery thread binds it while it delivers that row."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from lti_microcred.core import request_ids
from lti_microcred.core.logs import RequestIdFilter, formatter
from lti_microcred.devplatform.services import DevServices
from lti_microcred.lms.delivery.worker import Worker, WorkerOptions
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.services import Services
from tests.lms.scenario import Course, make_course
from tests.support.driver import Browser, LmsHandle


@pytest.fixture
def course(services: Services, browser: Browser, moodle: LmsHandle, moodle_services: DevServices,
           runtime: LmsRuntime) -> Course:
    return make_course(services, browser, moodle, moodle_services)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The delivery lines as the JSON handler writes them."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter("json"))
    logger = logging.getLogger("lti_microcred.lms.delivery")
    logger.addHandler(handler)
    yield written
    logger.removeHandler(handler)


def _lines(written: io.StringIO, request_id: str) -> list[dict[str, Any]]:
    return [line for line in map(json.loads, written.getvalue().splitlines()) if line["request_id"] == request_id]


def test_each_attempt_names_the_launch_or_request_behind_the_row(course: Course, worker: Worker,
                                                                 json_lines: io.StringIO) -> None:
    with request_ids.bound("req-page-0001", "launch-00000001"):
        course.set_result("learner-1", 3)
    course.dev.faults.add("500", times=1)
    worker.drain(5)
    retried = _lines(json_lines, "launch-00000001")
    assert [line["level"] for line in retried] == ["WARNING", "INFO"]
    assert "attempt 1 failed, next in" in retried[0]["message"] and "done on attempt 2" in retried[1]["message"]

    with request_ids.bound("req-page-0002"):  # a request outside any launched session
        course.set_result("learner-1", 1)
    course.dev.faults.add("400", times=1)
    worker.drain(5)
    [failed] = _lines(json_lines, "req-page-0002")
    assert failed["level"] == "ERROR" and "failed for good on attempt 1" in failed["message"]
    assert failed["launch_id"] is None


def test_a_database_outage_logs_one_traceback_then_one_line_per_round(caplog: pytest.LogCaptureFixture,
                                                                     runtime: LmsRuntime) -> None:
    """While the database is away the loop keeps trying, slower each time, without a traceback per round."""
    worker = runtime.worker(WorkerOptions(poll_seconds=0.01))
    rounds = 0

    def down() -> int:
        nonlocal rounds
        rounds += 1
        if rounds >= 4:
            worker.request_stop()
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    worker.run_batches = down  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="lti_microcred.lms.delivery.worker"):
        worker.run_forever()
    worker.stop()
    records = [r for r in caplog.records if r.name == "lti_microcred.lms.delivery.worker"]
    assert [bool(r.exc_info) for r in records] == [True, False, False, False]
    assert "4 in a row" in records[-1].getMessage() and "connection refused" in records[-1].getMessage()
    assert worker._idle_seconds() == pytest.approx(0.08)
