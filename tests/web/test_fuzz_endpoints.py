"""A bounded fuzzer over every public endpoint and the pages of a launched staff and learner session: hostile
paths, query strings, form fields and bodies (NUL, lone surrogates, odd unicode, long strings, deep or huge
JSON, mutated real credentials). Whatever is sent, no answer is a 5xx.

Derandomized, so CI sees the same requests every run; the budget keeps the file under a minute on two cores.
The last test prints how many requests were sent and how many server errors came back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Evidence
from lti_microcred.core.db import transaction
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.lti.models import User
from lti_microcred.lti.sessions import csrf_token
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, LoginStep
from tests.support.factories import fields, institution
from tests.support.issuer import issuer_restored
from tests.web.support import build_credential, visit

COUNT = {"requests": 0, "server_errors": 0}
FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])

HOSTILE = ["\x00", "a\x00b", "\ud800", "x\udfffy", "é", "🎓", "\u202e", "\ufffe\uffff", "%00", "%", "../../etc/passwd",
           "'; DROP TABLE users; --", "<script>alert(1)</script>", '"><svg onload=alert(1)>', "{{7*7}}", "${7*7}",
           "javascript:alert(1)", " ", "", "-1", "0", "1.5", "2147483648", "9" * 40, "1e999", "NaN", "-inf",
           "x" * 5000, "\r\n\t", "null", "[]", "{}", "A" * 65, "http://127.0.0.1:1/", "yes", "1", "published"]
TEXT = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=24),
                 st.text(st.characters(exclude_categories=()), max_size=24),
                 st.integers(1_000, 60_000).map(lambda n: "\u00e9" * n))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=16)
DEEP = st.builds(lambda n, open_, close: open_ * n + close * n, st.integers(90, 30_000),
                 st.sampled_from(["[", '{"a":', '{"credential":[']), st.sampled_from(["]", "}", "", "]}"]))
CREDENTIAL_PATHS = [("name",), ("issuer",), ("issuer", "id"), ("issuer", "name"), ("evidence",), ("validFrom",),
                    ("credentialSubject", "achievement", "name"), ("credentialSubject", "achievement", "id"),
                    ("credentialStatus",), ("proof", "verificationMethod"), ("proof", "proofValue"), ("@context",),
                    ("type",), ("credentialSubject", "identifier")]


def encoded(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")  # bytes on the wire may be any bytes, even a lone surrogate


def segment(value: str) -> str:
    return quote(encoded(value), safe="")


def form(pairs: list[tuple[str, str]]) -> str:
    return urlencode([(encoded(k), encoded(v)) for k, v in pairs])


def multipart(pairs: list[tuple[str, str]], file: bytes | None, filename: str = "c.json") -> dict[str, Any]:
    """A multipart body built by hand (any bytes, any field names), as keyword arguments for `send`."""
    boundary = "fuzzboundary7MA4YWxkTrZu0gW"
    parts = [b'Content-Disposition: form-data; name="' + encoded(k).replace(b'"', b"%22") + b'"\r\n\r\n' + encoded(v)
             for k, v in pairs]
    if file is not None:
        parts.append(b'Content-Disposition: form-data; name="file"; filename="' + encoded(filename).replace(
            b'"', b"%22").replace(b"\r", b"").replace(b"\n", b"") + b'"\r\n\r\n' + file)
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return {"data": body + b"--" + boundary.encode() + b"--\r\n",
            "content_type": f"multipart/form-data; boundary={boundary}"}


def send(client: Any, method: str, path: str, **kwargs: Any) -> Any:
    """One request through the app; any 5xx fails the test with what was sent."""
    response = client.open(path, method=method, **kwargs)
    COUNT["requests"] += 1
    if response.status_code >= 500:
        COUNT["server_errors"] += 1
    assert response.status_code < 500, (method, path, {k: str(v)[:300] for k, v in kwargs.items()},
                                        response.get_data(as_text=True)[:500])
    response.close()
    return response


def mutated(document: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A deep copy of a real credential with one value replaced (when the path exists as dicts)."""
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target.get(key) if isinstance(target, dict) else None
    if isinstance(target, dict):
        target[path[-1]] = value
    return copy


def issue_one(services: Services) -> dict[str, Any]:
    with transaction(services.sessions) as session:
        inst = institution(session)
        course = inst.course(session)
        teacher, learner = inst.person(session, "Teacher"), inst.person(session, "Learner")
        staff = inst.actor(teacher, course)
        credential = ops.create_micro_credential(session, staff, fields())
        award = ops.award_manually(session, staff, credential, learner.id, "Assessed at work.")
        row = issue(session, services.issuer.state(), services.credential_urls, award.id)
        return {"public_id": row.public_id, "key": credential.key, "json": json.loads(row.signed_json)}


