"""The learner's journey on a phone (390 x 740) and a laptop (1280 x 800), inside the LMS frame: a launch from a
module opens that module's tasks; only routes that can count are offered; a refused upload names the file and is
in view and focused; an upload shows progress and its result; a competency decided by an instructor says which
requirements were not needed; the award shows its badge and the actions. axe-core checks every state, and each
state is photographed (tests/browser/ux.py). These test pages, not the database: SQLite leg only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lti_microcred.app.delivery import drain
from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.models import Evidence, MicroCredential, Module
from lti_microcred.core.db import transaction
from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.lti.models import Context, User
from lti_microcred.lti.persistence import MODULE_PARAM
from lti_microcred.services import Services
from tests.browser import ux
from tests.conftest import on_postgres
from tests.support.driver import Browser, LmsHandle
from tests.web.support import PEOPLE, add_framework, build_credential, visit

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(on_postgres(), reason="tests pages, not the database: runs on the SQLite leg")]
SIZES = list(ux.SIZES)
PDF = b"%PDF-1.4\n" + b"% evidence\n" * 120_000 + b"%%EOF\n"  # about 1.3 MB
OLD_WORD = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048  # a .doc saved under a .pdf name


@dataclass
class World:
    """A published micro-credential of the Canvas course: module 1 asks for 1 accepted submission (DS.1.1) and a
    rubric level (DS.1.2); module 2 a score of 70% (DS.1.3). Module 1 is placed on the course page."""

    lms: LmsHandle
    key: str
    competencies: list[int]
    link: str
    module_ids: dict[str, int]


@pytest.fixture
def people(lms_servers: dict[str, DevPlatform]) -> Iterator[None]:
    for platform in lms_servers.values():
        platform.users["ta-1"] = PEOPLE["ta-1"]
    yield
    for platform in lms_servers.values():
        platform.users.pop("ta-1", None)


@pytest.fixture
def world(canvas: LmsHandle, services: Services, browser: Browser, people: None) -> World:
    ux.axe_source()  # skip (or fail on CI) before any work when axe-core is missing
    competencies = add_framework(services, canvas.platform_id)
    instructor = visit(browser, services, canvas, "instructor-1")
    key = build_credential(instructor, services, competencies, publish=False)
    second = instructor.post(f"/credentials/{key}/modules", {"title": "Data Analysis: Module 2", "points": "100"})
    module_keys = re.findall(r'data-module="([0-9a-f]+)"', second.text)
    assert len(module_keys) == 2, second.text[:500]
    added = instructor.post(f"/credentials/{key}/requirements", {
        "module": module_keys[1], "competency": str(competencies[2]), "kind": "score", "min_percent": "70"})
    assert added.status_code == 200, added.text[:500]
    published = instructor.post(f"/credentials/{key}/status", {"status": "published"})
    assert 'data-status="published"' in published.text
    visit(browser, services, canvas, "learner-1")  # the learner is known to the course before staff act on them
    with services.read_sessions() as session:
        modules = dict(session.execute(select(Module.title, Module.id)).all())
    link = canvas.platform.add_link("Data Analysis: Module 1", {MODULE_PARAM: module_keys[0]})
    return World(canvas, key, competencies, link.id, modules)


def phone_or_laptop(chromium: Any, size: str) -> Any:
    context = chromium.new_context(viewport=ux.SIZES[size], is_mobile=size == "phone", has_touch=size == "phone",
                                   ignore_https_errors=True)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture(params=SIZES)
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page(size: str, chromium: Any) -> Iterator[Any]:
    context = phone_or_laptop(chromium, size)
    yield context.new_page()
    context.close()


def article(world: World, index: int) -> str:
    return f"#comp-{world.key}-{world.competencies[index]}"


def staff(services: Services, world: World) -> tuple[Actor, int]:
    """The course's instructor as the domain's actor, and the learner's id."""
    with services.read_sessions() as session:
        context = session.scalars(select(Context).where(Context.platform_id == world.lms.platform_id)).one()
        users = dict(session.execute(select(User.sub, User.id).where(User.platform_id == world.lms.platform_id)).all())
    return Actor(world.lms.platform_id, context.id, users["instructor-1"], "Ian Instructor", "instructor"), \
        users["learner-1"]


