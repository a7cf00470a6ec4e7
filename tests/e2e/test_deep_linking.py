"""Deep Linking round trip: the LMS (lti1p3platform) validates our signed response and places the modules."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import select

from lti_microcred.competencies.models import Module
from lti_microcred.lti import claims as c
from tests.support.driver import Browser, LmsHandle, form_action, form_fields, reason_of


def open_picker(browser: Browser, lms: LmsHandle, user: str = "instructor-1"):
    page = browser.launch(lms, user, deep_link=True)
    assert page.status_code == 200, reason_of(page)
    assert 'id="deep-link-form"' in page.text
    return page


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_instructor_places_a_new_module_with_a_gradebook_column(flavour: str, request: pytest.FixtureRequest,
                                                                browser: Browser, db_session) -> None:
    lms: LmsHandle = request.getfixturevalue(flavour)
    picker = open_picker(browser, lms)
    fields = form_fields(picker.text)
    answer = browser.http.post(picker.url, data={**fields, "new_title": "Module 1: Cleaning data", "new_points": "50"})
    assert answer.status_code == 200, reason_of(answer)
    action, response_fields = form_action(answer.text), form_fields(answer.text)
    assert action == lms.platform.url("/deep_link_return")

    body = jwt.decode(response_fields["JWT"], options={"verify_signature": False})
    assert body[c.MESSAGE_TYPE] == c.DEEP_LINKING_RESPONSE
    assert body["aud"] == [lms.platform.issuer] and body["iss"] == lms.platform.setup.client_id
    assert body[c.DL_DATA]["session"]  # the platform's opaque data is echoed back

    placed = browser.http.post(action, data=response_fields)  # the LMS verifies it against our JWKS
    assert placed.status_code == 200, placed.text[:300]
    module = db_session.scalars(select(Module)).one()
    link = next(iter(lms.platform.links.values()))
    assert link.title == "Module 1: Cleaning data"
    assert link.custom == {"microcred_module": module.key}
    assert link.line_item is not None and link.line_item["scoreMaximum"] == 50
    assert link.line_item["resourceId"] == module.key
    if flavour == "canvas":  # an assignment placed from Modules starts unpublished: learners cannot open it
        assert not link.published
        login = browser.start_login(lms.login_url("learner-1", link=link.id))
        assert browser.http.get(login.auth_url).status_code == 401
        assert browser.http.post(lms.platform.url(f"/links/{link.id}/publish")).status_code == 200
        assert link.published

    learner_page = browser.launch(lms, "learner-1", link=link.id)
    assert learner_page.status_code == 200
    assert "Module 1: Cleaning data" in learner_page.text


def test_existing_modules_can_be_placed_again(moodle: LmsHandle, browser: Browser) -> None:
    picker = open_picker(browser, moodle)
    first = browser.http.post(picker.url, data={**form_fields(picker.text), "new_title": "Portfolio"})
    browser.http.post(form_action(first.text), data=form_fields(first.text))
    picker = open_picker(browser, moodle)
    key = picker.text.split('name="module" value="')[1].split('"')[0]
    assert "Already in the course" in picker.text
    asked = browser.http.post(picker.url, data={**form_fields(picker.text), "module": key})
    assert asked.status_code == 422 and 'id="place-again"' in asked.text and "JWT" not in form_fields(asked.text)
    second = browser.http.post(picker.url, data={**form_fields(picker.text), "module": key, "place_again": "yes"})
    token = jwt.decode(form_fields(second.text)["JWT"], options={"verify_signature": False})
    assert [i["custom"]["microcred_module"] for i in token[c.DL_CONTENT_ITEMS]] == [key]


def test_empty_choice_is_explained_not_sent(moodle: LmsHandle, browser: Browser) -> None:
    picker = open_picker(browser, moodle)
    answer = browser.http.post(picker.url, data=form_fields(picker.text))
    assert answer.status_code == 422
    assert "Choose at least one module" in answer.text


def test_learner_cannot_use_the_picker(moodle: LmsHandle, browser: Browser) -> None:
    page = browser.launch(moodle, "learner-1", deep_link=True)
    assert (page.status_code, reason_of(page)) == (403, "not_allowed")


def test_picker_post_needs_csrf_token(moodle: LmsHandle, browser: Browser) -> None:
    picker = open_picker(browser, moodle)
    answer = browser.http.post(picker.url, data={"new_title": "Sneaky"})
    assert (answer.status_code, reason_of(answer)) == (400, "csrf_failed")


def test_platform_rejects_a_response_signed_by_another_key(moodle: LmsHandle, browser: Browser) -> None:
    """The LMS side really checks our signature (a test that could fail)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    picker = open_picker(browser, moodle)
    answer = browser.http.post(picker.url, data={**form_fields(picker.text), "new_title": "X"})
    fields = form_fields(answer.text)
    claims = jwt.decode(fields["JWT"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(fields["JWT"])["kid"]
    forged = jwt.encode(claims, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256",
                        headers={"kid": kid})
    refused = browser.http.post(form_action(answer.text), data={"JWT": forged})
    assert refused.status_code == 400
    assert "signature" in refused.json()["error"].lower()
    assert not moodle.platform.links
