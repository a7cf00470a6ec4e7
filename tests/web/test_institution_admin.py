"""An LMS administrator edits only the issuer of their own institution: the page, the form and the key
rotation reach the institution of the registration they launched from, and none of another institution's
credentials is within reach of their sessions."""

from __future__ import annotations

import requests
from sqlalchemy.orm import Session

from lti_microcred.app.setup import issuer_for_institution
from lti_microcred.competencies import operations as ops
from lti_microcred.core.db import transaction
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.lti.institutions import attach_platform, create_institution
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, reason_of
from tests.support.factories import fields, institution
from tests.support.issuer import issuer_restored
from tests.web.support import visit

FORM = {"name": "Example University of Dublin", "url": "", "email": "", "description": "", "street_address": "",
        "locality": "", "postal_code": "", "country": "", "image_url": "", "linkedin_organization_id": ""}


def north(services: Services, *platform_ids: int) -> int:
    """Institution "north" with its own issuer, and the given registrations moved to it."""
    with transaction(services.sessions) as session:
        row = create_institution(session, "north", "North College")
        issuer_for_institution(services, session, row.id)
        for platform_id in platform_ids:
            attach_platform(session, platform_id, "north")
    services.issuer.invalidate()
    return row.id


def test_each_admin_sees_and_edits_only_their_own_institution(moodle: LmsHandle, canvas: LmsHandle,
                                                              browser: Browser, services: Services,
                                                              live_tool: str) -> None:
    with issuer_restored(services):
        north_id = north(services, canvas.platform_id)
        root_did, north_did = services.issuer.state().did, services.issuer.state(north_id).did
        north_keys = services.issuer.state(north_id).did_document["assertionMethod"]
        moodle_admin = visit(browser, services, moodle, "admin-1")
        page = moodle_admin.get("/issuer/")
        assert page.status_code == 200 and root_did in page.text
        assert north_did not in page.text and "North College" not in page.text
        saved = moodle_admin.post("/issuer/", {**FORM, "rotate_keys": "1"})
        assert saved.status_code == 200, reason_of(saved)
        services.issuer.invalidate()
        north_state = services.issuer.state(north_id)
        assert north_state.profile.name == "North College"
        assert north_state.did_document["assertionMethod"] == north_keys
        assert requests.get(live_tool + "/institutions/north/issuer", timeout=10).json()["name"] == "North College"
        canvas_admin = visit(browser, services, canvas, "admin-1")
        page = canvas_admin.get("/issuer/")
        assert page.status_code == 200 and north_did in page.text and "Example University of Dublin" not in page.text
        canvas_admin.post("/issuer/", {**FORM, "name": "North College of Art"})
        services.issuer.invalidate()
        assert services.issuer.state().profile.name == "Example University of Dublin"
        assert services.issuer.state(north_id).profile.name == "North College of Art"


def test_another_institutions_credential_is_out_of_reach(moodle: LmsHandle, browser: Browser,
                                                          services: Services, session: Session) -> None:
    inst = institution(session)
    course = inst.course(session)
    staff = inst.actor(inst.person(session, "Teacher"), course)
    award = ops.award_manually(session, staff, ops.create_micro_credential(session, staff, fields()),
                               inst.person(session, "Learner").id, "Assessed.")
    session.commit()
    north_id = north(services, inst.platform.id)
    row = issue(session, services.issuer.state(north_id), services.credential_urls, award.id)
    session.commit()
    ada = visit(browser, services, moodle, "admin-1")
    listing = ada.get("/issued/")
    assert listing.status_code == 200 and row.public_id not in listing.text
    for path, form in ((f"/issued/{row.public_id}/status", {"action": "suspend", "reason": "x"}),
                       (f"/issued/{row.public_id}/reissue", {})):
        refused = ada.post(path, form)
        assert (refused.status_code, reason_of(refused)) == (404, "not_found"), path