def test_module_launch_opens_its_tasks_with_the_routes_that_count(page: Any, size: str, world: World) -> None:
    frame = ux.open_in_lms(page, world.lms, "learner-1", world.link)
    assert frame.inner_text("#landing-title") == "Data Analysis: Module 1"
    ux.assert_in_view(frame, "#landing-title")
    order = frame.eval_on_selector_all("main section, main #all-credentials", "els => els.map(e => e.id)")
    assert order[0] == "landing" and order.index("all-credentials") > 0
    tasks = frame.eval_on_selector_all("#module-tasks article", "els => els.map(e => +e.dataset.competency)")
    assert tasks == world.competencies[:2]  # module 2's score is not this activity's task
    assert frame.inner_text("#progress-module-label") == "0 of 2 competencies of this activity achieved"
    assert frame.inner_text(f"#progress-{world.key}-label") == "0 of 3 competencies achieved"
    routes = {c: frame.get_attribute(article(world, c), "data-routes") for c in range(3)}
    assert routes == {0: "evidence prior", 1: "evidence prior", 2: "prior"}  # nobody's supervisor counts here
    assert "No score yet: complete Data Analysis: Module 2 in the course" in frame.inner_text(article(world, 2))
    assert "supervisor" not in frame.inner_text("main").lower()
    ux.assert_no_sideways_scroll(frame)
    ux.record(page, "module-launch", size)


def test_a_refused_upload_is_named_in_view_and_focused(page: Any, size: str, world: World, services: Services,
                                                       tmp_path: Path) -> None:
    frame = ux.open_in_lms(page, world.lms, "learner-1", world.link)
    task = page.frame_locator("#tool-frame").locator(article(world, 0))
    task.locator("summary", has_text="Submit evidence").click()
    task.get_by_label("Reflection").fill("My cleaning report for the survey data.")
    refused = tmp_path / "report.pdf"
    refused.write_bytes(OLD_WORD)
    task.get_by_label("File", exact=True).set_input_files(str(refused))
    task.get_by_role("button", name="Submit evidence").click()
    page.frame_locator("#tool-frame").locator("#error-summary").wait_for()
    frame = ux.tool(page)
    ux.assert_result_shown(frame, "error-summary")
    message = frame.inner_text("#error-summary a")
    assert message.startswith("report.pdf is not really a PDF: it is an older Office file"), message
    field = f"evidence-file-{world.key}-{world.competencies[0]}"
    assert frame.get_attribute("#error-summary a", "href") == f"#{field}"
    assert frame.inner_text(f"#{field}-error").endswith(message)  # the same words beside the field
    assert f"{field}-error" in frame.get_attribute(f"#{field}", "aria-describedby")
    assert frame.input_value(f"#evidence-text-{world.key}-{world.competencies[0]}").startswith("My cleaning report")
    ux.assert_no_sideways_scroll(frame)
    ux.record(page, "refused-upload", size)
    frame.click("#error-summary a")
    ux.assert_focused(frame, field)

    report = tmp_path / "report-fixed.pdf"
    report.write_bytes(PDF)
    frame.set_input_files(f"#{field}", str(report))
    frame.click(f"#evidence-{world.key}-{world.competencies[0]} button[type=submit]")
    page.frame_locator("#tool-frame").locator("#notice").wait_for()
    ux.assert_result_shown(ux.tool(page), "notice")
    with services.read_sessions() as session:
        assert session.scalars(select(Evidence.file_name)).all() == ["report-fixed.pdf"]  # sent once


def test_an_upload_shows_progress_then_its_result(page: Any, size: str, world: World, services: Services,
                                                  tmp_path: Path) -> None:
    ux.open_in_lms(page, world.lms, "learner-1", world.link)
    task = page.frame_locator("#tool-frame").locator(article(world, 0))
    task.locator("summary", has_text="Submit evidence").click()
    task.get_by_label("Reflection").fill("The cleaned data set and what I changed.")
    report = tmp_path / "report.pdf"
    report.write_bytes(PDF)
    task.get_by_label("File", exact=True).set_input_files(str(report))
    held: list[Any] = []
    page.route("**/me/evidence", lambda route: held.append(route))
    send = task.get_by_role("button", name="Submit evidence")
    send.click()
    wait_for(page, held, 1)
    button = task.get_by_role("button", name="Sending…")
    assert button.get_attribute("aria-disabled") == "true"
    progress = task.locator("form[id^=evidence] .upload-progress")
    assert progress.is_visible() and "Sending report.pdf" in progress.inner_text()
    ux.record(page, "uploading", size)
    button.click(force=True)  # a second press (aria-disabled, still pressable) sends nothing more
    page.wait_for_timeout(300)
    assert len(held) == 1

    held[0].abort()  # the connection drops: the learner is told, and can send again
    page.frame_locator("#tool-frame").locator("#error-summary").wait_for()
    ux.assert_result_shown(ux.tool(page), "error-summary")
    assert "report.pdf could not be sent" in ux.tool(page).inner_text("#error-summary")
    send.click()
    wait_for(page, held, 2)
    held[1].continue_()
    page.frame_locator("#tool-frame").locator("#notice").wait_for()
    frame = ux.tool(page)
    ux.assert_result_shown(frame, "notice")
    assert "Your evidence was submitted" in frame.inner_text("#notice")
    sent = frame.inner_text(article(world, 0))
    assert "Pending review" in sent and "Download report.pdf" in sent
    assert "1 piece waiting for review" in sent
    with services.read_sessions() as session:
        assert len(session.scalars(select(Evidence.id)).all()) == 1
    ux.assert_no_sideways_scroll(frame)
    ux.record(page, "submitted", size)


