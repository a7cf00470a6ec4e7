"""The instructor's and assessor's pages in headless Chromium, inside the demo LMS's cross-site frame, at a
phone's width (390 px) and a laptop's (1280 px): the review queue chooses the rubric level that meets the
requirement and asks before accepting less; the issued-credentials table fits the frame with its actions in
view; a refused form puts its focused error summary in view, and its links reach their fields.

Screenshots of each page at both widths go to $MICROCRED_SCREENSHOTS (default tests/browser/screenshots/)."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lti_microcred.app.delivery import drain
from lti_microcred.lti.models import User
from lti_microcred.services import Services
from tests.browser.ux import assert_accessible
from tests.support.driver import Browser, LmsHandle
from tests.web.support import add_framework, build_credential, evidence_keys, visit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(bool(os.environ.get("LTI_MICROCRED_TEST_DATABASE_URL")),
                       reason="layout checks run once, on the SQLite leg"),
]
WIDTHS = [390, 1280]
SHOTS = Path(os.environ.get("MICROCRED_SCREENSHOTS") or Path(__file__).parent / "screenshots")
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def open_tool(page: Any, lms: LmsHandle, user: str, deep_link: bool = False) -> Any:
    """Launch from the LMS page into its frame; the launch is several round trips, slow on a busy machine."""
    page.goto(lms.platform.url(f"/launch?user={user}" + ("&dl=1" if deep_link else "")))
    frame = page.frame_locator("#tool-frame")
    try:
        frame.locator("#deep-link-form" if deep_link else "#landing").wait_for(timeout=30_000)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "launch-failed.png"))
        raise
    return frame


def tool(page: Any) -> Any:
    return page.frame(name="tool-frame")


def shoot(page: Any, name: str) -> None:
    """axe-core on the page as it is (nothing critical, serious or moderate), then the LMS page with its frame
    as tall as the tool's page (in a window as tall), so all of it is in the picture; then the frame and the
    window as they were."""
    assert_accessible(tool(page), name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    window = page.viewport_size
    height = tool(page).evaluate("document.documentElement.scrollHeight")
    page.evaluate(f"document.getElementById('tool-frame').style.height = '{height + 4}px'")
    page.set_viewport_size({"width": window["width"], "height": page.evaluate("document.body.scrollHeight") + 40})
    page.wait_for_timeout(300)  # the frame paints its new height
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.evaluate("document.getElementById('tool-frame').style.height = ''")
    page.set_viewport_size(window)


def in_view(page: Any, locator: Any) -> None:
    """The element's top is inside the window (the LMS page) and inside the tool's frame."""
    box, frame = locator.bounding_box(), page.locator("#tool-frame").bounding_box()
    window = page.viewport_size
    assert box is not None and frame is not None
    assert 0 <= box["y"] < window["height"] and frame["y"] - 1 <= box["y"] < frame["y"] + frame["height"], (box, frame)


def inside_frame_width(page: Any, locator: Any) -> None:
    box, frame = locator.bounding_box(), page.locator("#tool-frame").bounding_box()
    assert box is not None and frame is not None
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 0.5, (box, frame)


def focused_id(page: Any) -> str:
    return tool(page).evaluate("document.activeElement && document.activeElement.id")


def wait_focused(page: Any, element_id: str) -> None:
    """The page's script moves focus once the page has loaded: wait for it (then say what has focus)."""
    with contextlib.suppress(Exception):  # the assertion below says what went wrong
        tool(page).wait_for_function(f"document.activeElement && document.activeElement.id === '{element_id}'",
                                     timeout=5000)
    assert focused_id(page) == element_id


