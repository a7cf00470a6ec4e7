"""Moodle-shaped and Canvas-shaped answers: query strings in line-item URLs, Link headers, 400 on a
timestamp regression, Moodle's 400 for people not enrolled, scopes the LMS really granted."""

from __future__ import annotations

import datetime as dt
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import update

from lti_microcred.core.db import transaction
from lti_microcred.devplatform.services import DevServices
from lti_microcred.devplatform.urls import lineitems_url
from lti_microcred.lms import access
from lti_microcred.lms.ags import Ags
from lti_microcred.lms.errors import ScopeNotGranted
from lti_microcred.lms.http import PlatformHTTP, retry_after_seconds, service_url, with_query
from lti_microcred.lms.roster import sync_roster
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.lti import scopes
from lti_microcred.lti.models import Platform, User
from lti_microcred.services import Services
from tests.lms.scenario import Course, make_course
from tests.support.driver import Browser, LmsHandle


def test_moodle_urls_keep_their_query_after_the_path() -> None:
    item = "https://moodle.example.edu/mod/lti/services.php/2/lineitems/5/lineitem?type_id=3"
    assert service_url(item, "scores") == \
        "https://moodle.example.edu/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=3"
    assert with_query("https://m.example/lineitems?type_id=3", {"resource_id": "Ab", "limit": 10}) == \
        "https://m.example/lineitems?type_id=3&resource_id=Ab&limit=10"
    assert with_query("https://c.example/line_items", {"tag": None}) == "https://c.example/line_items"


def test_retry_after_as_seconds_or_date() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None


