"""Staff pages: the credential form with the domain's per-field problems, structure, pathways, learner detail
with its history and audit trail, and the instructor's judgements (each with a mandatory reason)."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_microcred.competencies import audit
from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.models import Evidence, MicroCredential, Module, Requirement
from lti_microcred.core.db import transaction
from lti_microcred.lti.models import Context, Deployment
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle
from tests.web.support import (
    CREDENTIAL_FORM,
    build_credential,
    credential_key,
    evidence_keys,
    text_of,
    text_of_html,
    visit,
)


def test_credential_form_shows_each_problem_next_to_its_field(moodle: LmsHandle, browser: Browser,
                                                              services: Services) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    form = instructor.get("/credentials/new")
    for field in ("title", "learning_outcomes", "workload_hours", "ects_credits", "eqf_level", "national_level",
                  "assessment_type", "participation_form", "quality_assurance", "awarding_body", "country",
                  "prerequisites", "supervision", "validity_months", "stackable"):
        assert f'<label for="{field}">' in form.text, field
    bad = instructor.post("/credentials/", {**CREDENTIAL_FORM, "title": "", "workload_hours": "lots",
                                            "ects_credits": "", "country": "Ireland", "learning_outcomes": " \n"})
    assert bad.status_code == 422 and 'id="error-summary"' in bad.text
    problems = dict(re.findall(r'data-problem="([a-z_]+)"><strong>Problem:</strong> ([^<]+)<', bad.text))
    assert problems["title"].startswith("Give a title")
    assert problems["workload_hours"] == "Give the workload in hours as a number, e.g. 2.5."
    assert problems["country"].startswith("Give the awarding country")
    assert problems["learning_outcomes"] == "State at least one learning outcome."
    assert 'id="country" name="country" type="text" value="Ireland"' in bad.text  # kept as typed
    assert 'aria-describedby="country-help country-problem" aria-invalid="true"' in bad.text
    with services.read_sessions() as session:
        assert session.scalars(select(MicroCredential)).all() == []


def test_form_errors_name_their_fields_in_a_summary_that_links_to_them(moodle: LmsHandle, browser: Browser,
                                                                       services: Services) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    form = instructor.get("/credentials/new")
    assert '<label for="workload_hours">Notional workload in hours</label>' in form.text  # no "(optional)" there
    assert "Give the workload in hours, in ECTS credits, or both." in text_of(form)
    bad = instructor.post("/credentials/", {**CREDENTIAL_FORM, "workload_hours": "", "ects_credits": "",
                                            "assessment_type": "", "quality_assurance": " ", "awarding_body": ""})
    assert bad.status_code == 422
    summary = re.search(r'<div class="error-summary" role="alert" tabindex="-1" id="error-summary".*?</div>',
                        bad.text, re.S).group(0)  # type: ignore[union-attr]
    links = re.findall(r'<a href="#([a-z_]+)">([^<]+)</a>', summary)
    assert links == [
        ("workload_hours", "Give the workload in hours, in ECTS credits, or both."),
        ("assessment_type", "Give the type of assessment."),
        ("quality_assurance", "Give the type of quality assurance."),
        ("awarding_body", "Give the awarding body.")]
    assert "there is a problem with 4 fields" in text_of_html(summary)
    for name, message in links:  # the same words beside the field, which points to them
        assert f'data-problem="{name}"><strong>Problem:</strong> {message}<' in bad.text
        assert re.search(rf'id="{name}" [^>]*aria-describedby="[^"]*{name}-problem"', bad.text), name


def test_edit_publish_archive(moodle: LmsHandle, browser: Browser, services: Services,
                              competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    empty = instructor.post("/credentials/", CREDENTIAL_FORM)
    key = credential_key(services, CREDENTIAL_FORM["title"])
    refused = instructor.post(f"/credentials/{key}/status", {"status": "published"})
    assert refused.status_code == 422 and "Add requirements" in refused.text
    edit = instructor.get(f"/credentials/{key}/edit")
    assert "Explain a chart to a non-specialist</textarea>" in edit.text and 'value="IE"' in edit.text
    saved = instructor.post(f"/credentials/{key}/edit", {**CREDENTIAL_FORM, "title": "Data Analysis II",
                                                          "eqf_level": "6", "validity_months": "36"})
    assert saved.status_code == 200 and "Data Analysis II" in saved.text and "EQF 6" in text_of(saved)
    assert "36 months" in text_of(saved) and empty.status_code == 200
    build = build_credential(instructor, services, competencies, title="Second")
    archived = instructor.post(f"/credentials/{build}/status", {"status": "archived"})
    assert 'data-status="archived"' in archived.text


def test_competency_picker_keeps_codes_and_hierarchy(moodle: LmsHandle, browser: Browser, services: Services,
                                                     competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies, publish=False)
    page = instructor.get(f"/credentials/{key}")
    options = re.findall(r'<option value="(\d+)">(\u2003*)([^<]+)</option>', page.text)
    labels = [(len(indent), label) for _, indent, label in options if label.startswith("DS")]
    assert labels[:2] == [(0, "DS.1 — Information and data literacy"), (1, "DS.1.1 — Skill 1 of DS")]
    found = instructor.get(f"/credentials/{key}", q="skill 3")
    assert [label for _, _, label in re.findall(r'<option value="(\d+)">(\u2003*)([^<]+)</option>', found.text)
            if label.startswith("DS")] == ["DS.1.3 — Skill 3 of DS"]
    table = text_of(page)
    assert "DS.1.1 Skill 1 of DS 1 accepted piece of submitted evidence" in table


def test_pathway_from_credentials_of_two_courses(moodle: LmsHandle, browser: Browser, services: Services,
                                                 competencies: list[int], other_course: object) -> None:
    with other_course:  # type: ignore[attr-defined]
        elsewhere = visit(browser, services, moodle, "instructor-1")
    remote = build_credential(elsewhere, services, competencies, title="From the other course")
    instructor = visit(browser, services, moodle, "instructor-1")
    local = build_credential(instructor, services, competencies, title="Local")
    instructor.post("/credentials/", {**CREDENTIAL_FORM, "title": "Pathway", "kind": "pathway",
                                      "pathway_rule": "all"})
    key = credential_key(services, "Pathway")
    page = instructor.get(f"/credentials/{key}")
    assert "From the other course" in page.text and "(Another course, 2.0 ECTS)" in page.text
    with services.read_sessions() as session:
        ids = {c.key: c.id for c in session.scalars(select(MicroCredential))}
    saved = instructor.post(f"/credentials/{key}/components", {"component": [str(ids[remote]), str(ids[local])]})
    assert saved.status_code == 200 and saved.text.count("checked") >= 2
    published = instructor.post(f"/credentials/{key}/status", {"status": "published"})
    assert 'data-status="published"' in published.text


def test_learner_detail_history_audit_and_judgements(moodle: LmsHandle, browser: Browser, services: Services,
                                                     competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies)
    learner = visit(browser, services, moodle, "learner-1")
    learner.post("/me/evidence", {"credential": key, "competency": str(competencies[0]), "text": "First try"})
    with transaction(services.sessions) as session:  # two gradebook scores: the second supersedes the first
        module = session.scalars(select(Module)).one()
        lea = session.scalars(select(Evidence.learner_id)).one()
        staff = Actor(moodle.platform_id, module.context_id, None, "LMS gradebook")
        ops.record_lms_score(session, staff, lea, module.id, 40, 100)
        ops.record_lms_score(session, staff, lea, module.id, 90, 100)
    page = instructor.get(f"/learners/{lea}")
    assert page.status_code == 200
    assert len(evidence_keys(page)) == 3 and page.text.count("data-superseded=") == 1
    no_reason = instructor.post(f"/learners/{lea}/award", {"credential": key, "reason": "  "})
    assert no_reason.status_code == 422 and "needs a reason" in no_reason.text
    override = instructor.post(f"/learners/{lea}/override", {"credential": key, "competency": str(competencies[1]),
                                                              "achieved": "yes", "reason": "Seen in class"})
    assert override.status_code == 200 and "(override)" in override.text
    awarded = instructor.post(f"/learners/{lea}/award", {"credential": key, "reason": "Portfolio reviewed"})
    assert awarded.status_code == 200
    award_key = re.search(r'data-award="([0-9a-f]+)" data-status="active"', awarded.text).group(1)  # type: ignore
    no_reason = instructor.post(f"/learners/{lea}/awards/{award_key}/revoke", {"reason": "", "confirmed": "yes"})
    assert no_reason.status_code == 422 and "needs a reason" in no_reason.text
    unconfirmed = instructor.post(f"/learners/{lea}/awards/{award_key}/revoke", {"reason": "Plagiarism"})
    assert unconfirmed.status_code == 422 and "Nothing was revoked" in text_of(unconfirmed)
    assert f'data-award="{award_key}" data-status="active"' in unconfirmed.text
    revoked = instructor.post(f"/learners/{lea}/awards/{award_key}/revoke", {"reason": "Plagiarism",
                                                                               "confirmed": "yes"})
    assert f'data-award="{award_key}" data-status="revoked"' in revoked.text
    actions = re.findall(r'<tr data-action="([a-z._]+)">', revoked.text)
    assert actions[0] == "award.revoked" and "award.granted" in actions and "evidence.recorded" in actions
    assert "revoked on" in learner.get("/").text and "Plagiarism" in learner.get("/").text


def test_dashboard_counts(moodle: LmsHandle, browser: Browser, services: Services, competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies)
    for user in ("learner-1", "learner-2"):
        visit(browser, services, moodle, user).post("/me/evidence", {
            "credential": key, "competency": str(competencies[0]), "text": "Here"})
    dashboard = instructor.get("/")
    row = re.search(rf'data-credential="{key}".*?</tr>', dashboard.text, re.S).group(0)  # type: ignore[union-attr]
    assert dict(re.findall(r'data-count="(\w+)">(\d+)<', row)) == {"in_progress": "2", "earned": "0", "pending": "2"}
    assert 'id="pending-total">2<' in dashboard.text and 'id="learner-total">2<' in dashboard.text
    assert "/frameworks/" in dashboard.text


def test_a_requirement_on_another_credentials_module_is_refused(moodle: LmsHandle, browser: Browser,
                                                                services: Services, competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    first = build_credential(instructor, services, competencies, title="First")
    second = build_credential(instructor, services, competencies, title="Second", publish=False)
    with services.read_sessions() as session:
        theirs = session.scalars(select(Module).join(MicroCredential, MicroCredential.id == Module.micro_credential_id)
                                 .where(MicroCredential.key == first)).one()
        before = [(r.micro_credential_id, r.competency_id, r.kind) for r in session.scalars(
            select(Requirement).where(Requirement.module_id == theirs.id).order_by(Requirement.id))]
    answer = instructor.post(f"/credentials/{second}/requirements", {
        "module": theirs.key, "competency": str(competencies[0]), "kind": "evidence_count", "min_count": "1",
        "evidence_kinds": "submission"})
    assert answer.status_code == 422
    assert "The module “First: Module 1” belongs to the micro-credential “First”" in text_of(answer)
    with services.read_sessions() as session:
        assert [(r.micro_credential_id, r.competency_id, r.kind) for r in session.scalars(
            select(Requirement).where(Requirement.module_id == theirs.id).order_by(Requirement.id))] == before
        assert session.get(Module, theirs.id).micro_credential_id == theirs.micro_credential_id  # type: ignore


def test_credential_page_shows_the_decisions_about_it_newest_first(
        moodle: LmsHandle, browser: Browser, services: Services, competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies)
    requirement = re.search(r'data-requirement="(\d+)"', instructor.get(f"/credentials/{key}").text).group(1)  # type: ignore
    instructor.post(f"/credentials/{key}/requirements/{requirement}/remove")
    page = instructor.post(f"/credentials/{key}/status", {"status": "archived"})
    section = page.text.split('id="credential-audit"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr data-action="([a-z._]+)">(.*?)</tr>', section, re.S)
    assert [action for action, _ in rows] == ["credential.archived", "requirement.removed", "credential.published",
                                              "requirement.set", "requirement.set", "credential.created"]
    assert all("Ian Instructor" in cells for _, cells in rows)
    assert f"requirement_id: {requirement}" in text_of(page)
    assert "Ian Instructor removed a requirement from “Data Analysis”." in text_of_html(section)
    assert "Ian Instructor published “Data Analysis”." in text_of_html(section)


def test_credential_audit_is_bounded_and_kept_to_the_course(moodle: LmsHandle, browser: Browser, services: Services,
                                                            competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies, publish=False)
    with transaction(services.sessions) as session:
        credential = session.scalars(select(MicroCredential).where(MicroCredential.key == key)).one()
        staff = Actor(moodle.platform_id, credential.context_id, None, "Script")
        for n in range(60):
            audit.record(session, staff, "credential.updated", f"credential:{key}", n=n)
        other = Context(platform_id=moodle.platform_id, deployment_id=session.scalars(select(Deployment.id)).first(),
                        lti_context_id="elsewhere", title="Elsewhere")
        session.add(other)
        session.flush()
        audit.record(session, Actor(moodle.platform_id, other.id, None, "Elsewhere"), "credential.archived",
                     f"credential:{key}")
    section = instructor.get(f"/credentials/{key}").text.split('id="credential-audit"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr data-action="([a-z._]+)">', section)
    assert len(rows) == 50 and set(rows) == {"credential.updated"}
    assert "n: 59" in section and "n: 10" in section and "n: 9<" not in section


def test_a_pathway_asking_for_more_than_its_components_give_is_refused(
        moodle: LmsHandle, browser: Browser, services: Services, competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    components = [build_credential(instructor, services, competencies, title=t) for t in ("One", "Two")]
    pathway_form = {**CREDENTIAL_FORM, "title": "Pathway", "kind": "pathway", "pathway_rule": "k_of_n",
                    "pathway_k": "3"}
    instructor.post("/credentials/", pathway_form)
    key = credential_key(services, "Pathway")
    with services.read_sessions() as session:
        ids = [str(i) for i in session.scalars(select(MicroCredential.id).where(MicroCredential.key.in_(components)))]
    refused = instructor.post(f"/credentials/{key}/components", {"component": ids})
    assert refused.status_code == 422
    assert "3 components are required but the pathway has 2" in text_of(refused)
    instructor.post(f"/credentials/{key}/edit", {**pathway_form, "pathway_k": "2"})
    assert instructor.post(f"/credentials/{key}/components", {"component": ids}).status_code == 200
    too_many = instructor.post(f"/credentials/{key}/edit", {**pathway_form, "pathway_k": "3"})
    assert too_many.status_code == 422
    problem = re.search(r'data-problem="pathway_k"><strong>Problem:</strong> ([^<]+)<', too_many.text)
    assert problem and problem.group(1).startswith("3 components are required but the pathway has 2")
    with services.read_sessions() as session:
        assert session.scalars(select(MicroCredential.pathway_k).where(MicroCredential.key == key)).one() == 2
