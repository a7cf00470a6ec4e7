"""The course the batch runs in: a Moodle-shaped loopback LMS that knows the tool only by the proxy's address,
registered with the tool, learners enrolled, and a published micro-credential that an instructor builds
through the proxy, its module placed in the course with a gradebook column (as Deep Linking leaves it).

The micro-credential asks one accepted piece of evidence for one competency and Proficient from an assessor
for another; the tool grades the module itself, so every award writes a module result, an award to the
credential's own column and a signed credential.
"""

from __future__ import annotations

import re
from typing import Any

from lti_microcred.devplatform.app import create_platform_app
from lti_microcred.devplatform.data import DevPlatformSetup, DevUser
from lti_microcred.devplatform.demo import register_dev_platform, start_in_thread
from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.services import Services
from tests.ops.load import Course
from tests.support.driver import Browser, LmsHandle
from tests.web.support import add_framework, build_credential, visit

MODULE_POINTS = 100.0


def start_lms(proxy_url: str, port: int) -> tuple[DevPlatform, Any]:
    """The LMS on its own loopback address; every address it has of the tool is the proxy's."""
    platform = DevPlatform(DevPlatformSetup(base_url=f"http://127.0.0.2:{port}", tool_base_url=proxy_url,
                                            flavour="moodle", client_id="moodle-scale-out"))
    return platform, start_in_thread(create_platform_app(platform), "127.0.0.2", port)


def enrol(platform: DevPlatform, count: int) -> list[str]:
    """`count` learners in the LMS course (NRPS lists them; the LMS accepts their scores)."""
    users = [f"learner-{i:03}" for i in range(1, count + 1)]
    with platform.lock:
        for i, sub in enumerate(users, 1):
            platform.users[sub] = DevUser(sub, f"Learner {i:03}", f"{sub}@example.edu", "learner", "Learner", f"{i:03}")
    return users


def register(services: Services, platform: DevPlatform) -> LmsHandle:
    return LmsHandle(platform, register_dev_platform(services, platform), platform.setup.tool_base_url)


def build_course(services: Services, lms: LmsHandle) -> Course:
    """Through the proxy: the instructor builds and publishes the micro-credential, then launches its placed
    module once, so the tool knows the module's column."""
    competencies = add_framework(services, lms.platform_id)
    browser = Browser(lms.tool_url)
    try:
        instructor = visit(browser, services, lms, "instructor-1")
        key = build_credential(instructor, services, competencies)
        page = instructor.get(f"/credentials/{key}")
        found = re.search(r'data-module="([0-9a-f]+)"', page.text)
        assert found, page.text[:500]
        module_key = found.group(1)
        item = {"label": "Data Analysis: Module 1", "scoreMaximum": MODULE_POINTS, "resourceId": module_key,
                "tag": "microcred-module"}
        link = lms.platform.add_link("Data Analysis: Module 1", {"microcred_module": module_key}, item)
        assert browser.launch(lms, "instructor-1", link=link.id).status_code == 200
    finally:
        browser.close()
    return Course(lms, services.signer, key, module_key, competencies[:2], link.id)
