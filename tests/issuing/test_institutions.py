"""One issuer per institution: a credential is issued in the name of the institution whose course awarded it,
with that institution's keys, did:web and status lists; credentials issued before keep their issuer and keep
verifying; one institution's key rotation or rename changes nothing of another's."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.app.setup import issuer_for_institution
from lti_microcred.competencies import operations as ops
from lti_microcred.credentials.issuing.credential_status import IssuanceError, change_status
from lti_microcred.credentials.issuing.didweb import did_web_document_url
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.credentials.issuing.issuer import profile_of, rotate_issuer_keys
from lti_microcred.credentials.models import StatusList
from lti_microcred.credentials.verification import CheckName, Outcome, verify
from lti_microcred.lti.institutions import InstitutionError, attach_platform, create_institution
from lti_microcred.web.common.share import linkedin_url
from tests.support.factories import fields, institution


def awarded_in(session: Session, slug: str | None = None) -> Any:
    """An award in a course of a new registration, attached to institution `slug` (else the root one)."""
    inst = institution(session)
    if slug is not None:
        attach_platform(session, inst.platform.id, slug)
    course = inst.course(session)
    staff = inst.actor(inst.person(session, "Teacher"), course)
    credential = ops.create_micro_credential(session, staff, fields())
    return ops.award_manually(session, staff, credential, inst.person(session, "Learner").id, "Assessed.")


def new_institution(services: Any, session: Session, slug: str, name: str) -> int:
    row = create_institution(session, slug, name)
    issuer_for_institution(services, session, row.id)
    session.commit()  # the issuer is read by the process's own sessions, as in a worker
    services.issuer.invalidate()
    return row.id


def signed(row: Any) -> dict[str, Any]:
    return json.loads(row.signed_json)


def check(services: Any, session: Session, document: dict[str, Any]) -> Any:
    return verify(session, services.issuer.all(), services.signed_status_lists, services.settings.base_url, document)


def test_a_credential_carries_the_issuer_of_the_institution_whose_course_awarded_it(services: Any,
                                                                                   session: Session) -> None:
    institution_id = new_institution(services, session, "north", "North College")
    award = awarded_in(session, "north")
    north = services.issuer.state(institution_id)
    row = issue(session, services.issuer.for_platform(session, award.platform_id), services.credential_urls, award.id)
    document = signed(row)
    host = urlsplit(services.settings.base_url)
    assert north.did == f"did:web:{host.hostname}%3A{host.port}:institutions:north"
    assert document["issuer"]["id"] == north.did and document["issuer"]["name"] == "North College"
    assert document["proof"]["verificationMethod"].startswith(north.did + "#")
    assert check(services, session, document).verified
    lists = session.scalars(select(StatusList.institution_id).where(StatusList.public_id.in_(
        [e["statusListCredential"].rsplit("/", 1)[1] for e in document["credentialStatus"]]))).all()
    assert set(lists) == {institution_id}
    assert did_web_document_url(north.did).endswith("/institutions/north/did.json")


def test_an_award_is_never_signed_in_another_institutions_name(services: Any, session: Session) -> None:
    new_institution(services, session, "north", "North College")
    award = awarded_in(session, "north")
    with pytest.raises(IssuanceError, match="institution whose course awarded it"):
        issue(session, services.issuer.state(), services.credential_urls, award.id)


def test_credentials_issued_before_keep_their_issuer_and_verify(services: Any, session: Session) -> None:
    award = awarded_in(session)
    root = services.issuer.state()
    before = issue(session, root, services.credential_urls, award.id)
    north_id = new_institution(services, session, "north", "North College")
    rotate_issuer_keys(session, services.box, north_id)
    profile = profile_of(session, north_id)
    assert profile is not None
    profile.name = "Renamed North"
    session.flush()
    services.issuer.invalidate()
    assert signed(before)["issuer"]["id"] == root.did == services.issuer.state().did
    assert ":institutions:" not in root.did
    verdict = check(services, session, signed(before))
    assert verdict.verified and verdict.check(CheckName.TRUSTED_ISSUER).outcome == Outcome.PASSED


def test_one_institutions_rotation_and_revocation_touch_nothing_of_anothers(services: Any, session: Session) -> None:
    north_id = new_institution(services, session, "north", "North College")
    south_id = new_institution(services, session, "south", "South College")
    north_row = issue(session, services.issuer.state(north_id), services.credential_urls,
                      awarded_in(session, "north").id)
    south_row = issue(session, services.issuer.state(south_id), services.credential_urls,
                      awarded_in(session, "south").id)
    south_keys = services.issuer.state(south_id).did_document["assertionMethod"]
    rotate_issuer_keys(session, services.box, north_id)
    change_status(session, north_row, "revocation", True, "Issued in error.")
    session.flush()
    services.issuer.invalidate()
    assert services.issuer.state(south_id).did_document["assertionMethod"] == south_keys
    assert not check(services, session, signed(north_row)).verified
    assert check(services, session, signed(south_row)).verified


def test_each_institution_publishes_only_its_own_keys(services: Any, session: Session, live_tool: str) -> None:
    north_id = new_institution(services, session, "north", "North College")
    session.commit()
    north, root = services.issuer.state(north_id), services.issuer.state()
    document = requests.get(live_tool + "/institutions/north/did.json", timeout=10).json()
    assert document["id"] == north.did and document["assertionMethod"] == north.did_document["assertionMethod"]
    assert not set(document["assertionMethod"]) & set(root.did_document["assertionMethod"])
    assert requests.get(live_tool + "/.well-known/did.json", timeout=10).json()["id"] == root.did
    profile = requests.get(live_tool + "/institutions/north/issuer", timeout=10).json()
    assert profile["name"] == "North College" and profile["alsoKnownAs"] == [north.did]
    for path in ("/institutions/nowhere/did.json", "/institutions/default/did.json"):
        assert requests.get(live_tool + path, timeout=10).status_code == 404


def test_linkedin_names_the_organisation_as_issued(services: Any, session: Session) -> None:
    north_id = new_institution(services, session, "north", "North College")
    profile = profile_of(session, north_id)
    assert profile is not None
    profile.linkedin_organization_id = "1234567"
    session.commit()
    services.issuer.invalidate()
    row = issue(session, services.issuer.state(north_id), services.credential_urls, awarded_in(session, "north").id)
    profile.name = "Renamed Later"
    session.commit()
    services.issuer.invalidate()
    query = parse_qs(urlsplit(linkedin_url(row, services)).query)
    assert query["organizationName"] == ["North College"] and query["organizationId"] == ["1234567"]


@pytest.mark.parametrize("slug", ["", "North", "a b", "-x", "x" * 65, "dé"])
def test_an_institution_needs_a_slug_fit_for_a_url(session: Session, slug: str) -> None:
    with pytest.raises(InstitutionError):
        create_institution(session, slug, "A name")


def test_a_slug_is_taken_once(session: Session) -> None:
    create_institution(session, "north", "North College")
    with pytest.raises(InstitutionError, match="exists already"):
        create_institution(session, "north", "Another North")


def test_an_unknown_registration_has_no_issuer_rather_than_the_root_one(services: Any, session: Session) -> None:
    with pytest.raises(LookupError):
        services.issuer.for_platform(session, 987654)