def wait_for(page: Any, held: list[Any], count: int) -> None:
    """Until the browser has sent `count` requests to the held route."""
    for _ in range(200):
        if len(held) >= count:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"{len(held)} requests sent, not {count}")


def test_decisions_read_consistently_and_the_award_has_its_badge(page: Any, size: str, world: World,
                                                                 services: Services) -> None:
    actor, learner = staff(services, world)
    with transaction(services.sessions) as session:
        credential = session.scalars(select(MicroCredential).where(MicroCredential.key == world.key)).one()
        ops.override_competency(session, actor, credential, learner, world.competencies[1], True,
                                "Presented the analysis to the class.")
    frame = ux.open_in_lms(page, world.lms, "learner-1")
    decided = frame.locator(article(world, 1))
    assert decided.locator(".pill").inner_text() == "Achieved"
    assert "Achieved: your instructor decided it" in decided.inner_text()
    assert "Presented the analysis to the class." in decided.inner_text()
    assert decided.locator(".requirement").get_attribute("data-status") == "not_needed"
    assert "Not yet" not in decided.inner_text() and "Not needed" in decided.inner_text()
    assert frame.inner_text(f"#progress-{world.key}-label") == "1 of 3 competencies achieved"
    ux.record(page, "decided", size)

    earn(services, world, actor, learner)
    frame = ux.open_in_lms(page, world.lms, "learner-1")
    assert frame.inner_text(f"#progress-{world.key}-label") == "3 of 3 competencies achieved"
    assert frame.locator(f"#cred-{world.key} .pill").first.inner_text() == "Earned"
    ux.record(page, "earned", size)
    frame.click("#my-credentials-link")
    frame.locator("#my-credentials").wait_for()
    card = frame.locator("#my-credentials > li").first
    image = card.locator("img.award-card__image")
    image.wait_for()
    frame.wait_for_function("() => { const i = document.querySelector('img.award-card__image');"
                            " return i.complete && i.naturalWidth > 0; }")  # the badge image loaded
    assert image.get_attribute("alt") == "Badge of Data Analysis"
    for name in ("Download the badge", "Add to LinkedIn", "Verify"):
        assert card.get_by_role("link", name=name).first.is_visible(), name
    assert card.get_by_role("button", name="Copy link").is_visible()
    assert not card.get_by_text("VC-JWT").is_visible()  # technical formats wait behind a disclosure
    card.locator("summary", has_text="Other formats").click()
    assert card.get_by_text("for wallets that ask for this form").is_visible()
    share = frame.evaluate("(() => { const e = document.querySelector('.share__url');"
                           " return e.scrollWidth - e.clientWidth; })()")
    assert share <= 0, "the share link overflows its line"
    ux.assert_no_sideways_scroll(frame)
    ux.record(page, "my-credentials", size)
    frame.click("#back-link")
    frame.locator("#landing").wait_for()


def earn(services: Services, world: World, actor: Actor, learner: int) -> None:
    """The assessor accepts a submission and the gradebook sends 80% for module 2; the worker issues it."""
    with transaction(services.sessions) as session:
        actor_learner = Actor(actor.platform_id, actor.context_id, learner, "Lea Learner", "learner")
        piece = ops.submit_evidence(session, actor_learner, world.competencies[0], text="My cleaning report.")
        ops.assess_evidence(session, actor, piece, "accepted", "Clear and complete.")  # type: ignore[arg-type]
        ops.record_lms_score(session, actor, learner, world.module_ids["Data Analysis: Module 2"], 80, 100)
    assert drain(services, timeout=10) >= 1


def test_a_reviewer_sees_a_refused_decision_at_once(page: Any, size: str, world: World, services: Services) -> None:
    """The design system's behaviour on a staff page: a rejection without a comment puts its message in view."""
    actor, learner = staff(services, world)
    with transaction(services.sessions) as session:
        actor_learner = Actor(actor.platform_id, actor.context_id, learner, "Lea Learner", "learner")
        ops.submit_evidence(session, actor_learner, world.competencies[0], text="My cleaning report.")
    frame = ux.open_in_lms(page, world.lms, "ta-1")
    frame.get_by_role("navigation", name="Course tools").get_by_role("link", name="Review").click()
    frame.locator("section.review-item").first.wait_for()
    frame.locator("section.review-item").first.get_by_role("button", name="Reject").click()
    frame.locator("[role='alert']").first.wait_for()
    frame = ux.tool(page)
    active = frame.evaluate("document.activeElement.getAttribute('role') || document.activeElement.className")
    assert active in ("alert", "error-summary") or "error-summary" in active, active
    focused_id = frame.evaluate("document.activeElement.id")
    ux.assert_in_view(frame, f"#{focused_id}")
    ux.shoot(page, "review-refused", size)
