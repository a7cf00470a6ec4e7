"""Launches shaped exactly as Moodle 4.5 (and 3.x) and hosted Canvas send them: login parameters and claims."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from lti_microcred.core.db import transaction
from lti_microcred.lms.models import CourseServices
from lti_microcred.lti import claims as c
from lti_microcred.lti.admin import activate
from lti_microcred.lti.models import Context, LaunchSession, Membership, ResourceLink, User
from lti_microcred.services import lms_runtime
from tests.support.driver import Browser, LmsHandle, LoginStep, data_attr, reason_of

FIXTURES = Path(__file__).parent.parent / "fixtures" / "launches"


def fixture(name: str) -> dict[str, Any]:
    body = json.loads((FIXTURES / name).read_text())
    body.pop("_comment")
    return body


def moodle_login(browser: Browser, lms: LmsHandle, login_hint: str, deployment_id: str) -> LoginStep:
    """Moodle POSTs the login initiation from an auto-submitted form, with lti_deployment_id."""
    params = {
        "iss": lms.platform.issuer, "target_link_uri": browser.tool_url + "/lti/launch", "login_hint": login_hint,
        "lti_message_hint": json.dumps({"cmid": 7, "launchid": "ltilaunch_f3a9c1e07d2b_42"}),
        "client_id": lms.platform.setup.client_id, "lti_deployment_id": deployment_id,
    }
    return browser.start_login(browser.tool_url + "/lti/login?" + urlencode(params), method="POST")


def canvas_login(browser: Browser, lms: LmsHandle, deployment_id: str) -> LoginStep:
    """Canvas sends deployment_id (not lti_deployment_id), lti_storage_target and canvas_* extras."""
    params = {
        "iss": lms.platform.issuer, "login_hint": "a8f0c2d1e9b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3",
        "client_id": lms.platform.setup.client_id, "target_link_uri": browser.tool_url + "/lti/launch",
        "lti_message_hint": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ2ZXJpZmllciI6IjE2In0.c2lnbmF0dXJl",
        "canvas_environment": "prod", "canvas_region": "us-east-1", "deployment_id": deployment_id,
        "lti_storage_target": "post_message_forwarding",
    }
    return browser.start_login(browser.tool_url + "/lti/login?" + urlencode(params))


def signed_launch(browser: Browser, lms: LmsHandle, login: LoginStep, body: dict[str, Any]) -> Any:
    now = int(time.time())
    body.update(iss=lms.platform.issuer, aud=lms.platform.setup.client_id, nonce=login.nonce, iat=now, exp=now + 300)
    if "azp" in body:
        body["azp"] = lms.platform.setup.client_id
    body[c.TARGET_LINK_URI] = browser.tool_url + "/lti/launch"
    if c.DL_SETTINGS in body:
        body[c.DL_SETTINGS]["deep_link_return_url"] = lms.platform.url("/deep_link_return")
    response = browser.http.post(browser.tool_url + "/lti/launch", data={"id_token": lms.sign(body),
                                                                         "state": login.state})
    return browser.follow(response) if response.status_code == 303 else response


def allow_deployment(services: Any, lms: LmsHandle, deployment_id: str) -> None:
    with transaction(services.sessions) as session:
        activate(session, lms.platform_id, deployment_id)
    services.reset_caches()


def test_moodle_4_5_learner_launch(moodle: LmsHandle, browser: Browser, services: Any, db_session: Any) -> None:
    allow_deployment(services, moodle, "3")
    login = moodle_login(browser, moodle, "5", "3")
    assert login.response.status_code == 302
    page = signed_launch(browser, moodle, login, fixture("moodle_4_5_learner.json"))
    assert page.status_code == 200, reason_of(page)
    assert data_attr(page.text, "role") == "learner"
    user = db_session.scalars(select(User)).one()
    assert (user.sub, user.name, user.email) == ("5", "Lea Learner", "lea@example.edu")
    link = db_session.scalars(select(ResourceLink)).one()
    assert link.module_key == "0f3a9c2e41d7b865"
    # Moodle's line-item URL keeps its ?type_id= query: stored as sent, never lower-cased or trimmed.
    assert link.lineitem_url == "https://moodle.example.edu/mod/lti/services.php/2/lineitems/11/lineitem?type_id=3"
    kept = json.loads(db_session.scalars(select(LaunchSession.claims_json)).one())
    assert kept[c.TOOL_PLATFORM]["product_family_code"] == "moodle"
    assert kept[c.NRPS]["context_memberships_url"].endswith("/bindings/3/memberships")


def test_older_moodle_admin_teacher_with_family_code(moodle: LmsHandle, browser: Browser, services: Any,
                                                      db_session: Any) -> None:
    allow_deployment(services, moodle, "3")
    login = moodle_login(browser, moodle, "2", "3")
    page = signed_launch(browser, moodle, login, fixture("moodle_3_x_admin_teacher.json"))
    assert page.status_code == 200, reason_of(page)
    assert data_attr(page.text, "role") == "instructor"  # the context role, not the site-admin roles
    assert db_session.scalars(select(Membership.role)).one() == "instructor"
    # Moodle 3.x names its product `family_code` (4.x: product_family_code); Moodle's quirks depend on it.
    runtime = lms_runtime(services)
    runtime.scheduler.tick(force=True)
    with services.read_sessions() as session:
        course = session.scalars(select(CourseServices)).one()
    assert course.product_family_code == "moodle"
    assert runtime.family(course.context_id) == "moodle"


def test_canvas_learner_whose_institution_roles_say_admin(canvas: LmsHandle, browser: Browser, services: Any,
                                                           db_session: Any) -> None:
    deployment = "25:6a8aaca162bfc4393804afd4cd53cd94413c48bb"
    allow_deployment(services, canvas, deployment)
    login = canvas_login(browser, canvas, deployment)
    assert login.response.status_code == 200  # the platform-storage page
    page = signed_launch(browser, canvas, login, fixture("canvas_hosted_learner_with_admin_institution_roles.json"))
    assert page.status_code == 200, reason_of(page)
    assert data_attr(page.text, "role") == "learner"
    context = db_session.scalars(select(Context)).one()
    assert context.lti_context_id == "4dde05e8ca1973bcca9bffc13e1548820eee93a3"
    link = db_session.scalars(select(ResourceLink)).one()
    assert link.lineitem_url is None
    assert link.lineitems_url == "https://school.instructure.com/api/lti/courses/123/line_items"


def test_canvas_deep_linking_request_from_assignment_selection(canvas: LmsHandle, browser: Browser,
                                                               services: Any) -> None:
    deployment = "25:6a8aaca162bfc4393804afd4cd53cd94413c48bb"
    allow_deployment(services, canvas, deployment)
    login = canvas_login(browser, canvas, deployment)
    page = signed_launch(browser, canvas, login, fixture("canvas_hosted_deep_linking_teacher.json"))
    assert page.status_code == 200, reason_of(page)
    assert 'id="deep-link-form"' in page.text


@pytest.mark.parametrize("name", ["moodle_4_5_learner.json", "canvas_hosted_learner_with_admin_institution_roles.json"])
def test_unregistered_fixture_deployment_is_held(name: str, moodle: LmsHandle, browser: Browser) -> None:
    login = moodle_login(browser, moodle, "5", "3")
    body = fixture(name)
    body.pop("azp", None)
    response = signed_launch(browser, moodle, login, body)
    assert (response.status_code, reason_of(response)) == (403, "deployment_held")