class _Pages(BaseHTTPRequestHandler):
    """Two pages of line items; the first names the second in a lower-case `link` header."""

    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def log_message(self, *_: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append(self.path)
        first = self.path == "/api/lti/courses/1/line_items"
        body = b"[1]" if first else b"[2]"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if first:
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            self.send_header("link", f'<{host}/api/lti/courses/1/line_items?Page=2&Token=AbC>; rel="next", '
                                     f'<{host}/first>; rel="first"')
        self.end_headers()
        self.wfile.write(body)


def test_link_header_in_any_case_and_the_url_untouched(services: Services) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/lti/courses/1/line_items"
        pages = list(PlatformHTTP(services.http).pages(url, "t", "application/json"))
        assert pages == [[1], [2]]
        assert _Pages.seen[-1] == "/api/lti/courses/1/line_items?Page=2&Token=AbC"  # never lower-cased
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def course(services: Services, browser: Browser, lms: tuple[LmsHandle, DevServices], runtime: LmsRuntime) -> Course:
    return make_course(services, browser, *lms)


def test_people_not_enrolled_are_refused_and_shown(course: Course, services: Services, worker: Any) -> None:
    with transaction(services.sessions) as session:
        session.add(User(platform_id=course.platform_id, sub="gone-1", name="Gone"))
        session.flush()
        course.learners["gone-1"] = session.query(User.id).filter(User.sub == "gone-1").scalar()
    course.set_result("gone-1", 2)
    worker.drain(5)
    [row] = course.outbox("module_result")
    [delivery] = course.deliveries().values()
    assert (row.status, delivery.state) == ("failed", "failed")
    if course.lms.flavour == "moodle":
        assert delivery.http_status == 400 and "not enrolled" in (delivery.last_error or "")
    else:
        assert delivery.http_status == 422


def test_a_refusal_shows_the_lms_own_reason_not_a_guess(course: Course, worker: Any) -> None:
    course.dev.faults.add("400", match="scores")  # refused for some reason of the LMS's own
    course.set_result("learner-1", 2)
    worker.drain(5)
    [delivery] = course.deliveries().values()
    assert (delivery.state, delivery.http_status) == ("failed", 400)
    assert "injected 400" in (delivery.last_error or "") and "enrol" not in (delivery.last_error or "")
    assert (delivery.last_error or "").startswith(f"{course.lms.flavour.capitalize()} refused the score (HTTP 400)")


def test_a_withdrawn_learner_is_still_sent_and_named_as_such_when_refused(course: Course, runtime: LmsRuntime,
                                                                         worker: Any) -> None:
    course.add_learners(1)
    sync_roster(runtime.connection, course.context_id)
    course.dev.members.pop("student-0000")  # unenrolled in the LMS
    sync_roster(runtime.connection, course.context_id)
    course.set_result("student-0000", 2)
    worker.drain(5)
    assert [s["userId"] for s in course.dev.score_log] == ["student-0000"]  # sent all the same: the LMS decides
    [delivery] = course.deliveries().values()
    assert delivery.state == "failed" and delivery.http_status in (400, 422)
    assert "withdrawn from the course" in (delivery.last_error or "")
    said = "not enrolled" if course.lms.flavour == "moodle" else "User not found in course"
    assert said in (delivery.last_error or "")  # and what the LMS said


def test_a_newer_grade_in_moodle_wins_over_an_older_one_of_ours(services: Services, browser: Browser,
                                                                moodle: LmsHandle, moodle_services: DevServices,
                                                                runtime: LmsRuntime, worker: Any) -> None:
    """Moodle keeps the time of a teacher's edit and refuses older scores; Canvas moves no timestamp on a teacher's
    edit (tests/lms/test_teacher_grades.py)."""
    course = make_course(services, browser, moodle, moodle_services)
    course.set_result("learner-1", 1)
    worker.drain(5)
    item = course.column_item_id()
    course.dev.teacher_grades(item, "learner-1", 49.0)
    course.dev.results[item]["learner-1"]["timestamp"] += dt.timedelta(hours=1)  # entered after our next decision
    course.set_result("learner-1", 3)
    worker.drain(5)
    assert course.grade() == 49.0  # never overwritten by an older value (Moodle keeps it silently)


def test_scopes_not_granted_are_named(course: Course, services: Services, runtime: LmsRuntime) -> None:
    with transaction(services.sessions) as session:
        session.execute(update(Platform).where(Platform.id == course.platform_id).values(
            granted_scopes=f"{scopes.AGS_SCORE} {scopes.AGS_LINEITEM_READONLY}"))
    with pytest.raises(ScopeNotGranted, match="'lineitem'"):
        Ags(runtime.client, course.platform_id).create_line_item(lineitems_url(course.lms.platform),
                                                                 {"label": "x", "scoreMaximum": 1})
    assert course.dev.token_requests == 0
    assert Ags(runtime.client, course.platform_id).line_items(lineitems_url(course.lms.platform)) is not None


def test_token_request_narrowed_when_the_lms_refuses_a_scope(course: Course, runtime: LmsRuntime) -> None:
    course.dev.allowed_scopes = {scopes.AGS_SCORE, scopes.AGS_LINEITEM_READONLY}  # a Canvas key without the rest
    items = Ags(runtime.client, course.platform_id).line_items(lineitems_url(course.lms.platform))
    assert items  # the module's column
    assert course.dev.token_requests == 2  # all AGS scopes refused (400), then only the one needed


def test_a_narrowed_scope_set_is_asked_in_full_again_later(course: Course, runtime: LmsRuntime,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access, "NARROWED_SECONDS", 0.5, raising=False)
    ags = Ags(runtime.client, course.platform_id)
    course.dev.allowed_scopes = {scopes.AGS_SCORE, scopes.AGS_LINEITEM_READONLY}
    ags.line_items(lineitems_url(course.lms.platform))
    course.dev.allowed_scopes = None  # an LMS admin gives the key the other scopes
    ags.line_items(lineitems_url(course.lms.platform))
    assert course.dev.token_requests == 2  # meanwhile the narrowed token serves
    time.sleep(0.6)
    ags.line_items(lineitems_url(course.lms.platform))
    assert course.dev.token_requests == 3  # the full set asked again
    ags.create_line_item(lineitems_url(course.lms.platform), {"label": "x", "scoreMaximum": 1})
    assert course.dev.token_requests == 3  # and that one token now serves line-item management too
