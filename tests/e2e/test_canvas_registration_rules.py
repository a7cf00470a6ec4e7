"""The Canvas-shaped LMS refuses a Dynamic Registration request as Canvas does (lib/schemas/lti/ims/
oidc_registration.rb and app/models/lti/ims/registration.rb: 422 and the errors), and what the tool sends passes."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from lti_microcred.devplatform.canvas_registration import TOOL_CONFIGURATION, registration_problems
from lti_microcred.lti.registration_request import ToolRegistrationRequest
from lti_microcred.services import Services
from tests.support.driver import LmsHandle


def tool_body(services: Services) -> dict[str, Any]:
    return ToolRegistrationRequest(services.settings).lti_registration_data()


def test_what_the_tool_sends_is_what_canvas_accepts(services: Services) -> None:
    assert registration_problems(tool_body(services)) == []


@pytest.mark.parametrize(("change", "named"), [
    ({"grant_types": ["client_credentials"]}, "grant_types"),
    ({"grant_types": ["implicit"]}, "grant_types"),
    ({"application_type": "native"}, "application_type"),
    ({"token_endpoint_auth_method": "client_secret_basic"}, "token_endpoint_auth_method"),
    ({"response_types": ["code"]}, "response_types"),
    ({"redirect_uris": ["not a uri"]}, "redirect_uris"),
    ({"jwks_uri": None}, "jwks_uri"),
    ({"scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score https://example.com/scope/all"}, "scopes"),
    ({TOOL_CONFIGURATION: {"domain": "https://tool.example", "messages": [], "claims": []}}, "domain"),
    ({TOOL_CONFIGURATION: {"domain": "tool.example", "claims": []}}, "messages"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_canvas_refuses_what_canvas_refuses(canvas: LmsHandle, services: Services, change: dict[str, Any],
                                           named: str) -> None:
    body = {**tool_body(services), **change}
    before = set(canvas.platform.registrations)
    token = canvas.platform.new_registration_token()
    answer = requests.post(canvas.platform.url("/register"), json=body, timeout=10,
                           headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422, answer.text
    assert named in answer.json()["error"]
    assert set(canvas.platform.registrations) == before  # nothing registered


def test_the_tools_own_request_is_registered(canvas: LmsHandle, services: Services) -> None:
    token = canvas.platform.new_registration_token()
    answer = requests.post(canvas.platform.url("/register"), json=tool_body(services), timeout=10,
                           headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["client_id"] in canvas.platform.registrations
