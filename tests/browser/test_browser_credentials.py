"""The micro-credential journey in headless Chromium, inside the LMS's cross-site iframe: an instructor builds
a credential, a learner submits evidence with a file, an assessor accepts it, the learner sees the award."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.services import Services
from tests.support.driver import LmsHandle
from tests.web.support import PEOPLE, add_framework

pytestmark = pytest.mark.browser

UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name || e.id)"""


@pytest.fixture
def assessor(lms_servers: dict[str, DevPlatform]) -> Iterator[None]:
    for platform in lms_servers.values():
        platform.users["ta-1"] = PEOPLE["ta-1"]
    yield
    for platform in lms_servers.values():
        platform.users.pop("ta-1", None)


def open_tool(page: Any, lms: LmsHandle, user: str) -> Any:
    page.goto(lms.platform.url(f"/launch?user={user}"))
    frame = page.frame_locator("#tool-frame")
    frame.locator("#landing").wait_for()
    return frame


def accessible(page: Any) -> None:
    """Every field has a label, and the document says its language."""
    frame = page.frame(name="tool-frame")
    assert frame.evaluate(UNLABELLED) == []
    assert frame.evaluate("document.documentElement.lang") == "en"


def build(frame: Any, page: Any) -> None:
    frame.get_by_role("link", name="New micro-credential").click()
    fields = {"Title": "Spreadsheet Skills", "Learning outcomes": "Build a pivot table",
              "Notional workload in hours": "25", "Type of assessment": "Practical task",
              "Type of quality assurance": "Faculty QA board", "Awarding body": "Example University",
              "Country": "IE"}
    for label, value in fields.items():
        frame.get_by_label(label, exact=True).fill(value)
    frame.get_by_label("EQF level (optional)").select_option("4")
    frame.get_by_role("button", name="Create").click()
    frame.locator("#notice").wait_for()
    accessible(page)
    frame.locator("#module-title").fill("Pivot tables")
    frame.get_by_role("button", name="Add the module").click()
    frame.locator("#module-list li").wait_for()
    frame.locator("#req-competency").select_option(label="\u2003DS.1.1 — Skill 1 of DS")
    frame.get_by_label("Accepted pieces of evidence").check()
    frame.get_by_label("Number of accepted pieces").fill("1")
    frame.get_by_role("button", name="Save the requirement").click()
    frame.locator("#requirement-table").wait_for()
    frame.get_by_role("button", name="Publish").click()
    frame.locator("#status", has_text="Published").wait_for()


def test_build_submit_accept_award_in_the_lms_frame(page: Any, canvas: LmsHandle, services: Services,
                                                    assessor: None, tmp_path: Path) -> None:
    add_framework(services, canvas.platform_id)
    build(open_tool(page, canvas, "instructor-1"), page)

    frame = open_tool(page, canvas, "learner-1")
    competency = frame.locator("article.competency").first
    assert "1 accepted piece of submitted or workplace evidence" in competency.inner_text()
    competency.locator("summary", has_text="Submit evidence").click()
    competency.get_by_label("Reflection").fill("My pivot table of the sales data.")
    evidence = tmp_path / "pivot.csv"
    evidence.write_text("region,total\nnorth,12\n", encoding="utf-8")
    competency.get_by_label("File", exact=True).set_input_files(str(evidence))
    accessible(page)
    competency.get_by_role("button", name="Submit evidence").click()
    frame.locator("#notice").wait_for()
    assert "Pending review" in frame.locator("article.competency").first.inner_text()

    frame = open_tool(page, canvas, "ta-1")
    frame.get_by_role("navigation", name="Course tools").get_by_role("link", name="Review").click()
    item = frame.locator("section.review-item").first
    assert "pivot.csv" in item.inner_text()
    item.get_by_label("Comment for the learner (required to reject)").fill("Well done.")
    item.get_by_role("button", name="Accept").click()
    frame.locator("#queue-empty").wait_for()

    frame = open_tool(page, canvas, "learner-1")
    award = frame.locator("#earned li")
    award.wait_for()
    assert award.inner_text().startswith("Spreadsheet Skills") and "awarded on" in award.inner_text()
    assert "Well done." in frame.locator("article.competency").first.inner_text()


def test_keyboard_reaches_the_evidence_form(page: Any, canvas: LmsHandle, services: Services) -> None:
    """A learner on a phone-sized screen opens the form with the keyboard; nothing overflows sideways."""
    add_framework(services, canvas.platform_id)
    build(open_tool(page, canvas, "instructor-1"), page)
    page.set_viewport_size({"width": 360, "height": 740})
    frame = open_tool(page, canvas, "learner-1")
    summary = frame.locator("article.competency summary").first
    summary.focus()
    page.keyboard.press("Enter")
    reflection = frame.locator("article.competency textarea[name=text]").first
    reflection.wait_for()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.frame(name="tool-frame").evaluate("document.activeElement.getAttribute('name')")
    assert focused == "text"
    tool = page.frame(name="tool-frame")
    assert tool.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
