"""The instructor's pages: gradebook delivery per learner and column (with retry), and the NRPS roster."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from lti_microcred.devplatform.services import DevServices
from lti_microcred.lms.delivery.worker import Worker
from lti_microcred.lms.roster import sync_roster
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.services import Services, runtime_of
from tests.lms.conftest import FAST
from tests.lms.scenario import Course, make_course
from tests.support.driver import Browser, LmsHandle, form_fields


def course_runtime(course: Course) -> LmsRuntime:
    return runtime_of(course.services)


def session_path(browser: Browser, lms: LmsHandle, user: str) -> str:
    page = browser.launch(lms, user)
    assert page.status_code == 200
    return re.search(r"(/s/[^/]+/)", page.url).group(1)  # type: ignore[union-attr]


@pytest.fixture
def course(services: Services, browser: Browser, moodle: LmsHandle, moodle_services: DevServices,
           runtime: LmsRuntime) -> Course:
    return make_course(services, browser, moodle, moodle_services)


def test_gradebook_shows_each_cell_and_retries_failures(course: Course, browser: Browser, client: Any,
                                                        worker: Worker) -> None:
    course.add_learners(2)
    sync_roster(course_runtime(course).connection, course.context_id)  # they are in the course
    course.set_result("learner-1", 2)
    course.set_result("student-0000", 1)
    course.dev.faults.add("400", match="scores")
    worker.drain(5)
    course.set_result("student-0001", 4)  # queued, not yet sent
    base = session_path(browser, course.lms, "instructor-1")
    page = client.get(base + "gradebook/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    module = course.module_id
    cell = lambda sub, uid: re.search(  # noqa: E731
        rf'data-key="module:{module}:{uid}">(.*?)</td>', html, re.S).group(1)  # type: ignore[union-attr]
    learners = course.learners
    states = {sub: re.search(rf'data-state="(\w+)" data-key="module:{module}:{learners[sub]}"', html).group(1)
              for sub in ("learner-1", "student-0000", "student-0001")}
    failed = "learner-1" if states["learner-1"] == "failed" else "student-0000"
    assert sorted(states.values()) == ["failed", "queued", "sent"]
    assert "HTTP 400" in cell(failed, learners[failed]) and "Send again" in cell(failed, learners[failed])
    sent = "student-0000" if failed == "learner-1" else "learner-1"
    assert "sent " in cell(sent, learners[sent])

    token = form_fields(html)["csrf_token"]
    answer = client.post(base + "gradebook/retry", data={"csrf_token": token})
    assert answer.status_code == 303
    worker.drain(5)
    html = client.get(base + "gradebook/?notice=retried").get_data(as_text=True)
    assert "Failed deliveries were queued again." in html
    assert html.count('<td data-state="sent"') == 3


def cell_of(html: str, key: str) -> tuple[str, str]:
    """(state, text) of one gradebook cell."""
    found = re.search(rf'data-state="(\w+)" data-key="{key}">(.*?)</td>', html, re.S)
    assert found, f"no cell {key}"
    return found.group(1), found.group(2)


def test_a_value_that_ran_out_of_retries_shows_failed_and_is_sent_again(course: Course, browser: Browser,
                                                                        client: Any, runtime: LmsRuntime) -> None:
    worker = runtime.worker(replace(FAST, max_attempts=3))
    try:
        course.dev.faults.add("500", times=3, match="scores")
        course.set_result("learner-1", 2)
        worker.drain(5)
        base = session_path(browser, course.lms, "instructor-1")
        html = client.get(base + "gradebook/").get_data(as_text=True)
        key = f"module:{course.module_id}:{course.learners['learner-1']}"
        state, text = cell_of(html, key)
        assert state == "failed" and "gave up after 3 attempts" in text and "HTTP 500" in text
        assert "Send again" in text and "Send the 1 failed grade again" in html
        answer = client.post(base + "gradebook/retry", data={"csrf_token": form_fields(html)["csrf_token"], "key": key})
        assert answer.status_code == 303
        worker.drain(5)  # the LMS has recovered
        state, text = cell_of(client.get(base + "gradebook/").get_data(as_text=True), key)
        assert state == "sent" and "25 / 50" in text
        assert course.dev.score_of(course.column_item_id(), "learner-1")["scoreGiven"] == 25.0
    finally:
        worker.stop()


def test_learners_may_not_see_delivery_or_roster(course: Course, browser: Browser, client: Any) -> None:
    base = session_path(browser, course.lms, "learner-1")
    assert client.get(base + "gradebook/").status_code == 403
    assert client.get(base + "roster/").status_code == 403


def test_roster_lists_everyone_with_pages_and_syncs_on_request(course: Course, browser: Browser,
                                                               client: Any) -> None:
    for i in range(140):
        course.dev.add_member(f"m{i:03}", name=f"Member {i:03}", family_name=f"Zz{i:03}")
    base = session_path(browser, course.lms, "instructor-1")
    html = client.get(base + "roster/").get_data(as_text=True)
    assert "Not read from the LMS yet." in html
    answer = client.post(base + "roster/sync", data={"csrf_token": form_fields(html)["csrf_token"]})
    assert answer.status_code == 303
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    total = len(course.dev.roster())
    assert f"{total} members read from the LMS" in html and "Page 1 of 2" in html
    second = client.get(base + "roster/?page=2").get_data(as_text=True)
    assert second.count('data-status="active"') == total - 100
    assert "Member 139" in second  # never launched the tool, listed all the same
