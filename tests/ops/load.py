"""The batch the scale-out test drives through the proxy: learners launch from the LMS, send evidence for two
competencies, an instructor (in a launch of their own) accepts it, and the learner sees the award.

A request through the proxy that fails (a 5xx, or no answer) is counted, then the step is done again, as a
person would: a launch starts again from the LMS (its id_token was used), a form is sent again. Sending
evidence twice gives two pieces of evidence; both are accepted, and the award must still be made once.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import requests

from lti_microcred.core.signing import Signer
from lti_microcred.lti.sessions import csrf_token
from tests.support.driver import Browser, LmsHandle, reason_of
from tests.web.support import Visit

T = TypeVar("T")
EVIDENCE = re.compile(r'data-evidence="([0-9a-f]+)" data-status="(\w+)"')
AWARDED = re.compile(r'data-award="[0-9a-f]+" data-status="active"')
TRIES = 5


class ProxyFailure(Exception):
    """A request through the proxy that got no usable answer (5xx or a dropped connection)."""


@dataclass
class Tally:
    """What the clients saw, across threads."""

    requests: int = 0
    failed: int = 0
    launches: int = 0
    awards: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def fail(self, what: str) -> None:
        with self.lock:
            self.requests += 1
            self.failed += 1
            self.failures.append(what)


class CountingSession(requests.Session):
    """A browser's HTTP session that counts its requests through the proxy (not those to the LMS)."""

    def __init__(self, proxy: str, tally: Tally) -> None:
        super().__init__()
        self.proxy = proxy
        self.tally = tally
        self.headers["User-Agent"] = "lti-microcred-scale-out"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        through = str(url).startswith(self.proxy)
        kwargs.setdefault("timeout", 60)
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.ConnectionError as exc:
            if through:
                self.tally.fail(f"{method!s} {type(exc).__name__}")
                raise ProxyFailure(str(exc)) from exc
            raise
        if through and response.status_code >= 500:
            self.tally.fail(f"{method!s} HTTP {response.status_code}")
            raise ProxyFailure(f"HTTP {response.status_code}")
        if through:
            self.tally.add(requests=1)
        return response


def again(what: str, step: Callable[[], T]) -> T:
    """Do a step until it goes through (a person retrying), a few times at most."""
    for _ in range(TRIES - 1):
        try:
            return step()
        except ProxyFailure:
            time.sleep(0.2)
    try:
        return step()
    except ProxyFailure as exc:
        raise AssertionError(f"{what}: still failing after {TRIES} tries ({exc})") from exc


@dataclass
class Course:
    """What the batch needs to know about the course set up before it."""

    lms: LmsHandle
    signer: Signer
    credential_key: str
    module_key: str
    competencies: list[int]
    link_id: str


def launch(course: Course, browser: Browser, user: str, tally: Tally) -> Visit:
    """One launch from the LMS's placed link to the tool's page (three requests through the proxy)."""
    landing = browser.launch(course.lms, user, link=course.link_id)
    assert landing.status_code == 200, f"{user}: launch refused: {reason_of(landing)}"
    tally.add(launches=1)
    token = landing.url.split("/s/")[1].split("/")[0]
    return Visit(browser, landing, csrf_token(course.signer, token))


def evidence(visit: Visit) -> dict[str, str]:
    """The learner's evidence on their page, key -> status."""
    page = visit.get("/")
    assert page.status_code == 200, reason_of(page)
    return dict(EVIDENCE.findall(page.text))


def submit(course: Course, learner: Visit, competency: int) -> None:
    sent = learner.post("/me/evidence", {"credential": course.credential_key, "competency": str(competency),
                                         "title": "Cleaning report", "text": "I cleaned the survey data."},
                        follow=False)
    assert sent.status_code == 303, f"evidence refused: HTTP {sent.status_code} {reason_of(sent)}"


def accept(instructor: Visit, learner: Visit, key: str) -> None:
    """Accept one piece at Proficient; a 422 after a lost answer is fine if the first try was committed."""
    decided = instructor.post(f"/review/{key}", {"decision": "accepted", "rubric_level": "3",
                                                 "comment": "Clear and complete."}, follow=False)
    if decided.status_code == 422 and evidence(learner).get(key) == "accepted":
        return
    assert decided.status_code == 303, f"review refused: HTTP {decided.status_code} {reason_of(decided)}"


def journey(course: Course, tally: Tally, instructor: Visit, user: str) -> None:
    """A learner from launch to award; the instructor's session reviews their evidence."""
    browser = Browser(instructor.browser.tool_url)
    browser.http = CountingSession(instructor.browser.tool_url, tally)
    try:
        learner = again(f"{user} launch", lambda: launch(course, browser, user, tally))
        for competency in course.competencies:
            again(f"{user} evidence", partial(submit, course, learner, competency))
        pieces = again(f"{user} page", partial(evidence, learner))
        for key in [k for k, status in pieces.items() if status == "pending"]:
            again(f"{user} review", partial(accept, instructor, learner, key))
        page = again(f"{user} award", lambda: learner.get("/"))
        assert AWARDED.search(page.text), f"{user}: no award on the page after acceptance"
        tally.add(awards=1)
    finally:
        browser.close()


def lane(course: Course, tally: Tally, users: list[str], errors: list[BaseException]) -> None:
    """One client thread: an instructor launch, then learners one after another."""
    browser = Browser(course.lms.tool_url)
    browser.http = CountingSession(course.lms.tool_url, tally)
    try:
        instructor = again("instructor launch", lambda: launch(course, browser, "instructor-1", tally))
        for user in users:
            journey(course, tally, instructor, user)
    except BaseException as exc:  # reported by the test, with the others
        errors.append(exc)
    finally:
        browser.close()


def run_batch(course: Course, tally: Tally, users: list[str], lanes: int) -> list[BaseException]:
    """All learners through `lanes` client threads at once; returns the errors the threads met."""
    errors: list[BaseException] = []
    threads = [threading.Thread(target=lane, args=(course, tally, users[i::lanes], errors), name=f"lane-{i}")
               for i in range(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