@pytest.fixture
def real(services: Services) -> dict[str, Any]:
    return issue_one(services)


# --- public endpoints -----------------------------------------------------------------------------------------
PUBLIC_GETS = ["/", "/health", "/verify", "/verify/{}", "/credentials/{}", "/credentials/{}.json",
               "/credentials/{}.jwt", "/credentials/{}.png", "/credentials/{}.svg", "/credentials/{}/linkedin",
               "/status/{}", "/ob2/assertions/{}", "/ob2/badges/{}", "/ob2/issuer", "/achievements/{}",
               "/.well-known/did.json", "/.well-known/jwks.json", "/issuer", "/lti/login", "/lti/register",
               "/lti/jwks", "/lti/config.json", "/attest/{}", "/s/{}/", "/{}"]


@settings(FUZZ, max_examples=300)
@given(st.sampled_from(PUBLIC_GETS), TEXT, st.lists(st.tuples(TEXT, TEXT), max_size=3), st.booleans(),
       st.sampled_from(["GET", "HEAD"]), st.sampled_from(["*/*", "text/html", "application/json"]))
def test_public_pages(client: Any, real: dict[str, Any], route: str, value: str, query: list[tuple[str, str]],
                      use_real: bool, method: str, accept: str) -> None:
    key = real["key"] if "achievements" in route or "badges" in route else real["public_id"]
    path = route.format(segment(value) if not use_real else key + segment(value)[:3])
    send(client, method, path, query_string=form(query), headers={"Accept": accept})


VERIFY_BODIES = st.one_of(JSON.map(json.dumps), DEEP, TEXT, st.binary(max_size=200).map(lambda b: b.decode("latin-1")))


@settings(FUZZ, max_examples=150)
@given(st.one_of(VERIFY_BODIES, st.tuples(st.sampled_from(CREDENTIAL_PATHS), JSON)),
       st.sampled_from(["paste", "upload", "api"]), st.sampled_from(["application/json", "text/plain", "", "x/y"]))
def test_verifier(client: Any, real: dict[str, Any], body: str | tuple[tuple[str, ...], Any], how: str,
                  content_type: str) -> None:
    text = body if isinstance(body, str) else json.dumps(mutated(real["json"], *body))
    raw = encoded(text)
    if how == "api":
        send(client, "POST", "/api/verify", data=raw, content_type=content_type)
    elif how == "paste":
        send(client, "POST", "/verify", data=form([("credential", text)]),
             content_type="application/x-www-form-urlencoded")
    else:
        send(client, "POST", "/verify", **multipart([], raw))


LTI_FIELDS = ["iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id", "lti_deployment_id",
              "lti_storage_target", "id_token", "state", "token", "storage_error", "openid_configuration",
              "registration_token", "lmc_new_window"]
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_PATHS = [("name",), ("given_name",), ("family_name",), ("email",), ("sub",), ("locale",),
               (LTI + "context", "title"), (LTI + "context", "label"), (LTI + "context", "id"),
               (LTI + "resource_link", "title"), (LTI + "resource_link", "id"), (LTI + "roles",),
               (LTI + "custom",), (LTI + "tool_platform", "name"), (LTI + "launch_presentation",),
               (LTI + "context",), (LTI + "message_type",), (LTI + "deployment_id",)]


@settings(FUZZ, max_examples=120)
@given(st.sampled_from([("GET", "/lti/login"), ("POST", "/lti/login"), ("POST", "/lti/launch"),
                        ("POST", "/lti/launch/confirm"), ("POST", "/lti/register"), ("GET", "/lti/register"),
                        ("POST", "/attest/{}"), ("GET", "/lti/register/{}")]),
       st.lists(st.tuples(st.sampled_from([*LTI_FIELDS, "answer", "comment", "csrf_token"]), TEXT), max_size=5),
       TEXT, st.sampled_from(["", "iframe"]), st.booleans())
