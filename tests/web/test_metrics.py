"""GET /metrics: off unless a token is set, then only for that bearer token; and what it counts: launches and
refusals, requests per page group, outbox backlog, deliveries per LMS, credential changes, verifications and
the delivery workers' heartbeats."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from lti_microcred import create_app
from lti_microcred.competencies import operations as ops
from lti_microcred.core import outbox
from lti_microcred.core.db import transaction, utcnow
from lti_microcred.credentials.issuing.credential_status import change_status
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.lms.delivery.worker import WorkerOptions
from lti_microcred.lms.errors import PERMANENT, ServiceError
from lti_microcred.lms.models import WorkerHeartbeat
from lti_microcred.services import Services, lms_runtime
from tests.support.driver import Browser, LmsHandle, wait_until
from tests.support.factories import fields, institution

TOKEN = "metrics-token-0123456789-abcdefghijklmnop"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = WorkerOptions(batch=20, concurrency=2, lease_seconds=30, poll_seconds=0.05, backoff_seconds=0.05,
                     backoff_max_seconds=0.2)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def metrics_client(services: Services) -> Any:
    """The app with a metrics token, on the suite's database (the counters are this process's, shared)."""
    app = create_app(services=Services(dataclasses.replace(services.settings, metrics_token=TOKEN), services.engine))
    app.config["TESTING"] = True
    return app.test_client()


def scrape(client: Any) -> Samples:
    answer = client.get("/metrics", headers=AUTH)
    assert answer.status_code == 200, answer.text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- the endpoint ------------------------------------------------------------------------------------------
def test_absent_without_a_token_setting(client: Any) -> None:
    assert client.get("/metrics", headers=AUTH).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer é"])
def test_a_wrong_or_missing_token_is_refused(metrics_client: Any, header: str | None) -> None:
    answer = metrics_client.get("/metrics", headers={"Authorization": header} if header else {})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "microcred_" not in answer.text


def test_the_token_gets_the_text_exposition(metrics_client: Any) -> None:
    answer = metrics_client.get("/metrics", headers=AUTH)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert answer.headers["Cache-Control"] == "no-store"
    samples = scrape(metrics_client)
    assert value(samples, "microcred_metrics_database_up") == 1.0
    assert ("microcred_workers_live", frozenset()) in samples


def test_scrapes_are_not_counted_as_requests(metrics_client: Any) -> None:
    for _ in range(3):
        samples = scrape(metrics_client)
    groups = {dict(labels).get("group") for name, labels in samples if name.startswith("microcred_request")}
    assert "metrics" not in groups
    metrics_client.get("/health")
    after = scrape(metrics_client)
    assert value(after, "microcred_requests_total", group="public", status="2xx") == \
        value(samples, "microcred_requests_total", group="public", status="2xx") + 1


# --- launches ----------------------------------------------------------------------------------------------
def test_a_launch_counts_as_accepted_and_times_its_pages(moodle: LmsHandle, browser: Browser,
                                                         metrics_client: Any) -> None:
    before = scrape(metrics_client)
    assert browser.launch(moodle, "learner-1").status_code == 200
    after = scrape(metrics_client)
    accepted = {"outcome": "accepted", "reason": ""}
    assert value(after, "microcred_launches_total", **accepted) == value(before, "microcred_launches_total",
                                                                         **accepted) + 1
    lti = value(after, "microcred_request_duration_seconds_count", group="lti")
    assert lti >= value(before, "microcred_request_duration_seconds_count", group="lti") + 2  # login, launch
    assert value(after, "microcred_requests_total", group="home", status="2xx") > \
        value(before, "microcred_requests_total", group="home", status="2xx")


def test_a_refused_launch_counts_its_reason(moodle: LmsHandle, browser: Browser, metrics_client: Any) -> None:
    action, form = browser.authorize(browser.start_login(moodle.login_url("learner-1")))
    assert browser.post_launch(action, form).status_code == 303
    before = scrape(metrics_client)
    assert browser.post_launch(action, form).status_code == 401  # the same id_token again
    browser.http.get(f"{browser.tool_url}/lti/login", params={"iss": "https://nobody.example", "login_hint": "x",
                                                              "target_link_uri": f"{browser.tool_url}/lti/launch"})
    after = scrape(metrics_client)
    for reason in ("replayed", "unknown_issuer"):
        labels = {"outcome": "refused", "reason": reason}
        assert value(after, "microcred_launches_total", **labels) == value(before, "microcred_launches_total",
                                                                           **labels) + 1, reason


# --- the outbox and its delivery ------------------------------------------------------------------------------
def _platform(services: Services, issuer: str | None = None) -> int:
    with transaction(services.sessions) as session:
        return institution(session, issuer).platform.id


def test_outbox_depth_and_age_come_from_the_pending_rows(services: Services, metrics_client: Any) -> None:
    platform_id = _platform(services)
    with transaction(services.sessions) as session:
        for age, status in ((300, "pending"), (30, "pending"), (900, "done")):
            row = outbox.enqueue(session, outbox.MODULE_RESULT, platform_id, {"n": age})
            row.created_dt, row.status = utcnow() - dt.timedelta(seconds=age), status
    samples = scrape(metrics_client)
    assert value(samples, "microcred_outbox_pending", kind="module_result") == 2
    assert 300 <= value(samples, "microcred_outbox_oldest_pending_age_seconds", kind="module_result") < 360
    assert value(samples, "microcred_outbox_pending", kind="issue_credential") == 0  # reported, not absent
    assert ("microcred_outbox_pending", frozenset({("kind", "issue_credential")})) in samples
    platform = {("platform", str(platform_id)), ("status", "active")}
    assert any(name == "microcred_platform_info" and platform <= labels for name, labels in samples)


def test_deliveries_count_per_lms_kind_and_outcome(services: Services, metrics_client: Any) -> None:
    good, bad = _platform(services), _platform(services)
    runtime = lms_runtime(services)

    def handler(job: Any) -> None:
        if job.message.platform_id == bad:
            raise ServiceError("the LMS refused the score", PERMANENT, 400)

    runtime.handlers.register(outbox.MODULE_RESULT, handler)
    with transaction(services.sessions) as session:
        for platform_id in (good, good, bad):
            outbox.enqueue(session, outbox.MODULE_RESULT, platform_id, {})
    before = scrape(metrics_client)
    worker = runtime.worker(FAST)
    assert worker.drain(5) == 3
    worker.stop()
    after = scrape(metrics_client)

    def delta(platform_id: int, outcome: str) -> float:
        labels = {"platform": str(platform_id), "kind": "module_result", "outcome": outcome}
        return value(after, "microcred_deliveries_total", **labels) - value(before, "microcred_deliveries_total",
                                                                            **labels)

    assert (delta(good, "done"), delta(good, "failed"), delta(bad, "done"), delta(bad, "failed")) == (2, 0, 0, 1)


def test_a_running_worker_beats_and_is_forgotten_when_it_stops(services: Services, metrics_client: Any) -> None:
    worker = lms_runtime(services).worker(FAST)
    worker.start()
    name = worker.queue.worker_id
    try:
        wait_until(lambda: _heartbeat(services, name) is not None)
        samples = scrape(metrics_client)
        assert 0 <= value(samples, "microcred_worker_heartbeat_age_seconds", worker=name) < 5
        assert value(samples, "microcred_workers_live") >= 1
    finally:
        worker.stop()
    assert _heartbeat(services, name) is None
    assert ("microcred_worker_heartbeat_age_seconds", frozenset({("worker", name)})) not in scrape(metrics_client)


def _heartbeat(services: Services, name: str) -> WorkerHeartbeat | None:
    with services.read_sessions() as session:
        return session.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.worker == name)).one_or_none()


# --- credentials and verification ---------------------------------------------------------------------------
@pytest.fixture
def award_id(services: Services) -> int:
    with transaction(services.sessions) as session:
        inst = institution(session)
        course = inst.course(session)
        staff = inst.actor(inst.person(session, "Teacher"), course)
        credential = ops.create_micro_credential(session, staff, fields())
        return ops.award_manually(session, staff, credential, inst.person(session, "Learner").id, "Assessed.").id


def _changes(client: Any) -> dict[str, float]:
    samples = scrape(client)
    return {change: value(samples, "microcred_credential_changes_total", change=change)
            for change in ("issued", "revoked", "suspended", "reinstated")}


def test_credential_changes_count_when_committed(services: Services, award_id: int, metrics_client: Any) -> None:
    before = _changes(metrics_client)
    with transaction(services.sessions) as session:
        row_id = issue(session, services.issuer.state(), services.credential_urls, award_id).id
    with services.sessions() as session:  # rolled back: nothing happened, nothing counted
        change_status(session, session.get(IssuedCredential, row_id), "suspension", True, "Reviewed.")
        session.rollback()
    for purpose, value_ in (("suspension", True), ("suspension", False), ("revocation", True)):
        with transaction(services.sessions) as session:
            change_status(session, session.get(IssuedCredential, row_id), purpose, value_, "Reviewed.")
    after = _changes(metrics_client)
    assert {k: after[k] - before[k] for k in after} == {"issued": 1, "revoked": 1, "suspended": 1, "reinstated": 1}


def test_verifications_count_their_verdict(services: Services, award_id: int, metrics_client: Any,
                                           client: Any) -> None:
    with transaction(services.sessions) as session:
        signed = json.loads(issue(session, services.issuer.state(), services.credential_urls, award_id).signed_json)
    tampered = {**signed, "name": "Doctor of Everything"}
    before = scrape(metrics_client)
    assert client.post("/api/verify", data=json.dumps(signed)).get_json()["verified"] is True
    assert client.post("/api/verify", data=json.dumps(tampered)).get_json()["verified"] is False
    after = scrape(metrics_client)
    for labels in ({"verdict": "verified", "failed_check": ""}, {"verdict": "unverified", "failed_check": "proof"}):
        assert value(after, "microcred_verifications_total", **labels) == \
            value(before, "microcred_verifications_total", **labels) + 1, labels

