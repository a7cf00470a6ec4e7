"""The public verification page in headless Chromium: what an employer sees for valid, tampered, revoked and
expired credentials, and for garbage or oversized uploads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Award
from lti_microcred.core.db import transaction
from lti_microcred.credentials.issuing.credential_status import revoke_award_credential
from tests.issuing.test_public_urls import issued

pytestmark = pytest.mark.browser


def verdict_of(page: Any) -> tuple[str, str]:
    page.locator("#verdict").wait_for()
    return page.locator("#verdict").get_attribute("data-verified"), page.locator("#verdict-summary").inner_text()


def upload(page: Any, live_tool: str, path: Path) -> None:
    page.goto(live_tool + "/verify")
    page.get_by_label("Credential file").set_input_files(str(path))
    page.get_by_role("button", name="Verify").click()


def test_valid_credential_page(page: Any, services: Any, live_tool: str) -> None:
    one = issued(services)
    page.goto(f"{live_tool}/verify/{one['public_id']}")
    verified, summary = verdict_of(page)
    assert verified == "true" and "authentic" in summary
    assert page.locator("#holder").inner_text() == one["learner"]
    assert page.get_by_role("heading", name="Data Analysis Essentials").is_visible()


def test_tampered_upload_is_rejected(page: Any, services: Any, live_tool: str, tmp_path: Path) -> None:
    one = issued(services)
    credential = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).json()
    credential["credentialSubject"]["achievement"]["ectsCredits"] = 60
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(credential))
    upload(page, live_tool, path)
    verified, _summary = verdict_of(page)
    assert verified == "false"
    assert page.locator('[data-check="proof"]').get_attribute("data-outcome") == "failed"


def test_baked_badge_upload_verifies(page: Any, services: Any, live_tool: str, tmp_path: Path) -> None:
    one = issued(services)
    path = tmp_path / "badge.png"
    path.write_bytes(requests.get(f"{live_tool}/credentials/{one['public_id']}.png", timeout=10).content)
    upload(page, live_tool, path)
    assert verdict_of(page)[0] == "true"


def test_revoked_credential_says_so(page: Any, services: Any, live_tool: str) -> None:
    one = issued(services)
    with transaction(services.sessions) as session:
        ops.revoke(session, one["staff"], session.get(Award, one["award_id"]), "Plagiarism in the final project.")
        revoke_award_credential(session, one["award_id"])
    page.goto(f"{live_tool}/verify/{one['public_id']}")
    verified, summary = verdict_of(page)
    assert verified == "false" and "revoked" in summary
    assert "Plagiarism in the final project." in page.locator("#stored-status").inner_text()


def test_expired_credential_says_so(page: Any, services: Any, live_tool: str) -> None:
    one = issued(services, awarded_days_ago=400, validity_months=1)  # valid for a month, long ago
    page.goto(f"{live_tool}/verify/{one['public_id']}")
    verified, summary = verdict_of(page)
    assert verified == "false" and "expired on" in summary
    assert page.locator('[data-check="validity"]').get_attribute("data-outcome") == "failed"


def test_garbage_upload_is_explained(page: Any, live_tool: str, tmp_path: Path) -> None:
    path = tmp_path / "holiday.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    upload(page, live_tool, path)
    error = page.locator("#verify-error")
    error.wait_for()
    assert "PNG" in error.inner_text()


def test_twenty_megabyte_upload_is_refused(page: Any, live_tool: str, tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_bytes(b"{" + b" " * (20 * 1024 * 1024) + b"}")
    upload(page, live_tool, path)
    error = page.locator("#verify-error")
    error.wait_for()
    assert "larger than" in error.inner_text()


def test_a_phone_reads_the_verdict_without_scrolling_sideways(page: Any, services: Any, live_tool: str) -> None:
    """The checks name keys and DIDs, single words of 60+ characters: they wrap instead of widening the page."""
    one = issued(services)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_tool}/verify/{one['public_id']}")
    verdict_of(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
