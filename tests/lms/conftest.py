"""Fixtures for the LMS services: a fresh LMS runtime per test (its caches are keyed by row ids, which a
cleaned database reuses) and loopback LMSs whose gradebook, roster and faults start empty."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lti_microcred.core.outbound import OutboundHTTP
from lti_microcred.devplatform.services import DevServices, dev_services
from lti_microcred.lms.delivery.worker import Worker, WorkerOptions
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.services import Services, lms_runtime, use_runtime
from tests.support.driver import LmsHandle

FAST = WorkerOptions(batch=50, concurrency=4, lease_seconds=30, poll_seconds=0.05, backoff_seconds=0.05,
                     backoff_max_seconds=0.4)


@pytest.fixture
def runtime(services: Services) -> Iterator[LmsRuntime]:
    """Short timeouts, so a hanging LMS costs a test half a second rather than ten."""
    outbound = OutboundHTTP(services.settings.base_url, connect_timeout=1.0, read_timeout=0.5)
    rt = lms_runtime(services, outbound=outbound)
    use_runtime(services, rt)
    yield rt
    use_runtime(services, None)
    outbound.session.close()


@pytest.fixture
def worker(runtime: LmsRuntime) -> Iterator[Worker]:
    w = runtime.worker(FAST)
    yield w
    w.stop()


def _fresh(lms: LmsHandle) -> DevServices:
    services = dev_services(lms.platform)
    services.reset()
    return services


@pytest.fixture
def moodle_services(moodle: LmsHandle) -> DevServices:
    return _fresh(moodle)


@pytest.fixture
def canvas_services(canvas: LmsHandle) -> DevServices:
    return _fresh(canvas)


@pytest.fixture(params=["moodle", "canvas"])
def lms(request: pytest.FixtureRequest) -> tuple[LmsHandle, DevServices]:
    handle: LmsHandle = request.getfixturevalue(request.param)
    return handle, _fresh(handle)


def launched(browser: Any, lms: LmsHandle, user: str = "instructor-1", link: str | None = None) -> Any:
    page = browser.launch(lms, user, link=link)
    assert page.status_code == 200, page.text[:300]
    return page
