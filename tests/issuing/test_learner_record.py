"""The learner's whole record (CLR 2.0) at /my-credentials/record.json: only credentials that are current
(neither revoked, suspended nor expired), so that the record itself verifies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.audit import Actor
from lti_microcred.core.db import transaction
from lti_microcred.credentials.issuing.credential_status import change_status, revoke_award_credential
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.lti.models import Context, User
from lti_microcred.services import Services
from tests.issuing.test_public_urls import api
from tests.support.driver import Browser, LmsHandle
from tests.support.factories import fields
from tests.web.support import Visit, visit


def award_and_issue(services: Services, session: Any, staff: Actor, learner_id: int, title: str, **extra: Any) -> Any:
    credential = ops.create_micro_credential(session, staff, fields(title=title, **extra))
    award = ops.award_manually(session, staff, credential, learner_id, "Assessed in the workplace.")
    return award, issue(session, services.issuer.state(), services.credential_urls, award.id)


def lea_with_credentials(browser: Browser, services: Services, moodle: LmsHandle) -> tuple[Visit, dict[str, str]]:
    """Lea, launched from Moodle, holding one current, one revoked, one suspended and one expired credential."""
    lea = visit(browser, services, moodle, "learner-1")
    with transaction(services.sessions) as session:
        learner = session.scalars(select(User).where(User.platform_id == moodle.platform_id,
                                                     User.sub == "learner-1")).one()
        course = session.scalars(select(Context).where(Context.platform_id == moodle.platform_id)).first()
        staff = Actor(moodle.platform_id, course.id, None, "system", "instructor")  # type: ignore[union-attr]
        issued = {}
        for title in ("Current", "Revoked", "Suspended"):
            award, row = award_and_issue(services, session, staff, learner.id, title)
            issued[title] = row.signed_json
            if title == "Revoked":
                ops.revoke(session, staff, award, "Plagiarism.")
                revoke_award_credential(session, award.id)
            if title == "Suspended":
                change_status(session, row, "suspension", True, "Under review.")
        credential = ops.create_micro_credential(session, staff, fields(title="Expired", validity_months=1))
        award = ops.award_manually(session, staff, credential, learner.id, "Long ago.")
        award.awarded_dt -= dt.timedelta(days=400)
        issued["Expired"] = issue(session, services.issuer.state(), services.credential_urls, award.id).signed_json
    return lea, issued


def test_the_record_bundles_only_current_credentials_and_verifies(browser: Browser, services: Services,
                                                                   moodle: LmsHandle, live_tool: str) -> None:
    lea, _ = lea_with_credentials(browser, services, moodle)
    response = lea.get("/my-credentials/record.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vc+ld+json")
    assert "attachment" in response.headers["Content-Disposition"]
    record = response.json()
    assert [c["name"] for c in record["credentialSubject"]["verifiableCredential"]] == ["Current"]
    verdict = api(live_tool, response.text)
    assert verdict["verified"] is True, verdict["summary"]
    assert next(c for c in verdict["checks"] if c["check"] == "embedded credentials")["outcome"] == "passed"


def test_no_current_credential_means_no_record(browser: Browser, services: Services, moodle: LmsHandle) -> None:
    lea = visit(browser, services, moodle, "learner-1")
    response = lea.get("/my-credentials/record.json")
    assert response.status_code == 404
    assert response.json() == {"error": "You hold no current credential: there is no learner record to download."}
