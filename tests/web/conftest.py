"""Fixtures for the micro-credential pages: more people in the loopback LMSs, a framework per platform."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.services import Services
from tests.support.driver import LmsHandle
from tests.web.support import PEOPLE, add_framework


@pytest.fixture(autouse=True)
def people(lms_servers: dict[str, DevPlatform]) -> Iterator[None]:
    """A second learner, an assessor (Moodle "ta") and an admin in both LMSs; the LMSs' own users as they were
    afterwards (the demo LMS has a learner-2 of its own, which later tests rely on)."""
    before = {flavour: dict(platform.users) for flavour, platform in lms_servers.items()}
    for platform in lms_servers.values():
        platform.users.update(PEOPLE)
    yield
    for flavour, platform in lms_servers.items():
        platform.users.clear()
        platform.users.update(before[flavour])


@pytest.fixture
def competencies(services: Services, moodle: LmsHandle) -> list[int]:
    """Three competencies (DS.1.1-3 under DS.1) in a framework of the Moodle platform."""
    return add_framework(services, moodle.platform_id)


@pytest.fixture
def other_course(moodle: LmsHandle) -> Iterator[Any]:
    """Launches from the Moodle LMS go to course DEMO-202 while the context manager is open."""
    setup = moodle.platform.setup
    original = (setup.course_id, setup.course_title)

    class Switch:
        def __enter__(self) -> None:
            setup.course_id, setup.course_title = "DEMO-202", "Another course"

        def __exit__(self, *_: Any) -> None:
            setup.course_id, setup.course_title = original

    yield Switch()
    setup.course_id, setup.course_title = original
