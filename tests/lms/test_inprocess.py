"""The single-machine default: a worker thread inside the web process; and `drain()` for one-off runs."""

from __future__ import annotations

from typing import Any

import pytest

from lti_microcred.app.delivery import drain, start_in_process_worker
from lti_microcred.devplatform.services import DevServices
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.services import Services
from tests.lms.scenario import Course, make_course
from tests.support.driver import Browser, LmsHandle, wait_until


@pytest.fixture
def course(services: Services, browser: Browser, moodle: LmsHandle, moodle_services: DevServices,
           runtime: LmsRuntime) -> Course:
    return make_course(services, browser, moodle, moodle_services)


def test_not_started_in_tests_unless_asked(app: Any) -> None:
    assert start_in_process_worker(app) is None


def test_the_web_process_delivers_in_the_background(course: Course, app: Any, runtime: LmsRuntime) -> None:
    worker = start_in_process_worker(app, force=True)
    assert worker is not None and worker.thread is not None and worker.thread.daemon
    try:
        course.set_result("learner-1", 4)
        runtime.wake()
        item = course.column_item_id()
        assert wait_until(lambda: course.dev.score_of(item, "learner-1"), 10)["scoreGiven"] == 50.0
        assert wait_until(lambda: course.deliveries() and next(iter(course.deliveries().values())).state == "sent")
    finally:
        worker.stop()
        app.extensions.pop("microcred_worker", None)


def test_drain_delivers_what_is_due_and_runs_the_scheduler(course: Course, services: Services) -> None:
    course.set_result("learner-1", 3)
    assert drain(services, timeout=10) >= 2  # the score, and the roster sync the launches made due
    assert course.dev.score_of(course.column_item_id(), "learner-1")["scoreGiven"] == 37.5
