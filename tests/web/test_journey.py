"""The whole journey over real HTTP from real launches: an instructor builds a micro-credential, a learner
submits evidence with a file, an assessor accepts it, the learner sees the award; the CSV has it too."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from lti_microcred.competencies.models import AuditEntry, Award
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, reason_of
from tests.web.support import build_credential, evidence_keys, text_of, visit

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_build_submit_accept_award(moodle: LmsHandle, browser: Browser, services: Services,
                                   competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies)
    dashboard = instructor.get("/")
    assert f'data-credential="{key}" data-status="published"' in dashboard.text

    learner = visit(browser, services, moodle, "learner-1")
    page = text_of(learner.landing)
    assert "1 accepted piece of submitted evidence" in page
    assert "Rubric level ≥ Proficient from an assessor" in page
    assert "DS.1.1 Skill 1 of DS" in page and "Not started" in page
    sent = learner.post("/me/evidence", {"credential": key, "competency": str(competencies[0]),
                                         "title": "Cleaning report", "text": "I cleaned the survey data."},
                        files={"file": ("report.pdf", PDF, "application/pdf")})
    assert sent.status_code == 200 and 'id="notice"' in sent.text, sent.text[:500]
    assert "Pending review" in text_of(sent) and "Download report.pdf" in text_of(sent)
    learner.post("/me/evidence", {"credential": key, "competency": str(competencies[1]),
                                  "url": "https://portfolio.example/lea/chart"})

    assessor = visit(browser, services, moodle, "ta-1")
    assert assessor.landing.text.count('data-role="assessor"') == 1
    queue = assessor.get("/review/")
    assert 'id="review-total" data-total="2"' in queue.text
    first, second = evidence_keys(queue)[:2]
    file_page = assessor.get(f"/files/{first}")
    assert file_page.content == PDF
    accepted = assessor.post(f"/review/{first}", {"decision": "accepted", "comment": "Clear and complete."})
    assert accepted.status_code == 200 and 'id="review-total" data-total="1"' in accepted.text
    assessor.post(f"/review/{second}", {"decision": "accepted", "rubric_level": "3", "comment": "Good chart."})

    after = learner.get("/")
    assert re.search(r'data-award="[0-9a-f]+" data-status="active"', after.text), text_of(after)[:1500]
    assert "awarded on" in text_of(after) and "Clear and complete." in text_of(after)
    download = learner.get(f"/files/{first}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "report.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    export = instructor.get("/matrix/export.csv")
    assert export.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:4] == ["Learner", "E-mail", "LMS user id", "Data Analysis: award"]
    lea = next(r for r in rows if r[0] == "Lea Learner")
    assert lea[3].startswith("active ") and lea[4:6] == ["achieved", "achieved"]
    with services.read_sessions() as session:
        assert session.scalars(select(Award.status)).all() == ["active"]
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert "award.granted" in actions and actions.count("evidence.accepted") == 2


def test_learner_forms_explain_refusals_in_place(moodle: LmsHandle, browser: Browser, services: Services,
                                                 competencies: list[int]) -> None:
    key = build_credential(visit(browser, services, moodle, "instructor-1"), services, competencies)
    learner = visit(browser, services, moodle, "learner-1")
    empty = learner.post("/me/evidence", {"credential": key, "competency": str(competencies[0]), "title": "Kept"})
    assert empty.status_code == 422
    assert 'id="error-summary"' in empty.text and "Add a link, a text or a file." in empty.text
    assert 'value="Kept"' in empty.text  # what the learner typed is kept
    short = learner.post("/me/prior-learning", {"credential": key, "competency": str(competencies[0]),
                                                "description": "I did it"})
    assert short.status_code == 422 and 'data-problem="prior"' in short.text
    bad_link = learner.post("/me/evidence", {"credential": key, "competency": str(competencies[0]),
                                             "url": "javascript:alert(1)"})
    assert bad_link.status_code == 422 and "must start with https://" in bad_link.text
    claim = learner.post("/me/prior-learning", {"credential": key, "competency": str(competencies[0]),
                                                "description": "Three years as a data clerk at the county council."})
    assert claim.status_code == 200 and "prior learning was submitted" in claim.text


def test_module_launch_shows_its_credential_first(moodle: LmsHandle, browser: Browser, services: Services,
                                                  competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    build_credential(instructor, services, competencies, title="Alpha")
    second = build_credential(instructor, services, competencies, title="Zulu")
    page = instructor.get(f"/credentials/{second}")
    module_key = re.search(r'data-module="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
    link = moodle.platform.add_link("Zulu module", {"microcred_module": module_key})
    landing = browser.launch(moodle, "learner-1", link=link.id)
    assert landing.status_code == 200, reason_of(landing)
    order = re.findall(r'<section class="card credential" id="cred-([0-9a-f]+)"', landing.text)
    assert order[0] == second and len(order) == 2
    assert "<h1 id=\"landing-title\">Zulu: Module 1</h1>" in landing.text


def test_a_requirement_removed_later_awards_through_the_worker(moodle: LmsHandle, browser: Browser,
                                                               services: Services, competencies: list[int]) -> None:
    from lti_microcred.app.delivery import drain

    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies)
    learner = visit(browser, services, moodle, "learner-1")
    learner.post("/me/evidence", {"credential": key, "competency": str(competencies[0]),
                                  "title": "Cleaning report", "text": "I cleaned the survey data."})
    assessor = visit(browser, services, moodle, "ta-1")
    [piece] = evidence_keys(assessor.get("/review/"))
    assessor.post(f"/review/{piece}", {"decision": "accepted", "comment": "Clear."})
    assert 'data-award="' not in learner.get("/").text  # the rubric requirement is not met

    page = instructor.get(f"/credentials/{key}")
    rubric = re.findall(r'data-requirement="(\d+)"', page.text)[-1]
    changed = instructor.post(f"/credentials/{key}/requirements/{rubric}/remove")
    assert changed.status_code == 200 and 'id="reevaluating"' in changed.text, text_of(changed)[:800]
    assert 'data-award="' not in learner.get("/").text  # not inside the instructor's request

    assert drain(services, timeout=10) >= 1
    assert re.search(r'data-award="[0-9a-f]+" data-status="active"', learner.get("/").text)
    assert 'id="reevaluating"' not in instructor.get(f"/credentials/{key}").text
