"""What a person relies on, checked inside the LMS frame: the result of a post in view and focused, nothing wider
than the screen, no accessibility problem axe-core rates critical, serious or moderate, and a screenshot of each
state at each width (in MICROCRED_SCREENSHOTS, default tests/browser/screenshots/)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
AXE = HERE / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"phone": {"width": 390, "height": 740}, "desktop": {"width": 1280, "height": 800}}
BLOCKING = ("critical", "serious", "moderate")
IN_VIEW = """(selector) => { const e = document.querySelector(selector); if (!e) return null;
    const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, height: innerHeight}; }"""
AXE_RUN = """async () => { const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"""


def screenshots() -> Path:
    folder = Path(os.environ.get("MICROCRED_SCREENSHOTS") or HERE / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def axe_source() -> str:
    """axe-core from tests/browser/axe (`npm ci` there); without it the checks skip, except where CI runs
    (REQUIRE_POSTGRES=1), where they must not pass silently."""
    if not AXE.exists():
        message = "axe-core is not installed: run `npm ci` in tests/browser/axe"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def tool(page: Any) -> Any:
    """The tool's frame in the LMS page."""
    frame = page.frame(name="tool-frame")
    assert frame is not None, "the LMS page has no tool frame"
    return frame


def open_in_lms(page: Any, lms: Any, user: str, link: str | None = None) -> Any:
    """Launch the tool as `user` from the LMS page (from a module's link when given) and wait for its landing.
    On a loaded machine Chromium now and then keeps reporting the frame at its launch step after the landing page
    was served; the launch is tried once more then (test_browser_launch.py tests launches themselves)."""
    url = lms.platform.url(f"/launch?user={user}" + (f"&link={link}" if link else ""))
    landing = page.frame_locator("#tool-frame").locator("#landing")
    page.goto(url)
    try:
        landing.wait_for(timeout=20_000)
    except Exception:  # Playwright's TimeoutError (playwright is imported only where it is installed)
        page.goto(url)
        landing.wait_for(timeout=30_000)
    return tool(page)


def box(frame: Any, selector: str) -> dict[str, float]:
    found = frame.evaluate(IN_VIEW, selector)
    assert found is not None, f"nothing matches {selector}"
    return dict(found)


def assert_in_view(frame: Any, selector: str) -> None:
    """The element starts within the frame's viewport: a person sees it without scrolling."""
    where = box(frame, selector)
    assert 0 <= where["top"] < where["height"], f"{selector} starts at {where['top']}px in a {where['height']}px frame"


def assert_focused(frame: Any, element_id: str) -> None:
    active = frame.evaluate("document.activeElement && document.activeElement.id")
    assert active == element_id, f"focus is on #{active}, not #{element_id}"


def assert_result_shown(frame: Any, element_id: str) -> None:
    """After a post: its result has focus and is in view (the LMS frame does not scroll for us)."""
    assert_focused(frame, element_id)
    assert_in_view(frame, f"#{element_id}")


def assert_no_sideways_scroll(frame: Any) -> None:
    overflow = frame.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the frame"


def assert_accessible(frame: Any, state: str) -> list[dict[str, Any]]:
    """axe-core in the tool's frame: nothing critical, serious or moderate. Returns every violation found."""
    if not frame.evaluate("typeof window.axe !== 'undefined'"):
        frame.evaluate(axe_source() + "\n;0")  # through the debugger: the page's CSP does not apply
    violations = frame.evaluate(AXE_RUN)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{state}: " + json.dumps(blocking, indent=1)
    return list(violations)


def shoot(page: Any, state: str, size: str) -> None:
    """What the person sees (the LMS page with the frame), and the whole of the tool's page for review."""
    folder, width = screenshots(), SIZES[size]["width"]
    page.screenshot(path=str(folder / f"{state}-{width}.png"))
    height = tool(page).evaluate("document.documentElement.scrollHeight")
    frame_element = page.locator("#tool-frame")
    original = frame_element.evaluate("f => f.style.height")
    frame_element.evaluate("(f, h) => { f.style.height = h + 'px'; }", height + 4)
    page.set_viewport_size({"width": width, "height": height + 300})
    page.wait_for_timeout(300)  # the frame paints at its new size
    page.screenshot(path=str(folder / f"{state}-{width}-full.png"), full_page=True)
    frame_element.evaluate("(f, h) => { f.style.height = h; }", original)
    page.set_viewport_size(SIZES[size])
    page.wait_for_timeout(100)


def record(page: Any, state: str, size: str) -> None:
    """One state of a page at one width: checked with axe-core (every finding kept beside the screenshots, in
    <state>-<width>-axe.json) and photographed."""
    width = SIZES[size]["width"]
    violations = assert_accessible(tool(page), f"{state} at {width} px")
    (screenshots() / f"{state}-{width}-axe.json").write_text(json.dumps(violations, indent=1), encoding="utf-8")
    shoot(page, state, size)
