"""The issuer admin page (/s/<session>/issuer/): an administrator edits the profile every credential embeds
and rotates the keys; nobody else may see or change it."""

from __future__ import annotations

import requests

from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, reason_of
from tests.support.issuer import issuer_restored
from tests.web.support import visit

FORM = {"name": "Example University of Dublin", "url": "https://www.example.edu", "email": "badges@example.edu",
        "description": "A public university.", "street_address": "College Green 1", "locality": "Dublin",
        "postal_code": "D02 PN40", "country": "ie", "image_url": ""}


def test_an_administrator_edits_the_profile_and_rotates_the_keys(moodle: LmsHandle, browser: Browser,
                                                                 services: Services, live_tool: str) -> None:
    with issuer_restored(services):
        ada = visit(browser, services, moodle, "admin-1")
        page = ada.get("/issuer/")
        assert page.status_code == 200, reason_of(page)
        assert services.issuer.state().did in page.text
        keys_before = requests.get(live_tool + "/.well-known/did.json", timeout=10).json()["assertionMethod"]
        saved = ada.post("/issuer/", {**FORM, "rotate_keys": "1"})
        assert saved.status_code == 200 and "Saved. New credentials use these details." in saved.text
        profile = requests.get(live_tool + "/issuer", timeout=10).json()
        assert profile["name"] == "Example University of Dublin"
        assert profile["address"] == {"type": ["Address"], "streetAddress": "College Green 1", "postalCode": "D02 PN40",
                                      "addressLocality": "Dublin", "addressCountryCode": "IE"}
        keys_after = requests.get(live_tool + "/.well-known/did.json", timeout=10).json()["assertionMethod"]
        assert set(keys_before) < set(keys_after) and len(keys_after) == len(keys_before) + 2
        refused = ada.post("/issuer/", {**FORM, "url": "http://www.example.edu"})
        assert refused.status_code == 422 and "Use an https:// address." in refused.text


def test_learners_and_instructors_may_not_see_or_change_the_issuer(moodle: LmsHandle, browser: Browser,
                                                                    services: Services) -> None:
    with issuer_restored(services):
        for user in ("learner-1", "instructor-1"):
            visitor = visit(browser, services, moodle, user)
            for response in (visitor.get("/issuer/"), visitor.post("/issuer/", {**FORM, "name": "Diploma Mill"})):
                assert (response.status_code, reason_of(response)) == (403, "not_allowed"), user
        services.issuer.invalidate()
        assert services.issuer.state().profile.name == "Example University"
        ada = visit(browser, services, moodle, "admin-1")
        forged = ada.post("/issuer/", {**FORM, "name": "Diploma Mill"}, csrf=False)
        assert (forged.status_code, reason_of(forged)) == (400, "csrf_failed")
