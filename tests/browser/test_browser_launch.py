"""Real launches in headless Chromium: the tool in a cross-site iframe of the LMS page, as users see it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.driver import LmsHandle

pytestmark = pytest.mark.browser


def tool_frame(page: Any) -> Any:
    return page.frame_locator("#tool-frame")


def requested(page: Any) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    return urls


def test_canvas_launch_in_a_cross_site_iframe_uses_platform_storage(page: Any, canvas: LmsHandle) -> None:
    urls = requested(page)
    page.goto(canvas.platform.url("/launch?user=learner-1"))
    landing = tool_frame(page).locator("#landing")
    landing.wait_for()
    assert landing.get_attribute("data-role") == "learner"
    assert tool_frame(page).locator("#who-name").inner_text().startswith("Lea Learner")
    assert any(u.endswith("/lti/launch/confirm") for u in urls)  # confirmed through postMessage storage


def test_moodle_iframe_without_usable_cookies_offers_a_new_window(page: Any, moodle: LmsHandle) -> None:
    page.goto(moodle.platform.url("/launch?user=learner-1"))
    fallback = tool_frame(page).locator("#login-fallback")
    fallback.wait_for()
    with page.expect_popup() as popup_info:
        tool_frame(page).get_by_role("link", name="Open in a new window").click()
    popup = popup_info.value
    popup.locator("#landing").wait_for()
    assert popup.locator("#landing").get_attribute("data-role") == "learner"


def test_moodle_over_https_keeps_a_partitioned_cookie(page: Any, moodle_https: LmsHandle) -> None:
    urls = requested(page)
    page.goto(moodle_https.platform.url("/launch?user=instructor-1"))
    tool_frame(page).locator("#landing").wait_for()
    assert tool_frame(page).locator("#landing").get_attribute("data-role") == "instructor"
    assert not any(u.endswith("/lti/launch/confirm") for u in urls)  # the cookie alone bound the browser
    cookies = page.context.cookies()
    assert all(c["partitionKey"] for c in cookies if c["name"].startswith("lmc_"))
    assert not [c for c in cookies if c["name"].startswith("lmc_state_")]  # spent and deleted


def test_instructor_places_a_module_through_deep_linking(page: Any, canvas: LmsHandle) -> None:
    page.goto(canvas.platform.url("/launch?user=instructor-1&dl=1"))
    frame = tool_frame(page)
    frame.get_by_label("Title").fill("Module 2: Visualising data")
    frame.get_by_label("Maximum points in the gradebook").fill("20")
    frame.get_by_role("button", name="Add to the course").click()
    frame.locator("#placed li").wait_for()
    assert frame.locator("#placed li").inner_text().startswith("Module 2: Visualising data")
    [link] = canvas.platform.links.values()
    assert link.line_item and link.line_item["scoreMaximum"] == 20


def test_learner_page_fits_a_phone_screen(chromium: Any, canvas: LmsHandle) -> None:
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(canvas.platform.url("/launch?user=learner-1"))
    frame = page.frame(name="tool-frame")
    tool_frame(page).locator("#landing").wait_for()
    frame = page.frame(name="tool-frame")
    overflow = frame.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    context.close()


def test_refusal_is_readable_inside_the_frame(page: Any, moodle: LmsHandle, services: Any) -> None:
    from lti_microcred.core.db import transaction
    from lti_microcred.lti.models import Platform

    with transaction(services.sessions) as session:
        session.get(Platform, moodle.platform_id).status = "pending"
    services.reset_caches()
    page.goto(moodle.platform.url("/launch?user=learner-1"))
    alert = tool_frame(page).get_by_role("alert")
    alert.wait_for()
    assert "waiting for activation" in alert.inner_text()
    assert tool_frame(page).locator("[data-reason]").inner_text() == "platform_not_active"
