"""Hostile input answers a 4xx that names its reason, never a 5xx: JSON nested too deep for the verifier, a NUL
byte that PostgreSQL would refuse (stopped before the database), a session token that is not ASCII, and URLs
of a foreign credential that are not web addresses (shown as text, never as links)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event

from lti_microcred.competencies import operations as ops
from lti_microcred.core.db import transaction
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, LoginStep
from tests.support.factories import evidence_course
from tests.web.support import visit

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DEPTH = 50_000  # deep enough to exhaust any parser; under the test client's 500 kB spooling threshold
TOO_DEEP = "nests its JSON too deep"
DEEP_BODIES = {
    "arrays": "[" * DEPTH + "]" * DEPTH,
    "objects": '{"a":' * DEPTH + "1" + "}" * DEPTH,
    "wrapped": '{"credential":' + '{"a":' * DEPTH + "1" + "}" * DEPTH + "}",
    "unclosed": "{" + '"a":[' * DEPTH,
}


def _segment(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


DEEP_JWT = _segment('{"alg":' * 10_000 + "1" + "}" * 10_000) + "." + _segment("{}") + ".c2ln"


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """The SQL statements run while the block runs."""
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    event.listen(services.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(services.engine, "before_cursor_execute", listener)


def reason(page: Any) -> str:
    found = re.search(r'data-reason="([^"]+)"', page.get_data(as_text=True))
    return found.group(1) if found else ""


# --- JSON nested too deep ---------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [*DEEP_BODIES.values(), DEEP_JWT], ids=[*DEEP_BODIES, "jwt-header"])
def test_api_verify_refuses_deep_json(client: Any, body: str) -> None:
    answer = client.post("/api/verify", data=body, content_type="application/json")
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert TOO_DEEP in answer.json["error"]


@pytest.mark.parametrize("body", [*DEEP_BODIES.values(), DEEP_JWT], ids=[*DEEP_BODIES, "jwt-header"])
def test_verify_page_refuses_deep_json_pasted_and_uploaded(client: Any, body: str) -> None:
    pasted = client.post("/verify", data={"credential": body})
    uploaded = client.post("/verify", data={"file": (io.BytesIO(body.encode()), "deep.json")},
                           content_type="multipart/form-data")
    for answer in (pasted, uploaded):
        assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
        assert TOO_DEEP in answer.get_data(as_text=True)


LONE_SURROGATES = ['{"name": "\\ud800"}', '{"\\udfff": 1}', '{"credential": {"issuer": {"id": "x\\udbff"}}}',
                   _segment('{"alg": "ES256", "kid": "\\ud800"}') + "." + _segment("{}") + ".c2ln"]


@pytest.mark.parametrize("body", LONE_SURROGATES)
def test_lone_surrogate_escapes_are_refused(client: Any, body: str) -> None:
    """Found by the fuzzer: json.loads makes a str no UTF-8 encoder takes."""
    api = client.post("/api/verify", data=body, content_type="application/json")
    assert api.status_code == 400 and "surrogate" in api.json["error"], api.get_data(as_text=True)[:300]
    page = client.post("/verify", data={"credential": body})
    assert page.status_code == 400 and "surrogate" in page.get_data(as_text=True)


def test_a_valid_surrogate_pair_is_text(client: Any) -> None:
    answer = client.post("/api/verify", data='{"name": "\\ud83c\\udf93 \\\\ud800"}', content_type="application/json")
    assert answer.status_code == 200 and answer.json["verified"] is False


def test_ordinary_nesting_still_gets_a_verdict(client: Any) -> None:
    body = json.dumps({"credential": {"a": [[[[{"b": 1}]]]]}})
    answer = client.post("/api/verify", data=body, content_type="application/json")
    assert answer.status_code == 200 and answer.json["verified"] is False


# --- NUL bytes ---------------------------------------------------------------------------------------------
NUL_PATHS = ["/verify/%00", "/credentials/%00", "/credentials/%00.json", "/credentials/%00.jwt",
             "/credentials/%00.png", "/credentials/%00.svg", "/credentials/%00/linkedin", "/credentials/a%00b.json",
             "/status/%00", "/ob2/assertions/%00", "/ob2/badges/%00", "/achievements/%00", "/attest/%00",
             "/s/%00/", "/s/token/matrix/%00"]


@pytest.mark.parametrize("path", NUL_PATHS)
def test_nul_in_an_address_is_not_found_before_the_database(client: Any, services: Services, path: str) -> None:
    with statements(services) as seen:
        answer = client.get(path)
    assert answer.status_code == 404 and reason(answer) == "nul_character", answer.get_data(as_text=True)[:300]
    assert seen == []


@pytest.mark.parametrize("path", ["/verify?credential=%00", "/credentials/x.json?download=%00", "/?%00=1",
                                  "/lti/login?iss=%00&login_hint=a&target_link_uri=b",
                                  "/lti/register?openid_configuration=%00"])
def test_nul_in_a_query_is_refused_before_the_database(client: Any, services: Services, path: str) -> None:
    with statements(services) as seen:
        answer = client.get(path)
    assert answer.status_code == 400 and reason(answer) == "nul_character", answer.get_data(as_text=True)[:300]
    assert seen == []


@pytest.mark.parametrize(("path", "data"), [
    ("/lti/login", {"iss": "\x00", "login_hint": "a", "target_link_uri": "b"}),
    ("/lti/launch", {"id_token": "a\x00", "state": "b"}),
    ("/lti/launch/confirm", {"token": "\x00", "state": "x"}),
    ("/lti/register", {"openid_configuration": "https://lms.example/\x00", "registration_token": "t"}),
])
def test_nul_in_a_form_sent_to_the_lti_endpoints_is_refused(client: Any, services: Services, path: str,
                                                            data: dict[str, str]) -> None:
    with statements(services) as seen:
        answer = client.post(path, data=data)
    assert answer.status_code == 400 and reason(answer) == "nul_character", answer.get_data(as_text=True)[:300]
    assert seen == []


def test_nul_in_a_form_of_a_session_page_is_refused(moodle: LmsHandle, browser: Browser, services: Services) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    answer = instructor.post("/credentials/", {"title": "Bad\x00title"})
    assert answer.status_code == 400 and 'data-reason="nul_character"' in answer.text, answer.text[:300]


def test_nul_in_the_attestation_form_is_refused(client: Any, services: Services) -> None:
    with transaction(services.sessions) as session:
        course = evidence_course(session)
        _, token = ops.request_attestation(session, course.me, course.learner.id, course.inst.competencies[0].id,
                                           "Ran the stand-up for a month.", "Sam Supervisor", "sam@example.com")
    csrf = services.signer.mac("attest", hashlib.sha256(token.encode()).hexdigest(), 24)
    answer = client.post(f"/attest/{token}", data={"csrf_token": csrf, "answer": "confirm", "comment": "Yes\x00"})
    assert answer.status_code == 400 and reason(answer) == "nul_character", answer.get_data(as_text=True)[:300]
    assert client.get(f"/attest/{token}").status_code == 200  # the link still works


def test_matrix_and_its_export_refuse_nul_in_the_query(moodle: LmsHandle, browser: Browser,
                                                       services: Services) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    for path in ("/matrix/", "/matrix/export.csv"):
        answer = instructor.get(path, q="\x00")
        assert answer.status_code == 400 and 'data-reason="nul_character"' in answer.text, (path, answer.text[:300])
    assert instructor.get("/matrix/export.csv", q="nobody").status_code == 200


@pytest.mark.parametrize(("claim", "value"), [
    (("name",), "Lea\x00Learner"), (("name",), "Lea \ud800"), (("email",), "\x00@example.edu"), (("sub",), "\udfff"),
    ((LTI + "context", "title"), "Course\x00"), ((LTI + "resource_link", "title"), "\ud83c"),
    ((LTI + "custom",), {"\x00": "x"}), ((LTI + "roles",), ["\x00"])])
def test_signed_launch_with_unstorable_claims_is_refused(client: Any, moodle: LmsHandle, claim: tuple[str, ...],
                                                         value: Any) -> None:
    """Found by the fuzzer: what the LMS signs is stored; NUL or half a surrogate pair cannot be."""
    login_url = urlsplit(moodle.login_url("learner-1"))
    login = client.get(login_url.path, query_string=login_url.query)
    step = LoginStep(login, login.headers["Location"])
    claims = moodle.valid_claims(step)
    target = claims
    for key in claim[:-1]:
        target = target[key]
    target[claim[-1]] = value
    answer = client.post("/lti/launch", data={"id_token": moodle.sign(claims), "state": step.state})
    assert answer.status_code == 400 and reason(answer) == "invalid_claim", answer.get_data(as_text=True)[:300]


# --- session tokens that are not ASCII -----------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/s/%C3%A9/", "/s/%C3%A9/matrix/", "/s/%F0%9F%8E%93/me/evidence"])
def test_non_ascii_session_token_is_an_unknown_session(client: Any, path: str) -> None:
    answer = client.get(path) if not path.endswith("evidence") else client.post(path, data={"csrf_token": "x"})
    assert answer.status_code == 401 and reason(answer) == "session_expired", answer.get_data(as_text=True)[:300]


def test_non_ascii_token_on_the_storage_confirmation_is_an_unknown_session(client: Any) -> None:
    answer = client.post("/lti/launch/confirm", data={"token": "é", "state": "x"})
    assert answer.status_code == 401 and reason(answer) == "session_expired", answer.get_data(as_text=True)[:300]


# --- URLs of a foreign credential ------------------------------------------------------------------------------
NOT_WEB = ["javascript:alert(1)", "JaVaScRiPt:alert(document.domain)", "data:text/html,<script>alert(1)</script>",
           " javascript:alert(2)", "vbscript:msgbox(1)", "//evil.example/x"]


def foreign_credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"], "name": "Foreign badge",
        "issuer": {"id": NOT_WEB[0], "type": ["Profile"], "name": "Mallory", "url": NOT_WEB[1]},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {
            "id": NOT_WEB[2], "type": ["Achievement"], "name": "Foreign", "criteria": {"id": NOT_WEB[0]},
            "alignment": [{"type": ["Alignment"], "targetName": "A", "targetUrl": url} for url in NOT_WEB]}},
        "evidence": [{"id": url, "type": ["Evidence"], "name": f"Evidence {n}"} for n, url in enumerate(NOT_WEB)]
        + [{"id": "https://evidence.example/work", "type": ["Evidence"], "name": "Real work"}],
    }


def test_foreign_urls_that_are_not_web_addresses_are_text(client: Any) -> None:
    page = client.post("/verify", data={"credential": json.dumps(foreign_credential())})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    hrefs = re.findall(r'href="([^"]*)"', text)
    ours_or_web = ("/", "#", "https://", "http://")
    assert hrefs and all(h.startswith(ours_or_web) and not h.startswith("//") for h in hrefs), hrefs
    assert '<a href="https://evidence.example/work"' in text
    assert "javascript:alert(1)" in text and "JaVaScRiPt:alert(document.domain)" in text  # shown, as text
