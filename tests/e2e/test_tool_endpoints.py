"""What an LMS administrator is given: the Canvas developer-key JSON with this server's address, and /health."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import text

from lti_microcred.app.factory import create_app
from lti_microcred.core.config import load_settings
from lti_microcred.core.migrate import head_revision, upgrade
from lti_microcred.services import Services
from tests.support.driver import Browser

ROOT = Path(__file__).resolve().parent.parent.parent
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"


def test_canvas_config_json_is_the_template_with_this_servers_address(browser: Browser) -> None:
    response = browser.http.get(browser.tool_url + "/lti/config.json")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    assert "{{TOOL_HOST}}" not in response.text and "https://{{" not in response.text
    served = response.json()
    host = urlsplit(browser.tool_url).netloc
    assert served["oidc_initiation_url"] == browser.tool_url + "/lti/login"
    assert served["target_link_uri"] == browser.tool_url + "/lti/launch"
    assert served["public_jwk_url"] == browser.tool_url + "/lti/jwks"
    assert served["redirect_uris"] == [browser.tool_url + "/lti/launch"]  # Canvas: the key's Redirect URIs
    canvas = served["extensions"][0]
    assert (canvas["platform"], canvas["domain"], canvas["privacy_level"]) == ("canvas.instructure.com", host, "public")
    placements = {p["placement"]: p for p in canvas["settings"]["placements"]}
    assert {name: p["message_type"] for name, p in placements.items()} == {
        "course_navigation": "LtiResourceLinkRequest", "link_selection": "LtiDeepLinkingRequest",
        "assignment_selection": "LtiDeepLinkingRequest"}
    assert {p["target_link_uri"] for p in placements.values()} == {browser.tool_url + "/lti/launch"}
    assert set(served["scopes"]) == {AGS + "lineitem", AGS + "lineitem.readonly", AGS + "result.readonly",
                                     AGS + "score", "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"}
    template = (ROOT / "tool.json").read_text()
    assert served == json.loads(template.replace("https://{{TOOL_HOST}}", browser.tool_url)
                                .replace("{{TOOL_HOST}}", host))


def test_health_answers_with_the_database_state(browser: Browser) -> None:
    response = browser.http.get(browser.tool_url + "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_ready_answers_with_the_schema(browser: Browser) -> None:
    response = browser.http.get(browser.tool_url + "/ready")
    assert (response.status_code, response.json()["status"]) == (200, "ok")
    assert response.json()["schema"] == head_revision()


def test_ready_is_503_while_the_database_is_not_migrated_or_away(tmp_path: Path) -> None:
    """What an orchestrator sees during a deploy whose migrations have not run, and while the database is down."""
    empty = {"env": "test", "base_url": "http://127.0.0.1:9", "instance_path": str(tmp_path),
             "database_url": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "secret_key": "s" * 48}
    app = create_app(config=empty, services=Services.from_settings(load_settings(empty, environ={})))
    answer = app.test_client().get("/ready")
    assert answer.status_code == 503 and answer.get_json()["database"] == "not migrated"
    away = {**empty, "database_url": f"sqlite:///{tmp_path / 'no-such-dir' / 'x.sqlite3'}"}
    app = create_app(config=away, services=Services.from_settings(load_settings(away, environ={})))
    answer = app.test_client().get("/ready")
    assert answer.status_code == 503 and answer.get_json()["status"] == "error"


def test_ready_during_a_rolling_deploy(tmp_path: Path) -> None:
    """Behind this code's schema: 503 (run the migrations). Ahead of it (a newer release migrated the database
    while this process still runs the old code): ready, since migrations only add."""
    settings = {"env": "test", "base_url": "http://127.0.0.1:9", "instance_path": str(tmp_path),
                "database_url": f"sqlite:///{tmp_path / 'db.sqlite3'}", "secret_key": "s" * 48}
    services = Services.from_settings(load_settings(settings, environ={}))
    upgrade(services.engine)
    client = create_app(config=settings, services=services).test_client()
    for revision, status, state in (("0005", 503, None), ("9999", 200, "ahead"), (head_revision(), 200, "current")):
        with services.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r").bindparams(r=revision))
        answer = client.get("/ready")
        assert answer.status_code == status, (revision, answer.get_json())
        assert answer.get_json().get("state") == state
