"""The review queue shows each piece of evidence beside what its competency requires, pre-selects the rubric level
that meets it, asks before accepting short of it, speaks of the learner's supervisor from the assessor's side and
keeps Accept back until the supervisor answered (or the assessor gives a reason to decide without them); the
audit trail reads as sentences naming the people, the micro-credential and the competency."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_microcred.competencies.models import Assessment, Evidence
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, reason_of
from tests.web.support import Visit, build_credential, text_of, text_of_html, visit


def card(page: str, key: str) -> str:
    match = re.search(rf'<section class="card review-item" id="ev-{key}".*?</section>', page, re.S)
    assert match, page[:1500]
    return match.group(0)


def send(learner: Visit, key: str, competency: int, text: str) -> str:
    page = learner.post("/me/evidence", {"credential": key, "competency": str(competency), "text": text})
    assert page.status_code == 200, reason_of(page)
    return re.findall(r'data-evidence="([0-9a-f]+)"', page.text)[0]


def decisions(services: Services, key: str) -> list[tuple[str, int | None]]:
    with services.read_sessions() as session:
        return [(a.decision, a.rubric_level) for a in session.scalars(
            select(Assessment).join(Evidence, Evidence.id == Assessment.evidence_id).where(Evidence.key == key))]


def test_the_level_that_meets_the_requirement_is_chosen_and_less_asks_first(
        moodle: LmsHandle, browser: Browser, services: Services, competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies)  # competency 1 needs rubric ≥ Proficient
    lea = visit(browser, services, moodle, "learner-1")
    chart, clean = send(lea, key, competencies[1], "My chart."), send(lea, key, competencies[0], "Cleaned.")
    queue = instructor.get("/review/")
    words = text_of_html(card(queue.text, chart))
    assert "What Skill 2 of DS requires" in words
    assert "Rubric level ≥ Proficient from an assessor (Data Analysis)" in words
    assert "Accepting at Proficient or Exemplary meets it." in words
    assert re.search(r'<option value="3" selected>Proficient \(meets it\)</option>', card(queue.text, chart))
    assert "Proficient or above meets what the competency requires; it is chosen for you." in words
    other = card(queue.text, clean)
    assert '<option value="" selected>No level</option>' in other  # nothing asks for a level there
    assert "1 accepted piece of submitted evidence (Data Analysis)" in text_of_html(other)

    short = instructor.post(f"/review/{chart}", {"decision": "accepted", "rubric_level": ""})
    assert short.status_code == 422 and 'data-held="short_of_requirement"' in short.text
    held = text_of_html(card(short.text, chart))
    assert ("Accepting with no rubric level does not meet what the competency requires: Rubric level ≥ Proficient "
            "from an assessor (for Data Analysis).") in held
    assert "Accept anyway" in held and '<option value="" selected>No level</option>' in card(short.text, chart)
    assert decisions(services, chart) == []
    changed = instructor.post(f"/review/{chart}", {"decision": "accepted", "rubric_level": "2",
                                                   "confirmed_level": "no level"})
    assert changed.status_code == 422 and decisions(services, chart) == []  # confirmed another level: ask again
    anyway = instructor.post(f"/review/{chart}", {"decision": "accepted", "rubric_level": "2",
                                                  "confirmed_level": "2", "comment": "A start."})
    assert anyway.status_code == 200 and decisions(services, chart) == [("accepted", 2)]
    plain = instructor.post(f"/review/{clean}", {"decision": "accepted"})
    assert plain.status_code == 200 and decisions(services, clean) == [("accepted", None)]

    lea_page = instructor.get(f"/learners/{lea_learner_id(services, chart)}")
    audit = text_of_html(lea_page.text.split('id="audit"', 1)[1])
    assert "Lea Learner sent evidence for DS.1.2 Skill 2 of DS." in audit
    assert ("Ian Instructor accepted Lea Learner's evidence for DS.1.2 Skill 2 of DS at level Developing. "
            "A start.") in audit
    assert re.search(r'<span class="code audit-code">evidence\.recorded · competency_id: \d+', lea_page.text)


def lea_learner_id(services: Services, evidence_key: str) -> int:
    with services.read_sessions() as session:
        return session.scalars(select(Evidence.learner_id).where(Evidence.key == evidence_key)).one()


def test_workplace_evidence_waits_for_the_learners_supervisor(
        moodle: LmsHandle, browser: Browser, services: Services, competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies)
    lea = visit(browser, services, moodle, "learner-1")
    lea.post("/me/workplace", {"credential": key, "competency": str(competencies[0]),
                               "description": "I rebuilt the weekly sales dashboard.",
                               "supervisor_name": "Sam Supervisor", "supervisor_email": "sam@employer.example"})
    queue = instructor.get("/review/")
    [piece] = re.findall(r'<section class="card review-item" id="ev-([0-9a-f]+)"', queue.text)
    words = text_of_html(card(queue.text, piece))
    assert ("Waiting for the learner's supervisor, Sam Supervisor (sam@employer.example), asked today. Their answer "
            "decides this evidence") in words
    assert "your supervisor" not in words
    assert "does not count towards it (it counts submitted evidence only)" in words
    before, details = card(queue.text, piece).split('<details class="disclosure decide-now"', 1)
    assert 'name="decision"' not in before and 'name="decision"' in details  # no Accept before the answer
    assert "Decide now, without waiting for the supervisor" in text_of_html(details)

    direct = instructor.post(f"/review/{piece}", {"decision": "rejected", "comment": "Not enough."})
    assert direct.status_code == 422 and 'data-held="supervisor"' in direct.text
    no_reason = instructor.post(f"/review/{piece}", {"decision": "rejected", "without_supervisor": "yes"})
    assert no_reason.status_code == 422 and decisions(services, piece) == []
    assert "The learner's supervisor, Sam Supervisor, has not answered yet." in text_of(no_reason)
    decided = instructor.post(f"/review/{piece}", {"decision": "rejected", "without_supervisor": "yes",
                                                   "comment": "The dashboard is the team's, not yours."})
    assert decided.status_code == 200 and decisions(services, piece) == [("rejected", None)]
