"""Headless Chromium (Debian's package) driven by Playwright; the LMS and the tool on different sites."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from lti_microcred import create_app
from lti_microcred.core.config import load_settings
from lti_microcred.devplatform.app import create_platform_app
from lti_microcred.devplatform.data import DevPlatformSetup
from lti_microcred.devplatform.demo import register_dev_platform, start_in_thread
from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.services import Services
from tests.conftest import free_port
from tests.support.driver import LmsHandle
from tests.support.tls import self_signed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium"):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(ignore_https_errors=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def https_tool(tmp_path_factory: pytest.TempPathFactory, settings_overrides: dict[str, Any],
               services: Services) -> Iterator[Services]:
    """The same database served a second time, over https, as a production deployment would be."""
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    port = free_port()
    https = Services.from_settings(load_settings({**settings_overrides, "base_url": f"https://127.0.0.1:{port}"},
                                                 environ={}))
    server = make_server("127.0.0.1", port, create_app(services=https), threaded=True, ssl_context=(cert, key))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield https
    server.shutdown()
    server.server_close()
    https.engine.dispose()


@pytest.fixture(scope="session")
def https_lms(https_tool: Services) -> Iterator[DevPlatform]:
    port = free_port()
    setup = DevPlatformSetup(base_url=f"http://127.0.0.3:{port}", tool_base_url=https_tool.settings.base_url,
                             flavour="moodle", client_id="moodle-https")
    platform = DevPlatform(setup)
    server = start_in_thread(create_platform_app(platform), "127.0.0.3", port)
    yield platform
    server.shutdown()
    server.server_close()


@pytest.fixture
def moodle_https(https_tool: Services, https_lms: DevPlatform) -> LmsHandle:
    https_tool.reset_caches()
    https_lms.links.clear()
    return LmsHandle(https_lms, register_dev_platform(https_tool, https_lms), https_tool.settings.base_url)