@pytest.mark.parametrize("width", WIDTHS)
def test_review_chooses_the_level_that_meets_the_requirement(page: Any, canvas: LmsHandle, browser: Browser,
                                                             services: Services, width: int) -> None:
    competencies = add_framework(services, canvas.platform_id)
    key = build_credential(visit(browser, services, canvas, "instructor-1"), services, competencies)
    visit(browser, services, canvas, "learner-1").post("/me/evidence", {
        "credential": key, "competency": str(competencies[1]), "text": "My chart of the survey results."})
    page.set_viewport_size({"width": width, "height": 800})
    frame = open_tool(page, canvas, "instructor-1")
    frame.get_by_role("navigation", name="Course tools").get_by_role("link", name="Review").click()
    item = frame.locator("section.review-item").first
    level = item.get_by_label("Rubric level")
    assert level.input_value() == "3"  # Proficient: what "Rubric level ≥ Proficient" needs
    assert "Rubric level ≥ Proficient from an assessor" in item.inner_text()
    assert tool(page).evaluate(OVERFLOW) <= 0
    shoot(page, f"review-{width}")
    level.select_option("")
    item.get_by_role("button", name="Accept").click()
    warning = frame.locator("#decision-error")
    warning.wait_for()
    wait_focused(page, "decision-error")
    in_view(page, warning)
    assert "does not meet what the competency requires" in warning.inner_text()
    assert tool(page).evaluate(OVERFLOW) <= 0
    shoot(page, f"review-warning-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_issued_credentials_fit_the_frame_with_their_actions(page: Any, canvas: LmsHandle, browser: Browser,
                                                             services: Services, width: int) -> None:
    competencies = add_framework(services, canvas.platform_id)
    instructor = visit(browser, services, canvas, "instructor-1")
    key = build_credential(instructor, services, competencies, title="Data Analysis Essentials")
    visit(browser, services, canvas, "learner-1")
    with services.read_sessions() as session:
        lea = session.scalars(select(User.id).where(User.sub == "learner-1")).one()
    instructor.post(f"/learners/{lea}/award", {"credential": key, "reason": "Portfolio reviewed"})
    drain(services)
    page.set_viewport_size({"width": width, "height": 800})
    frame = open_tool(page, canvas, "instructor-1")
    frame.get_by_role("link", name="Credentials issued in this course").click()
    row = frame.locator("#issued tbody tr").first
    row.wait_for()
    assert tool(page).evaluate(OVERFLOW) <= 0
    for name in ("Suspend…", "Re-issue…", "Revoke…"):
        action = row.get_by_role("link", name=name)
        action.scroll_into_view_if_needed()
        assert action.is_visible()
        inside_frame_width(page, action)
    status = row.locator("td[data-label='Status']")
    assert status.is_visible() and "Valid" in status.inner_text()
    inside_frame_width(page, status)
    shoot(page, f"issued-{width}")
    row.get_by_role("link", name="Revoke…").click()
    frame.locator("#confirm").wait_for()
    assert "The reason is shown to the learner and to anyone who checks this credential." in frame.locator(
        "#confirm").inner_text()
    frame.get_by_role("button", name="Revoke the award").click()  # without a reason: refused, nothing revoked
    frame.locator("#error-summary").wait_for()
    wait_focused(page, "error-summary")
    in_view(page, frame.locator("#error-summary"))
    assert tool(page).evaluate(OVERFLOW) <= 0
    shoot(page, f"revoke-confirm-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_form_errors_are_summarised_in_view_and_link_to_their_fields(page: Any, canvas: LmsHandle,
                                                                     services: Services, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    frame = open_tool(page, canvas, "instructor-1")
    frame.get_by_role("link", name="New micro-credential").click()
    frame.get_by_label("Title", exact=True).fill("Spreadsheet Skills")
    frame.get_by_role("button", name="Create").click()
    summary = frame.locator("#error-summary")
    summary.wait_for()
    wait_focused(page, "error-summary")
    in_view(page, summary)
    assert "Give the workload in hours, in ECTS credits, or both." in summary.inner_text()
    assert tool(page).evaluate(OVERFLOW) <= 0
    shoot(page, f"form-errors-{width}")
    summary.get_by_role("link", name="Give the type of assessment").click()
    assert focused_id(page) == "assessment_type"
    in_view(page, frame.locator("label[for=assessment_type]"))
    described = frame.locator("#assessment_type").get_attribute("aria-describedby") or ""
    assert "assessment_type-problem" in described.split()
    assert "Give the type of assessment" in frame.locator("#assessment_type-problem").inner_text()


@pytest.mark.parametrize("width", WIDTHS)
def test_learner_tables_and_the_picker_read_at_this_width(page: Any, canvas: LmsHandle, browser: Browser,
                                                          services: Services, width: int) -> None:
    competencies = add_framework(services, canvas.platform_id)
    instructor = visit(browser, services, canvas, "instructor-1")
    key = build_credential(instructor, services, competencies, title="Data Analysis Essentials")
    module = re.search(r'data-module="([0-9a-f]+)"', instructor.get(f"/credentials/{key}").text).group(1)  # type: ignore
    link = canvas.platform.add_link("Week 1: cleaning data", {"microcred_module": module})
    lea = visit(browser, services, canvas, "learner-1", link=link.id)
    for competency in competencies[:2]:
        lea.post("/me/evidence", {"credential": key, "competency": str(competency), "text": "Done."})
    for piece, level in zip(evidence_keys(instructor.get("/review/")), ("", "3"), strict=True):  # oldest first
        instructor.post(f"/review/{piece}", {"decision": "accepted", "rubric_level": level, "comment": "Good."})
    drain(services)  # publishing re-evaluates the course in the background: let it finish first
    page.set_viewport_size({"width": width, "height": 800})
    frame = open_tool(page, canvas, "instructor-1")
    frame.get_by_role("navigation", name="Course tools").get_by_role("link", name="Learners").click()
    frame.locator("#matrix").wait_for()
    shoot(page, f"learners-{width}")
    assert tool(page).evaluate(OVERFLOW) <= 0  # the matrix scrolls inside its own box
    assert "Skill 1 of DS" in frame.locator("#matrix thead").inner_text()
    shoot(page, f"learners-{width}")
    frame.locator("#matrix").get_by_role("link", name="Lea Learner").click()
    frame.locator("#audit").wait_for()
    assert tool(page).evaluate(OVERFLOW) <= 0
    assert "Lea Learner earned “Data Analysis Essentials”" in frame.locator("#audit").inner_text()
    shoot(page, f"learner-{width}")

    picker = open_tool(page, canvas, "instructor-1", deep_link=True)
    choice = picker.locator(f"[data-module='{module}']")
    assert "Already in the course" in choice.inner_text()
    choice.get_by_role("checkbox").check()
    picker.get_by_role("button", name="Add to the course").click()
    picker.locator("#place-again").wait_for()
    wait_focused(page, "place-again")
    in_view(page, picker.locator("#place-again"))
    assert tool(page).evaluate(OVERFLOW) <= 0
    shoot(page, f"picker-{width}")
