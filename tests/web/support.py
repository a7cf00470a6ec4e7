"""Driving the micro-credential pages over real HTTP, as a person in a launched session does."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import select

from lti_microcred.competencies.models import Competency, Framework, MicroCredential
from lti_microcred.core.db import transaction
from lti_microcred.devplatform.data import DevUser
from lti_microcred.lti.sessions import csrf_token
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, reason_of

PEOPLE = {
    "learner-2": DevUser("learner-2", "Lou Second", "lou@example.edu", "learner", "Lou", "Second"),
    "ta-1": DevUser("ta-1", "Tess Assessor", "tess@example.edu", "ta", "Tess", "Assessor"),
    "admin-1": DevUser("admin-1", "Ada Admin", "ada@example.edu", "admin", "Ada", "Admin"),
}

CREDENTIAL_FORM = {
    "title": "Data Analysis Essentials", "description": "Cleaning, exploring and presenting data.",
    "learning_outcomes": "Clean a messy data set\nExplain a chart to a non-specialist",
    "workload_hours": "50", "ects_credits": "2", "eqf_level": "5", "national_level": "RQF 5",
    "assessment_type": "Practical project assessed with a rubric", "participation_form": "online",
    "quality_assurance": "Internal QA by the Faculty of Science", "awarding_body": "Example University",
    "country": "IE", "prerequisites": "", "supervision": "Live presentation with ID check", "validity_months": "",
    "stackable": "yes",
}


@dataclass
class Visit:
    """One launched session: its base URL /s/<token> and a CSRF token, derived as the tool derives it."""

    browser: Browser
    landing: requests.Response
    csrf: str

    @property
    def base(self) -> str:
        return self.landing.url.split("/s/")[0] + "/s/" + self.token

    @property
    def token(self) -> str:
        return self.landing.url.split("/s/")[1].split("/")[0]

    def get(self, path: str = "/", **params: Any) -> requests.Response:
        return self.browser.http.get(self.base + path, params=params or None)

    def post(self, path: str, data: dict[str, Any] | None = None, files: dict[str, Any] | None = None,
             csrf: bool = True, follow: bool = True) -> requests.Response:
        body = {**({"csrf_token": self.csrf} if csrf else {}), **(data or {})}
        return self.browser.http.post(self.base + path, data=body, files=files, allow_redirects=follow)


def visit(browser: Browser, services: Services, lms: LmsHandle, user: str, link: str | None = None) -> Visit:
    landing = browser.launch(lms, user, link=link)
    assert landing.status_code == 200, reason_of(landing)
    token = landing.url.split("/s/")[1].split("/")[0]
    return Visit(browser, landing, csrf_token(services.signer, token))


def add_framework(services: Services, platform_id: int, count: int = 3, prefix: str = "DS") -> list[int]:
    """A framework of the platform: DS.1 with children DS.1.1 … (codes and names visible in the pages)."""
    with transaction(services.sessions) as session:
        framework = Framework(platform_id=platform_id, identifier=f"{prefix}-fw", title=f"{prefix} framework",
                              source="manual")
        session.add(framework)
        session.flush()
        root = Competency(framework_id=framework.id, identifier=f"{prefix}.1", code=f"{prefix}.1",
                          short_name="Information and data literacy", sort_order=0)
        session.add(root)
        session.flush()
        children = [Competency(framework_id=framework.id, identifier=f"{prefix}.1.{i}", code=f"{prefix}.1.{i}",
                               short_name=f"Skill {i} of {prefix}", parent_id=root.id, sort_order=i)
                    for i in range(1, count + 1)]
        session.add_all(children)
        session.flush()
        return [c.id for c in children]


def credential_key(services: Services, title: str) -> str:
    with services.read_sessions() as session:
        return session.scalars(select(MicroCredential.key).where(MicroCredential.title == title)).one()


def build_credential(staff: Visit, services: Services, competencies: list[int], title: str = "Data Analysis",
                     publish: bool = True) -> str:
    """Through the pages: create, add a module, require 1 accepted piece for competency 0 and Proficient for 1."""
    created = staff.post("/credentials/", {**CREDENTIAL_FORM, "title": title})
    assert created.status_code == 200, created.text[:800]
    key = credential_key(services, title)
    module = staff.post(f"/credentials/{key}/modules", {"title": f"{title}: Module 1", "points": "100"})
    assert module.status_code == 200, reason_of(module)
    module_key = re.search(r'data-module="([0-9a-f]+)"', module.text).group(1)  # type: ignore[union-attr]
    for competency, kind, extra in ((competencies[0], "evidence_count", {"min_count": "1"}),
                                    (competencies[1], "rubric", {"min_level": "3"})):
        answer = staff.post(f"/credentials/{key}/requirements", {
            "module": module_key, "competency": str(competency), "kind": kind, "evidence_kinds": "submission",
            **extra})
        assert answer.status_code == 200, answer.text[:800]
    if publish:
        published = staff.post(f"/credentials/{key}/status", {"status": "published"})
        assert 'data-status="published"' in published.text, published.text[:800]
    return key


def text_of(page: requests.Response) -> str:
    """The page's visible text, one space between words (for assertions on sentences)."""
    return text_of_html(page.text)


def text_of_html(markup: str) -> str:
    """A piece of a page as text, one space between words."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


def evidence_keys(page: requests.Response) -> list[str]:
    """Keys of the evidence on a page, in page order, each once."""
    return list(dict.fromkeys(re.findall(r'data-evidence="([0-9a-f]+)"', page.text)))
