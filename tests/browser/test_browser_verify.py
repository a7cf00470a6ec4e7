"""The public verification page in headless Chromium, as an employer meets it: the institution, the badge, the
holder and the verdict in one sentence first, what was achieved next, the checks folded last; a credential that
fails reads as claims; the e-mail check runs in the browser; a learner record lists what it holds. Screenshots of
each state at 390 and 1280 px go to MICROCRED_SCREENSHOTS (default tests/browser/screenshots/)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image, ImageDraw

from lti_microcred.core.db import transaction
from lti_microcred.credentials.images.design import text_room
from lti_microcred.credentials.images.text_fit import font
from lti_microcred.credentials.issuing.issuer import profile_of
from tests.browser.ux import assert_accessible, screenshots
from tests.issuing.test_public_urls import LOGO, issued, record, revoke
from tests.support.issuer import issuer_restored

pytestmark = pytest.mark.browser
WIDTHS = (390, 1280)


def logo_png() -> bytes:
    image = Image.new("RGB", (112, 112), (122, 31, 92))
    ImageDraw.Draw(image).text((56, 58), "EU", font=font(48), fill=(255, 255, 255), anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def employer(page: Any, services: Any) -> Iterator[Any]:
    """A browser page, and an institution with its logo (served to the page as the logo's host would), web site
    and colour."""
    with issuer_restored(services):
        with transaction(services.sessions) as session:
            profile = profile_of(session, services.issuer.state().institution_id)
            assert profile is not None
            profile.image_url, profile.url, profile.brand_color = LOGO, "https://www.example.edu", "#7A1F5C"
        services.issuer.invalidate()
        page.route(LOGO, lambda route: route.fulfill(status=200, content_type="image/png", body=logo_png()))
        yield page


def verdict_of(page: Any) -> tuple[str, str]:
    page.locator("#verdict").wait_for()
    return page.locator("#verdict").get_attribute("data-verified"), page.locator("#verdict-summary").inner_text()


def upload(page: Any, live_tool: str, path: Path) -> None:
    page.goto(live_tool + "/verify")
    page.get_by_label("Credential file").set_input_files(str(path))
    page.get_by_role("button", name="Verify").click()


def paste(page: Any, live_tool: str, text: str) -> None:
    page.goto(live_tool + "/verify")
    page.get_by_label("…or paste it").fill(text)
    page.get_by_role("button", name="Verify").click()


def shoot(page: Any, state: str) -> None:
    """The page at a phone's and a laptop's width: whole, and what shows before any scrolling."""
    folder = screenshots()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 844 if width < 600 else 800})
        page.wait_for_timeout(150)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{state} scrolls sideways at {width}"
        page.screenshot(path=str(folder / f"verify-{state}-{width}.png"), full_page=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(folder / f"verify-{state}-{width}-first-screen.png"))


def images_loaded(page: Any) -> dict[str, int]:
    return dict(page.evaluate("() => Object.fromEntries([...document.images].map(i => [i.className, i.naturalWidth]))"))


def test_valid_credential_page(employer: Any, services: Any, live_tool: str) -> None:
    one = issued(services)
    page = employer
    page.goto(f"{live_tool}/verify/{one['public_id']}")
    verified, summary = verdict_of(page)
    assert verified == "true" and summary.startswith(f"Genuine: issued by Example University to {one['learner']} on ")
    assert page.locator("#issuer-name").inner_text() == "Example University"
    assert page.locator("#holder").inner_text() == one["learner"]
    assert page.get_by_role("heading", name="Data Analysis Essentials", level=1).is_visible()
    loaded = images_loaded(page)
    assert loaded["verify-logo"] > 0 and loaded["verify-badge"] > 0  # the logo and the badge art both show
    first_screen = page.evaluate("() => innerHeight")
    for selector in ("#issuer-name", ".verify-badge", "#holder", "#verdict-summary"):  # all before any scrolling
        assert page.locator(selector).bounding_box()["y"] < first_screen, selector
    assert not page.locator('[data-check="proof"]').is_visible()  # the checks are folded
    page.get_by_text("How it was checked").click()
    assert page.locator('[data-check="trusted issuer"]').inner_text().startswith("Trusted issuer: passed")
    page.get_by_text("How it was checked").click()
    assert_accessible(page, "verify valid")
    shoot(page, "valid")


def test_opening_a_credentials_address_in_chrome_shows_the_page(page: Any, services: Any, live_tool: str) -> None:
    one = issued(services)
    page.goto(f"{live_tool}/credentials/{one['public_id']}")  # Chrome's own Accept header: text/html, …, */*
    assert page.url.endswith(f"/verify/{one['public_id']}")
    assert verdict_of(page)[0] == "true"


def test_tampered_upload_is_rejected(employer: Any, services: Any, live_tool: str, tmp_path: Path) -> None:
    one = issued(services)
    page = employer
    credential = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).json()
    credential["credentialSubject"]["achievement"]["ectsCredits"] = 60
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(credential))
    upload(page, live_tool, path)
    verified, summary = verdict_of(page)
    assert verified == "false" and summary.startswith("Not valid: this credential was changed after it was signed")
    assert page.locator("#claims").inner_text().startswith("None of this is confirmed. This credential claims that")
    assert page.locator(".verify-logo").count() == 0 and page.locator("#holder").count() == 0
    assert page.locator('[data-check="proof"]').get_attribute("data-outcome") == "failed"
    page.get_by_text("How it was checked").click()
    checks = page.locator("#technical").inner_text()
    assert "Trusted issuer: passed" not in checks and "Trusted issuer: no problem found" in checks
    assert_accessible(page, "verify tampered")
    shoot(page, "tampered-upload")


def test_baked_badge_upload_verifies(page: Any, services: Any, live_tool: str, tmp_path: Path) -> None:
    one = issued(services)
    path = tmp_path / "badge.png"
    path.write_bytes(requests.get(f"{live_tool}/credentials/{one['public_id']}.png", timeout=10).content)
    upload(page, live_tool, path)
    assert verdict_of(page)[0] == "true"
    assert page.locator("#holder").inner_text() == one["learner"]  # named from our records, not "a learner"


def test_revoked_credential_says_so(employer: Any, services: Any, live_tool: str) -> None:
    one = issued(services)
    revoke(services, one, "Plagiarism in the final project.")
    page = employer
    page.goto(f"{live_tool}/verify/{one['public_id']}")
    verified, summary = verdict_of(page)
    assert verified == "false" and summary.startswith("Not valid: revoked on ")
    assert summary.endswith("reason: Plagiarism in the final project.")
    assert page.locator(".verify-badge").get_attribute("class") == "verify-badge is-unverified"
    assert_accessible(page, "verify revoked")
    shoot(page, "revoked")


def test_expired_credential_says_so(page: Any, services: Any, live_tool: str) -> None:
    one = issued(services, awarded_days_ago=400, validity_months=1)  # valid for a month, long ago
    page.goto(f"{live_tool}/verify/{one['public_id']}")
    verified, summary = verdict_of(page)
    assert verified == "false" and summary.startswith("Not valid: expired on ")
    assert page.locator('[data-check="validity"]').get_attribute("data-outcome") == "failed"


def test_the_email_check_runs_in_the_browser(page: Any, services: Any, live_tool: str) -> None:
    one = issued(services)
    credential = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).text
    paste(page, live_tool, credential)
    verdict_of(page)
    sent: list[str] = []
    page.on("request", lambda request: sent.append(f"{request.method} {request.url} {request.post_data or ''}"))
    field = page.get_by_label("Candidate's e-mail address")
    for typed, match in (("someone@example.edu", "false"), (" Learner@Example.edu ", "true")):
        field.fill(typed)
        page.get_by_role("button", name="Check").click()
        page.wait_for_function(f"document.getElementById('email-result').dataset.match === '{match}'")
    assert page.locator("#email-result").inner_text().startswith("✔ Matches")
    assert not [r for r in sent if "example.edu" in r.lower() or not r.startswith("GET ")]  # the address stays here


def test_a_learner_record_lists_each_credential_with_its_verdict(employer: Any, services: Any,
                                                                  live_tool: str) -> None:
    held = record(services, revoke_second=True)
    page = employer
    paste(page, live_tool, held["record"])
    verified, summary = verdict_of(page)
    assert verified == "false" and "a credential in this record does not verify" in summary
    items = page.locator(".verify-item")
    assert items.count() == 2
    verdicts = {items.nth(i).locator("h3").inner_text(): items.nth(i).get_attribute("data-genuine") for i in range(2)}
    assert verdicts == {"Data Analysis Essentials": "true", "Data Visualisation": "false"}
    shoot(page, "clr")
    whole = record(services)
    paste(page, live_tool, whole["record"])
    assert verdict_of(page)[0] == "true" and page.locator("#holder").inner_text() == whole["learner"]
    shoot(page, "clr-genuine")


def test_the_badge_text_fits_in_the_browsers_own_rendering(page: Any, services: Any, live_tool: str) -> None:
    """Chromium draws the SVG with its fonts: every line stays within the room the layout measured for it."""
    title = ("Advanced Competencies in Sustainable Supply Chain Management, Circular Economy Practices and "
             "Responsible Procurement III")
    one = issued(services, title=title)
    page.goto(f"{live_tool}/credentials/{one['public_id']}.svg")
    lines = page.evaluate("""() => [...document.querySelectorAll('#title text, #issuer text')].map(t => ({
        width: t.getBBox().width, size: +t.getAttribute('font-size'), y: +t.getAttribute('y'),
        text: t.textContent}))""")
    assert " ".join(line["text"] for line in lines[:5] if line["size"] >= 20).startswith("Advanced Competencies")
    for line in lines:
        assert line["width"] <= text_room(line["y"], line["size"]) + 1, line


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
    page.get_by_text("How it was checked").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
