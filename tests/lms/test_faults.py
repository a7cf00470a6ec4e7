"""Fault injection: whatever the LMS does for a while (500, 503/429 with Retry-After, 401, 400, hanging past
the timeout, dropping the connection), once it recovers every score is there exactly as last decided:
none lost, none out of order, no older value over a newer one."""

from __future__ import annotations

import datetime as dt

import pytest

from lti_microcred.core.db import transaction, utcnow
from lti_microcred.devplatform.services import DevServices
from lti_microcred.lms.delivery.state import cells, retry_failed
from lti_microcred.lms.delivery.worker import Worker, WorkerOptions
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.services import Services
from tests.lms.scenario import Course, make_course
from tests.support.driver import Browser, LmsHandle


@pytest.fixture
def course(services: Services, browser: Browser, lms: tuple[LmsHandle, DevServices], runtime: LmsRuntime) -> Course:
    c = make_course(services, browser, *lms)
    c.add_learners(8)
    return c


def assert_as_decided(course: Course, ordered: bool = True) -> None:
    """The LMS holds each learner's last decided value and timestamp; the tool sent them oldest first."""
    item = course.column_item_id()
    intended = course.intended()
    assert intended
    for sub, payload in intended.items():
        got = course.dev.score_of(item, sub)
        assert got is not None, f"{sub}: lost"
        assert (got["scoreGiven"], got["timestamp"]) == (payload["score_given"],
                                                        dt.datetime.fromisoformat(payload["timestamp"])), sub
    latest = {m.ordering_key: m.status for m in course.outbox("module_result")}
    assert set(latest.values()) == {"done"}
    assert {d.state for d in course.deliveries().values()} == {"sent"}
    if ordered:
        for sub in intended:
            stamps = [s["timestamp"] for s in course.dev.score_log if s["userId"] == sub]
            assert stamps == sorted(stamps), f"{sub}: an older score was sent after a newer one"


def decide_in_rounds(course: Course, worker: Worker, rounds: int = 3) -> None:
    """New values are decided while earlier ones are still failing: the realistic case."""
    for r in range(rounds):
        for i, sub in enumerate(course.learners):
            course.set_result(sub, (i + r) % 5)
        worker.run_once()


@pytest.mark.parametrize("fault", ["500", "503", "429", "drop", "hang"])
def test_transient_faults_then_recovery(course: Course, worker: Worker, fault: str) -> None:
    course.dev.faults.add(fault, times=4, retry_after=0, seconds=0.8)
    decide_in_rounds(course, worker)
    worker.drain(15)
    assert course.dev.faults.injected.get(fault) == 4
    assert_as_decided(course, ordered=fault != "hang")  # a hung request may land late; the LMS drops it


def test_retry_after_is_honoured(course: Course, worker: Worker) -> None:
    course.dev.faults.add("503", times=1, retry_after=3)
    course.set_result("learner-1", 2)
    before = utcnow()
    worker.run_once()
    [row] = course.outbox("module_result")
    assert row.status == "pending" and "503" in (row.last_error or "")
    assert row.available_dt >= before + dt.timedelta(seconds=2.9)  # our back-off alone would be 0.05 s
    injected = dict(course.dev.faults.injected)
    assert worker.run_once() == 0  # not before the LMS said so
    assert course.dev.faults.injected == injected and course.dev.score_log == []  # the LMS heard nothing more


def test_expired_token_is_refreshed_once(course: Course, worker: Worker) -> None:
    course.set_result("learner-1", 1)
    worker.drain(5)
    assert course.dev.token_requests == 1
    course.dev.faults.add("401", times=1)
    course.set_result("learner-1", 3)
    worker.drain(5)
    assert course.dev.token_requests == 2
    assert [m.attempts for m in course.outbox("module_result")] == [1, 1]  # no retry needed: refreshed in place
    assert_as_decided(course)


def test_permanent_error_is_shown_not_retried_then_retried_on_request(course: Course, worker: Worker,
                                                                      services: Services) -> None:
    course.dev.faults.add("400", times=1)
    course.set_result("learner-1", 2)
    worker.drain(5)
    [row] = course.outbox("module_result")
    assert (row.status, row.attempts) == ("failed", 1)
    with services.read_sessions() as session:
        cell = cells(session, course.context_id, [course.module_id], [])[row.ordering_key]
    assert cell.state == "failed" and "HTTP 400" in (cell.error or "")
    with transaction(services.sessions) as session:
        assert retry_failed(session, course.context_id) == 1
    worker.drain(5)
    assert_as_decided(course)


