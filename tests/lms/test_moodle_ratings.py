"""Competency ratings in Moodle: a competency achieved (or no longer) in the tool rates the learner's course
competency through Moodle's web services, from the outbox, in order, with retries and a visible state; off
unless a registration enabled it. Against the loopback Moodle's web services (devplatform/moodle_webservice.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lti_microcred.cli import moodle as moodle_cli
from lti_microcred.devplatform.moodle_webservice import GRADE, LIST, MoodleSite, moodle_site
from lti_microcred.lms.delivery.worker import Worker
from lti_microcred.lms.moodle.state import course_ratings
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.services import Services
from tests.lms.moodle_course import (
    COURSE,
    LEARNER,
    MOODLE_PEOPLE,
    RATED,
    MoodleCourse,
    arrange_moodle,
    make_moodle_course,
    payloads,
)
from tests.support.driver import Browser, LmsHandle


@pytest.fixture
def site(moodle: LmsHandle) -> Iterator[MoodleSite]:
    """The loopback Moodle launching with Moodle's ids: course 7 and numeric users (`sub` = Moodle user id)."""
    platform, setup = moodle.platform, moodle.platform.setup
    saved = (setup.course_id, setup.course_title, dict(platform.users))
    setup.course_id, setup.course_title = str(COURSE), "Data Analysis 101"
    platform.users.update(MOODLE_PEOPLE)
    yield moodle_site(platform)
    setup.course_id, setup.course_title = saved[0], saved[1]
    platform.users.clear()
    platform.users.update(saved[2])
    moodle_site(platform).reset()


@pytest.fixture
def course(services: Services, browser: Browser, moodle: LmsHandle, site: MoodleSite,
           runtime: LmsRuntime) -> MoodleCourse:
    return make_moodle_course(services, browser, moodle, site)