def test_lti_endpoints(client: Any, moodle: LmsHandle, endpoint: tuple[str, str], pairs: list[tuple[str, str]],
                       value: str, fetch_dest: str, registered: bool) -> None:
    method, route = endpoint
    path = route.format(segment(value))
    if registered:  # a login the registry knows, so the hostile fields get past the first lookup
        setup = moodle.platform.setup
        pairs = [("iss", setup.issuer or setup.base_url), ("client_id", setup.client_id),
                 ("login_hint", "learner-1"), ("target_link_uri", moodle.tool_url + "/lti/launch"), *pairs]
    headers = {"Sec-Fetch-Dest": fetch_dest} if fetch_dest else {}
    if method == "GET":
        send(client, method, path, query_string=form(pairs), headers=headers)
    else:
        send(client, method, path, data=form(pairs), content_type="application/x-www-form-urlencoded",
             headers=headers)


@settings(FUZZ, max_examples=80)
@given(st.lists(st.tuples(st.sampled_from(CLAIM_PATHS), st.one_of(TEXT, TEXT, JSON)), min_size=1, max_size=3))
def test_signed_launches_with_hostile_claims(client: Any, moodle: LmsHandle,
                                             changes: list[tuple[tuple[str, ...], Any]]) -> None:
    """What a (compromised or odd) LMS signs: a valid launch whose claims hold anything; then its first page."""
    login_url = urlsplit(moodle.login_url("learner-1"))
    login = send(client, "GET", login_url.path, query_string=login_url.query)
    step = LoginStep(login, login.headers.get("Location", ""))
    claims = moodle.valid_claims(step)
    for path, value in changes:
        claims = mutated(claims, path, value)
    launch = send(client, "POST", "/lti/launch", data=form([("id_token", moodle.sign(claims)),
                                                            ("state", step.state)]),
                  content_type="application/x-www-form-urlencoded")
    if launch.status_code == 303:
        send(client, "GET", urlsplit(launch.headers["Location"]).path)


# --- a launched staff and learner session ---------------------------------------------------------------------
STAFF_GETS = ["/", "/credentials/new", "/credentials/{key}", "/credentials/{key}/edit", "/matrix/",
              "/matrix/export.csv", "/learners/{learner}", "/frameworks/", "/frameworks/{n}", "/issuer/", "/issued/",
              "/issued/{v}/suspend", "/issued/{v}/reissue", "/issued/{v}/revoke",
              "/gradebook/", "/roster/", "/review/", "/deep-link/", "/files/{v}", "/credentials/{v}",
              "/learners/{v}", "/my-credentials/", "/my-credentials/record.json"]
STAFF_POSTS = {
    "/credentials/": ["title", "description", "kind", "workload_hours", "ects_credits", "eqf_level", "country",
                      "learning_outcomes", "assessment_type", "quality_assurance", "awarding_body", "pathway_rule"],
    "/credentials/{key}/edit": ["title", "description", "validity_months", "pathway_k", "stackable", "eqf_level"],
    "/credentials/{key}/status": ["status"], "/credentials/{key}/modules": ["title", "points"],
    "/credentials/{key}/modules/attach": ["module"],
    "/credentials/{key}/requirements": ["module", "competency", "kind", "min_percent", "min_level", "min_count",
                                        "evidence_kinds"],
    "/credentials/{key}/requirements/{n}/remove": [], "/credentials/{key}/components": ["component"],
    "/review/{v}": ["decision", "comment", "rubric_level", "page", "confirmed_level", "without_supervisor"],
    "/learners/{learner}/award": ["credential", "reason"],
    "/learners/{learner}/override": ["credential", "competency", "achieved", "reason"],
    "/learners/{learner}/awards/{v}/revoke": ["reason", "confirmed"],
    "/frameworks/competencies": ["code", "name", "description"],
    "/issuer/": ["name", "url", "email", "description", "country", "locality", "postal_code", "street_address",
                 "image_url"],
    "/issued/{v}/status": ["action", "reason", "confirmed"], "/issued/{v}/reissue": ["confirmed"],
    "/issued/{v}/revoke": ["reason", "confirmed"], "/gradebook/retry": ["key"],
    "/deep-link/": ["module", "new_title", "new_points", "new_credential", "place_again"],
    "/credentials/{v}/status": ["status"],
    "/frameworks/": ["format"], "/roster/sync": [], "/gradebook/read-back": [],
}
UPLOADS = {"/frameworks/", "/me/evidence", "/me/prior-learning"}
CSV = st.lists(st.lists(TEXT, max_size=4).map(",".join), max_size=5).map("\n".join)
FILES = st.one_of(JSON.map(json.dumps), TEXT, CSV).map(encoded) | st.binary(max_size=300)
LEARNER_POSTS = {"/me/evidence": ["credential", "competency", "title", "text", "url"],
                 "/me/prior-learning": ["credential", "competency", "description", "url"],
                 "/me/workplace": ["credential", "competency", "description", "supervisor_name", "supervisor_email"]}


