"""The Deep Linking picker lists modules by micro-credential, creates a module inside a chosen one, marks the
modules placed already and asks before placing one again."""

from __future__ import annotations

import re

import jwt
from sqlalchemy import select

from lti_microcred.competencies.models import AuditEntry, MicroCredential, Module
from lti_microcred.lti import claims as c
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, form_fields, reason_of
from tests.web.support import build_credential, visit


def test_modules_grouped_and_a_new_one_joins_a_credential(moodle: LmsHandle, browser: Browser, services: Services,
                                                          competencies: list[int]) -> None:
    key = build_credential(visit(browser, services, moodle, "instructor-1"), services, competencies)
    picker = browser.launch(moodle, "instructor-1", deep_link=True)
    assert picker.status_code == 200, reason_of(picker)
    group = re.search(rf'<fieldset data-credential="{key}">.*?</fieldset>', picker.text, re.S)
    assert group and "Data Analysis: Module 1" in group.group(0)
    assert f'<option value="{key}">Data Analysis</option>' in picker.text
    answer = browser.http.post(picker.url, data={**form_fields(picker.text), "new_title": "Module 2: Charts",
                                                 "new_points": "20", "new_credential": key})
    assert answer.status_code == 200, reason_of(answer)
    items = jwt.decode(form_fields(answer.text)["JWT"], options={"verify_signature": False})[c.DL_CONTENT_ITEMS]
    assert [i["title"] for i in items] == ["Module 2: Charts"]
    with services.read_sessions() as session:
        credential_id = session.scalars(select(MicroCredential.id).where(MicroCredential.key == key)).one()
        module = session.scalars(select(Module).where(Module.title == "Module 2: Charts")).one()
    assert module.micro_credential_id == credential_id and items[0]["custom"]["microcred_module"] == module.key


def test_a_credential_of_another_lms_cannot_be_chosen(moodle: LmsHandle, canvas: LmsHandle, browser: Browser,
                                                      services: Services, competencies: list[int]) -> None:
    key = build_credential(visit(browser, services, moodle, "instructor-1"), services, competencies)
    picker = browser.launch(canvas, "instructor-1", deep_link=True)
    assert key not in picker.text and "data-credential" not in picker.text
    answer = browser.http.post(picker.url, data={**form_fields(picker.text), "new_title": "X", "new_credential": key})
    assert (answer.status_code, reason_of(answer)) == (404, "not_found")
    with services.read_sessions() as session:
        assert session.scalars(select(Module.title).where(Module.title == "X")).all() == []


def test_placed_modules_are_marked_and_placing_again_asks_first(moodle: LmsHandle, browser: Browser,
                                                                 services: Services, competencies: list[int]) -> None:
    key = build_credential(visit(browser, services, moodle, "instructor-1"), services, competencies)
    with services.read_sessions() as session:
        module = session.scalars(select(Module).where(Module.title == "Data Analysis: Module 1")).one()
    picker = browser.launch(moodle, "instructor-1", deep_link=True)
    assert "Already in the course" not in picker.text
    link = moodle.platform.add_link("Module 1 in week 2", {"microcred_module": module.key})  # placed and launched
    assert browser.launch(moodle, "learner-1", link=link.id).status_code == 200
    picker = browser.launch(moodle, "instructor-1", deep_link=True)
    box = re.search(rf'<div class="check module-choice placed" data-module="{module.key}".*?</div>', picker.text, re.S)
    assert box, picker.text[:2000]
    assert re.search(r"Already in the course</span> placed \d{1,2} \w+ \d{4}", box.group(0))
    assert f'aria-describedby="m-{module.key}-placed"' in box.group(0)

    asked = browser.http.post(picker.url, data={**form_fields(picker.text), "module": module.key})
    assert asked.status_code == 422 and "JWT" not in form_fields(asked.text)
    question = re.search(r'<div class="error-summary warning" role="alert" tabindex="-1" id="place-again">.*?</div>',
                         asked.text, re.S)
    assert question and "Data Analysis: Module 1" in question.group(0)
    assert "makes a second column for it in the LMS gradebook" in re.sub(r"\s+", " ", question.group(0))
    assert f'value="{module.key}" id="m-{module.key}" checked' in asked.text  # the choice is kept
    again = browser.http.post(picker.url, data={**form_fields(picker.text), "module": module.key, "place_again": "yes"})
    items = jwt.decode(form_fields(again.text)["JWT"], options={"verify_signature": False})[c.DL_CONTENT_ITEMS]
    assert [i["custom"]["microcred_module"] for i in items] == [module.key]
    with services.read_sessions() as session:
        recorded = session.scalars(select(AuditEntry).where(AuditEntry.action == "module.placed")).one()
        assert recorded.subject == f"module:{module.key}" and recorded.actor_label == "Ian Instructor"
    later = browser.launch(moodle, "instructor-1", deep_link=True)
    assert "Already in the course" in later.text and key in later.text