def test_newer_value_after_a_failure_is_still_sent(course: Course, worker: Worker) -> None:
    course.dev.faults.add("400", times=1)
    course.set_result("learner-1", 2)
    worker.drain(5)
    course.set_result("learner-1", 4)
    worker.drain(5)
    assert [m.status for m in course.outbox("module_result")] == ["failed", "done"]
    assert_as_decided(course)


def test_everything_at_once_at_random(course: Course, worker: Worker) -> None:
    course.dev.faults.rate = 0.35
    course.dev.faults.random_kinds = ("500", "503", "429", "drop", "hang", "401")
    course.dev.faults.hang_seconds = 0.7
    decide_in_rounds(course, worker, rounds=5)
    course.dev.faults.rate = 0.0  # the LMS recovers
    worker.drain(30)
    assert sum(course.dev.faults.injected.values()) >= 3
    assert_as_decided(course, ordered=False)


def test_a_throttled_lms_is_paused_as_a_whole(course: Course, runtime: LmsRuntime) -> None:
    """429 with Retry-After: the other learners' scores wait too (not counted as failed attempts)."""
    one_at_a_time = runtime.worker(WorkerOptions(batch=10, concurrency=1, poll_seconds=0.05, backoff_seconds=0.05,
                                                 backoff_max_seconds=0.4))
    try:
        subs = list(course.learners)[:5]
        for sub in subs:
            course.set_result(sub, 2)
        course.dev.faults.add("429", times=1, retry_after=2)
        one_at_a_time.run_once()
        assert course.dev.score_log == []  # the first was refused; nobody else was sent meanwhile
        rows = course.outbox("module_result")
        assert sorted(r.attempts for r in rows) == [0, 0, 0, 0, 1]
        assert {d.state for d in course.deliveries().values()} == {"retrying", "waiting"}
        started = utcnow()
        one_at_a_time.drain(10)
        assert utcnow() - started >= dt.timedelta(seconds=1.5)
        assert_as_decided(course)
    finally:
        one_at_a_time.stop()


def test_an_unexpected_error_is_shown_on_the_cell_then_retried(course: Course, runtime: LmsRuntime, worker: Worker,
                                                               services: Services, monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    def broken(context_id: int, module_id: int, create: bool = True) -> None:
        raise KeyError("internal-detail")

    monkeypatch.setattr(runtime.columns, "module", broken)
    course.set_result("learner-1", 2)
    worker.run_once()
    [row] = course.outbox("module_result")
    with services.read_sessions() as session:
        cell = cells(session, course.context_id, [course.module_id], [])[row.ordering_key]
    assert cell.state == "retrying" and "KeyError" in (cell.error or "")
    assert "internal-detail" not in (cell.error or "")  # the class name only; the details are in the log
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)
    monkeypatch.undo()
    worker.drain(5)
    assert_as_decided(course)


@pytest.mark.parametrize("kind", ["canvas-throttle", "429-bare"])
def test_a_throttle_without_retry_after_pauses_the_lms_then_delivers(course: Course, runtime: LmsRuntime, kind: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Canvas throttles with 403 "Rate Limit Exceeded" and no Retry-After; some LMSs send a bare 429. Both are
    a pause for the whole LMS, never a permanent failure."""
    monkeypatch.setattr("lti_microcred.lms.http.THROTTLE_PAUSE_SECONDS", 1.5)
    one_at_a_time = runtime.worker(WorkerOptions(batch=10, concurrency=1, poll_seconds=0.05, backoff_seconds=0.05,
                                                 backoff_max_seconds=0.4))
    try:
        for sub in list(course.learners)[:3]:
            course.set_result(sub, 2)
        course.dev.faults.add(kind, times=1)
        one_at_a_time.run_once()
        assert course.dev.score_log == []
        assert {d.state for d in course.deliveries().values()} == {"retrying", "waiting"}
        started = utcnow()
        one_at_a_time.drain(10)
        assert utcnow() - started >= dt.timedelta(seconds=1.2)
        assert_as_decided(course)
    finally:
        one_at_a_time.stop()


def test_calls_slow_down_when_the_lms_says_its_rate_budget_runs_low(course: Course, runtime: LmsRuntime) -> None:
    """Canvas reports X-Rate-Limit-Remaining on every answer: below 100 the next call waits for the bucket to
    drain (10 units a second), before Canvas starts refusing."""
    one_at_a_time = runtime.worker(WorkerOptions(batch=10, concurrency=1, poll_seconds=0.05))
    try:
        for sub in list(course.learners)[:3]:
            course.set_result(sub, 2)
        course.dev.rate_limit_remaining = 92.0  # each call after the first waits 0.8 s
        started = utcnow()
        one_at_a_time.drain(20)
        assert utcnow() - started >= dt.timedelta(seconds=1.6)
        assert_as_decided(course)
    finally:
        one_at_a_time.stop()