@pytest.fixture
def cli(services: Services, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(moodle_cli, "command_services", lambda: services)
    return CliRunner()


def calls(site: MoodleSite, function: str) -> list[dict[str, str]]:
    return [c for c in site.calls if c["wsfunction"] == function]


def test_off_by_default_nothing_is_called(course: MoodleCourse, worker: Worker) -> None:
    arrange_moodle(course.site)
    course.decide("DS.1.1.1", True)
    assert [p["status"] for p in payloads(course)] == ["achieved"]  # written with the achievement
    worker.drain(5)
    assert course.site.calls == [] and course.deliveries() == {}
    assert [m.status for m in course.rows()] == ["done"]


def test_achieving_a_competency_rates_it_in_the_moodle_course(course: MoodleCourse, worker: Worker) -> None:
    course.enable(arrange_moodle(course.site))
    course.decide("DS.1.1.1", True)
    course.decide("DS.1.1.1", True)  # still achieved: nothing new to rate
    assert len(course.rows()) == 1
    worker.drain(5)
    [graded] = calls(course.site, GRADE)
    assert {k: graded[k] for k in ("courseid", "userid", "competencyid", "grade")} == {
        "courseid": str(COURSE), "userid": str(LEARNER), "competencyid": str(RATED["DS.1.1.1"]), "grade": "2"}
    assert graded["moodlewsrestformat"] == "json" and "achieved" in graded["note"]
    rating = course.site.rating(COURSE, LEARNER, RATED["DS.1.1.1"])
    assert rating is not None and (rating["grade"], rating["proficiency"]) == (2, True)
    delivery = course.deliveries()[course.competencies["DS.1.1.1"]]
    assert (delivery.state, delivery.score_given, delivery.sent_dt is not None) == ("sent", 2.0, True)
    course.decide("DS.1.1.2", False)  # never achieved: nothing to clear
    assert len(course.rows()) == 1


def test_a_revocation_rates_the_lowest_value_with_a_note(course: MoodleCourse, worker: Worker) -> None:
    course.enable(arrange_moodle(course.site))
    course.decide("DS.1.1.1", True)
    worker.drain(5)
    course.decide("DS.1.1.1", False)
    worker.drain(5)
    rating = course.site.rating(COURSE, LEARNER, RATED["DS.1.1.1"])
    assert rating is not None and (rating["grade"], rating["proficiency"]) == (1, False)
    assert "revoked" in rating["note"] and course.grades() == [2, 1]
    assert len(calls(course.site, LIST)) == 1  # the course's competencies are cached


def test_moodle_down_is_retried_then_delivered(course: MoodleCourse, worker: Worker) -> None:
    course.enable(arrange_moodle(course.site))
    course.site.down = 3  # maintenance mode: 503 three times
    course.decide("DS.1.1.1", True)
    worker.drain(10)
    assert course.grades() == [2]
    [row] = course.rows()
    assert (row.status, row.attempts) == ("done", 4)
    assert course.deliveries()[course.competencies["DS.1.1.1"]].state == "sent"


def test_an_invalid_token_fails_at_once_and_is_shown(course: MoodleCourse, worker: Worker) -> None:
    arrange_moodle(course.site)
    course.enable("0123456789abcdef0123456789abcdef")
    course.decide("DS.1.1.1", True)
    worker.drain(5)
    [row] = course.rows()
    assert (row.status, row.attempts) == ("failed", 1)
    delivery = course.deliveries()[course.competencies["DS.1.1.1"]]
    assert delivery.state == "failed" and "invalidtoken" in (delivery.last_error or "")
    assert "invalidtoken" in (course.settings().last_error or "")  # for the administrator too
    assert course.site.ratings == {}


def test_a_competency_not_in_the_course_is_shown_and_not_retried(course: MoodleCourse, worker: Worker,
                                                                 cli: CliRunner) -> None:
    token = arrange_moodle(course.site, in_course=("DS.1.1.1",))
    course.enable(token)
    course.decide("DS.1.1.2", True)
    worker.drain(5)
    [row] = course.rows()
    assert (row.status, row.attempts) == ("failed", 1)
    delivery = course.deliveries()[course.competencies["DS.1.1.2"]]
    assert delivery.state == "failed" and "not in the Moodle course's competencies" in (delivery.last_error or "")
    # Moodle's DS.1.1.1 of another framework is never taken for ours either
    course.decide("DS.1.1.1", True)
    worker.drain(5)
    assert [e["competencyid"] for e in course.site.rating_log] == [RATED["DS.1.1.1"]]
    course.site.course_competencies[COURSE].append(RATED["DS.1.1.2"])  # a teacher adds it in Moodle
    result = cli.invoke(moodle_cli.moodle_ratings, ["retry", str(course.lms.platform_id)])
    assert result.exit_code == 0 and "1 failed rating queued again" in result.output
    worker.drain(5)
    assert course.deliveries()[course.competencies["DS.1.1.2"]].state == "sent"


def test_a_missing_capability_is_permanent_and_named(course: MoodleCourse, worker: Worker) -> None:
    token = arrange_moodle(course.site)
    course.site.tokens[token].course_capabilities[COURSE].discard("moodle/competency:competencygrade")
    course.enable(token)
    course.decide("DS.1.1.1", True)
    worker.drain(5)
    delivery = course.deliveries()[course.competencies["DS.1.1.1"]]
    assert delivery.state == "failed" and "nopermissions" in (delivery.last_error or "")
    assert "competencygrade" in (delivery.last_error or "")


def test_a_learner_not_enrolled_in_moodle_is_named(course: MoodleCourse, worker: Worker) -> None:
    course.enable(arrange_moodle(course.site))
    course.site.gradable[COURSE].clear()  # unenrolled in Moodle
    course.decide("DS.1.1.1", True)
    worker.drain(5)
    delivery = course.deliveries()[course.competencies["DS.1.1.1"]]
    assert delivery.state == "failed" and "not enrolled in the Moodle course" in (delivery.last_error or "")
    assert course.settings().last_error is None  # the learner's matter, not the administrator's


def test_achieve_then_revoke_are_delivered_in_order(course: MoodleCourse, worker: Worker) -> None:
    course.enable(arrange_moodle(course.site))
    course.site.down = 2  # the first rating waits for Moodle; the revocation waits for it
    course.decide("DS.1.1.1", True)
    course.decide("DS.1.1.1", False)
    course.decide("DS.1.1.1", True)
    assert [p["status"] for p in payloads(course)] == ["achieved", "revoked", "achieved"]
    worker.drain(10)
    assert course.grades() == [2, 1, 2]
    assert [m.status for m in course.rows()] == ["done"] * 3


def test_gradebook_page_shows_the_ratings(course: MoodleCourse, worker: Worker, browser: Browser,
                                          client: Any) -> None:
    course.enable(arrange_moodle(course.site, in_course=("DS.1.1.1",)))
    course.decide("DS.1.1.1", True)
    course.decide("DS.1.1.2", True)
    worker.drain(5)
    page = browser.launch(course.lms, "2")
    base = re.search(r"(/s/[^/]+/)", page.url).group(1)  # type: ignore[union-attr]
    html = client.get(base + "gradebook/").get_data(as_text=True)
    assert "Moodle competency ratings" in html
    states = dict(re.findall(r'data-key="rating:\d+:(\d+):\d+" data-state="(\w+)"', html))
    assert states == {str(course.competencies["DS.1.1.1"]): "sent", str(course.competencies["DS.1.1.2"]): "failed"}
    assert "not in the Moodle course" in html
    grades_summary = re.search(r'id="delivery-counts">(.*?)</ul>', html, re.S).group(1)  # type: ignore[union-attr]
    assert "failed" not in grades_summary  # ratings are not counted as grades (nor offered "Send again")
    with course.services.read_sessions() as session:
        view = course_ratings(session, course.context_id)
    assert view is not None and view.enabled and view.counts == {"sent": 1, "failed": 1}


def test_commands_enable_check_status_disable(course: MoodleCourse, worker: Worker, cli: CliRunner,
                                              tmp_path: Path) -> None:
    token = arrange_moodle(course.site, in_course=("DS.1.1.1",))
    (tmp_path / "token").write_text(token + "\n")
    (tmp_path / "token").chmod(0o600)
    pid = str(course.lms.platform_id)
    enabled = cli.invoke(moodle_cli.moodle_ratings, ["enable", pid, "--token-file", str(tmp_path / "token")])
    assert enabled.exit_code == 0, enabled.output
    assert token not in enabled.output and token.encode() not in (course.settings().token_enc or b"")
    checked = cli.invoke(moodle_cli.moodle_ratings, ["check", pid])
    assert checked.exit_code == 0 and "allowed  core_competency_grade_competency_in_course" in checked.output
    course.decide("DS.1.1.1", True)
    course.decide("DS.1.1.2", True)
    worker.drain(5)
    status = cli.invoke(moodle_cli.moodle_ratings, ["status", pid]).output
    assert "competency ratings enabled" in status and "(Moodle course id 7): 1 rated, 0 queued" in status
    assert "1 failed" in status and "failed: Lea Learner (Moodle user 42), DS.1.1.2" in status
    course.site.tokens[token].functions.discard(GRADE)
    checked = cli.invoke(moodle_cli.moodle_ratings, ["check", pid])
    assert checked.exit_code == 1 and "MISSING  core_competency_grade_competency_in_course" in checked.output
    assert "lacks core_competency_grade_competency_in_course" in (course.settings().last_error or "")
    assert cli.invoke(moodle_cli.moodle_ratings, ["disable", pid]).exit_code == 0
    assert "competency ratings disabled" in cli.invoke(moodle_cli.moodle_ratings, ["status"]).output
    refused = cli.invoke(moodle_cli.moodle_ratings, ["enable", pid, "--token-file", "-"], input="two words\n")
    assert refused.exit_code == 1 and "on one line" in refused.output