@pytest.fixture
def launched(moodle: LmsHandle, browser: Browser, services: Services, competencies: list[int]) -> Iterator[Any]:
    """An admin (every staff page) and a learner, launched from the Moodle LMS, a published credential and a
    piece of the learner's evidence with a file (so keys in addresses and forms can be real)."""
    with issuer_restored(services):
        staff = visit(browser, services, moodle, "admin-1")
        key = build_credential(staff, services, competencies)
        learner = visit(Browser(browser.tool_url), services, moodle, "learner-1")
        learner.post("/me/evidence", {"credential": key, "competency": str(competencies[0]), "title": "Work"},
                     files={"file": ("work.txt", b"my work", "text/plain")})
        with services.read_sessions() as session:
            learner_id = session.scalars(select(User.id).where(User.sub == "learner-1")).one()
            evidence = session.scalars(select(Evidence.key).where(Evidence.learner_id == learner_id)).one()
        yield {"staff": staff.token, "learner": learner.token, "key": key, "learner_id": learner_id,
               "competencies": competencies, "real": [key, evidence, str(learner_id), str(competencies[0])]}
        learner.browser.close()


def fill(route: str, launched: dict[str, Any], value: str) -> str:
    return route.format(key=launched["key"], learner=launched["learner_id"], n=launched["competencies"][0],
                        v=value)


def address_value(launched: dict[str, Any]) -> st.SearchStrategy[str]:
    """What goes in an address: hostile text, or a real key, evidence key or id (then the handler runs)."""
    return st.one_of(TEXT.map(segment), st.sampled_from(launched["real"]))


def real_values(launched: dict[str, Any]) -> dict[str, str]:
    """Form values that let a handler go past its lookups (then the other fields meet the domain's checks)."""
    return {"credential": launched["key"], "competency": str(launched["competencies"][0]), "kind": "evidence_count",
            "status": "published", "decision": "accept", "achieved": "1", "action": "revoke", "format": "case",
            "confirmed": "yes", "place_again": "yes", "without_supervisor": "yes"}


def plausible(name: str, launched: dict[str, Any]) -> st.SearchStrategy[str]:
    """Hostile text; for a field that names something, more often the real thing."""
    real = real_values(launched)
    return st.one_of(st.just(real[name]), st.just(real[name]), TEXT) if name in real else TEXT


@settings(FUZZ, max_examples=150)
@given(st.data())
def test_staff_and_learner_pages(client: Any, services: Services, launched: dict[str, Any], data: Any) -> None:
    who = data.draw(st.sampled_from(["staff", "learner"]))
    route = data.draw(st.sampled_from(STAFF_GETS if who == "staff" else ["/", "/my-credentials/", "/me/{v}",
                                                                          "/files/{v}", "/matrix/"]))
    query = data.draw(st.lists(st.tuples(st.sampled_from(["q", "state", "credential", "page", "notice", "kind",
                                                          "detail", "status", "download"]) | TEXT, TEXT), max_size=3))
    path = f"/s/{launched[who]}" + fill(route, launched, data.draw(address_value(launched)))
    send(client, "GET", path, query_string=form(query))


@settings(FUZZ, max_examples=250)
@given(st.data())
def test_staff_and_learner_forms(client: Any, services: Services, launched: dict[str, Any], data: Any) -> None:
    who = data.draw(st.sampled_from(["staff", "learner"]))
    routes = STAFF_POSTS if who == "staff" else LEARNER_POSTS
    route = data.draw(st.sampled_from(sorted(routes)))
    names = routes[route]
    pairs = [(name, data.draw(plausible(name, launched))) for name in names
             if name in real_values(launched) or data.draw(st.booleans())]
    pairs += data.draw(st.lists(st.tuples(TEXT, TEXT), max_size=2))
    token = launched[who]
    pairs.append(("csrf_token", csrf_token(services.signer, token)))
    path = f"/s/{token}" + fill(route, launched, data.draw(address_value(launched)))
    if route in UPLOADS and data.draw(st.booleans()):
        send(client, "POST", path, **multipart(pairs, data.draw(FILES), data.draw(TEXT)))
    else:
        send(client, "POST", path, data=form(pairs), content_type="application/x-www-form-urlencoded")


def test_zz_requests_sent_and_no_server_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in this file: the fuzzer's tally (all of it when the whole file ran)."""
    with capsys.disabled():
        print(f"\nfuzzer: {COUNT['requests']} requests sent, {COUNT['server_errors']} server errors")
    assert COUNT["server_errors"] == 0
