"""Issuing from awards, end to end below the web: sign, store the exact bytes, verify with our verifier,
revoke and suspend through status lists, re-issue, VC-JWT, baked images, the learner's CLR."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Award
from lti_microcred.core.db import utcnow
from lti_microcred.credentials.documents.dates import format_datetime, parse_datetime
from lti_microcred.credentials.images.badge import badge_png
from lti_microcred.credentials.images.png_baking import bake_png, extract_png
from lti_microcred.credentials.issuing.credential_status import IssuanceError, change_status, revoke_award_credential
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.credentials.issuing.records import learner_record
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.credentials.verification import verify
from lti_microcred.credentials.verification.verdict import CheckName, Outcome
from tests.conftest import on_postgres
from tests.support.factories import fields, institution


@pytest.fixture
def awarded(session: Session) -> dict[str, Any]:
    inst = institution(session)
    course = inst.course(session)
    teacher, learner = inst.person(session, "Teacher"), inst.person(session, "Learner")
    staff = inst.actor(teacher, course)
    credential = ops.create_micro_credential(session, staff, fields(validity_months=24, stackable=True))
    award = ops.award_manually(session, staff, credential, learner.id, "Assessed in the workplace.")
    return dict(inst=inst, course=course, staff=staff, credential=credential, award=award, learner=learner)


def check(services: Any, session: Session, credential: Any) -> Any:
    return verify(session, services.issuer.all(), services.signed_status_lists, services.settings.base_url,
                  credential)


def test_issued_credential_verifies_and_names_the_micro_credential(services: Any, session: Session,
                                                                   awarded: dict[str, Any]) -> None:
    row = issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id)
    verdict = check(services, session, row.signed_json)
    assert verdict.verified, verdict.summary()
    assert verdict.check(CheckName.STATUS).outcome is Outcome.PASSED
    credential = json.loads(row.signed_json)
    assert credential["issuer"]["id"] == services.issuer.state().did
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "MicroCredential" and achievement["eqfLevel"] == 5
    assert achievement["ectsCredits"] == 2 and achievement["awardingCountry"] == "IE"
    assert credential["validUntil"] > credential["awardedDate"]
    assert {e["statusPurpose"] for e in credential["credentialStatus"]} == {"revocation", "suspension"}
    assert check(services, session, row.signed_jwt).verified  # the same credential as VC-JWT


def test_issuing_twice_returns_the_same_credential(services: Any, session: Session, awarded: dict[str, Any]) -> None:
    first = issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id)
    again = issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id)
    assert again.id == first.id
    assert len(session.scalars(select(IssuedCredential)).all()) == 1


def test_reissue_keeps_awarded_date_gets_new_id_and_revokes_the_old(services: Any, session: Session,
                                                                    awarded: dict[str, Any]) -> None:
    awarded["award"].awarded_dt = utcnow().replace(microsecond=0) - dt.timedelta(days=100)  # before either issue
    old = issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id)
    new = issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id, reissue=True)
    old_json, new_json = json.loads(old.signed_json), json.loads(new.signed_json)
    assert new_json["id"] != old_json["id"]
    assert new_json["awardedDate"] == old_json["awardedDate"] == format_datetime(awarded["award"].awarded_dt)
    assert (new_json["validFrom"], new_json["validUntil"]) == (old_json["validFrom"], old_json["validUntil"])
    assert "revoked" in check(services, session, old.signed_json).summary()
    assert old.status == "revoked" and old.superseded_dt is not None  # the row says so too (OB 2.0, staff pages)
    assert check(services, session, new.signed_json).verified


def test_validity_runs_from_the_award_so_a_late_reissue_is_expired_not_inverted(
        services: Any, session: Session, awarded: dict[str, Any]) -> None:
    award = awarded["award"]  # valid for 24 months from the award
    award.awarded_dt = utcnow().replace(microsecond=0) - dt.timedelta(days=800)
    issue(session, services.issuer.state(), services.credential_urls, award.id)
    new = issue(session, services.issuer.state(), services.credential_urls, award.id, reissue=True)
    credential = json.loads(new.signed_json)
    assert credential["awardedDate"] == credential["validFrom"] == format_datetime(award.awarded_dt)
    assert parse_datetime(credential["validFrom"]) < parse_datetime(credential["validUntil"]) < utcnow()
    claims = jwt.decode(new.signed_jwt, options={"verify_signature": False})
    assert claims["nbf"] < claims["exp"]
    verdict = check(services, session, new.signed_json)
    assert verdict.failures == (verdict.check(CheckName.VALIDITY),) and "expired" in verdict.summary()


def test_reissue_keeps_a_suspension(services: Any, session: Session, awarded: dict[str, Any]) -> None:
    old = issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id)
    change_status(session, old, "suspension", True, "Under review by the exam board.")
    new = issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id, reissue=True)
    assert (new.status, new.status_reason) == ("suspended", "Under review by the exam board.")
    assert "suspended" in check(services, session, new.signed_json).summary()
    change_status(session, new, "suspension", False, "")
    assert check(services, session, new.signed_json).verified  # reinstating the new copy works as before


def test_a_credential_issued_after_its_pathway_changed_names_the_pathway(services: Any, session: Session,
                                                                           awarded: dict[str, Any]) -> None:
    urls, award_id = services.credential_urls, awarded["award"].id
    before = json.loads(issue(session, services.issuer.state(), urls, award_id).signed_json)
    assert "stacksInto" not in before["credentialSubject"]["achievement"]
    pathway = ops.create_micro_credential(session, awarded["staff"], fields(title="Certificate", kind="pathway",
                                                                             pathway_rule="all"))
    ops.set_pathway_components(session, awarded["staff"], pathway, [awarded["credential"].id])
    after = json.loads(issue(session, services.issuer.state(), urls, award_id, reissue=True).signed_json)
    assert after["credentialSubject"]["achievement"]["stacksInto"] == [urls.achievement(pathway.key)]


def test_revoked_award_revokes_its_credential(services: Any, session: Session, awarded: dict[str, Any]) -> None:
    row = issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id)
    ops.revoke(session, awarded["staff"], awarded["award"], "Academic misconduct.")
    revoke_award_credential(session, awarded["award"].id)
    verdict = check(services, session, row.signed_json)
    assert not verdict.verified and "revoked" in verdict.summary()
    assert row.status == "revoked" and row.status_reason == "Academic misconduct."
    with pytest.raises(IssuanceError):
        issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id, reissue=True)


def test_suspension_can_be_lifted(services: Any, session: Session, awarded: dict[str, Any]) -> None:
    row = issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id)
    change_status(session, row, "suspension", True, "Under review.")
    assert "suspended" in check(services, session, row.signed_json).summary()
    change_status(session, row, "suspension", False, "")
    assert check(services, session, row.signed_json).verified


def test_tampered_stored_credential_fails(services: Any, session: Session, awarded: dict[str, Any]) -> None:
    row = issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id)
    tampered = json.loads(row.signed_json)
    tampered["credentialSubject"]["achievement"]["name"] = "Doctor of Everything"
    verdict = check(services, session, tampered)
    assert not verdict.verified and verdict.check(CheckName.PROOF).outcome is Outcome.FAILED


def test_baked_png_carries_the_exact_credential(services: Any, session: Session, awarded: dict[str, Any]) -> None:
    row = issue(session, services.issuer.state(), services.credential_urls, awarded["award"].id)
    assert extract_png(bake_png(badge_png(row.public_id, "Example University"), row.signed_json)) == row.signed_json


def test_learner_record_bundles_credentials_with_stacking(services: Any, session: Session,
                                                          awarded: dict[str, Any]) -> None:
    staff, learner = awarded["staff"], awarded["learner"]
    pathway = ops.create_micro_credential(session, staff, fields(title="Certificate", kind="pathway",
                                                                pathway_rule="all"))
    ops.set_pathway_components(session, staff, pathway, [awarded["credential"].id])
    pathway_award = ops.award_manually(session, staff, pathway, learner.id, "Components complete.")
    for award in (awarded["award"], pathway_award):
        issue(session, services.issuer.state(), services.credential_urls, award.id)
    record = learner_record(session, services.issuer.state(), services.credential_urls,
                            awarded["inst"].platform.id, learner.id)
    assert record is not None and "ClrCredential" in record["type"]
    assert len(record["credentialSubject"]["verifiableCredential"]) == 2
    kinds = {a["associationType"] for a in record["credentialSubject"]["association"]}
    assert kinds == {"isParentOf", "isChildOf"}
    assert check(services, session, record).verified


def test_awards_issue_through_the_outbox_rows_they_wrote(services: Any, session: Session,
                                                         awarded: dict[str, Any]) -> None:
    from lti_microcred.core.outbox import OutboxMessage
    from lti_microcred.credentials.issuing.jobs import issue_credential_job

    message = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "issue_credential")).one()
    session.commit()  # the worker reads and writes in transactions of its own
    issue_credential_job(services, message)
    issue_credential_job(services, message)  # delivered twice: still one credential
    assert len(session.scalars(select(IssuedCredential)).all()) == 1
    assert session.get(Award, awarded["award"].id) is not None


@pytest.mark.skipif(on_postgres(), reason="SQLite has one writer; PostgreSQL lets others write anyway")
def test_the_worker_signs_while_others_can_write(services: Any, session: Session, awarded: dict[str, Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Signing is nearly all of an issue's cost: done outside the write transaction, several worker processes
    sign at once and web requests are not kept waiting behind it."""
    from lti_microcred.core.outbox import OutboxMessage
    from lti_microcred.credentials.issuing import issuance
    from lti_microcred.credentials.issuing.jobs import issue_credential_job

    message = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "issue_credential")).one()
    session.commit()
    real_sign, writes = issuance.sign, []

    def sign_while_another_process_writes(document: Any, signer: Any) -> Any:
        other = sqlite3.connect(services.engine.url.database, timeout=0.2)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the signer held the writer
            writes.append(True)
            other.rollback()
        finally:
            other.close()
        return real_sign(document, signer)

    monkeypatch.setattr(issuance, "sign", sign_while_another_process_writes)
    issue_credential_job(services, message)
    assert writes and len(session.scalars(select(IssuedCredential)).all()) == 1
