"""Moving a registration to another institution and merging two institutions: frameworks go with their
registrations, credentials already issued keep their issuer and keep verifying (and can still be revoked), and
a merge that would take an issuer identity away from credentials it signed is refused unless forced."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.models import Framework
from lti_microcred.credentials.issuing.credential_status import change_status
from lti_microcred.credentials.issuing.institution_moves import ChangeRefused, merge_institutions, move_platform
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.credentials.models import IssuerKey
from lti_microcred.lti.models import Context, Deployment, Institution, Platform, User
from tests.issuing.test_institutions import awarded_in, check, new_institution, signed
from tests.support.factories import fields


def issued_in(services: Any, session: Session, slug: str) -> Any:
    award = awarded_in(session, slug)
    return issue(session, services.issuer.for_platform(session, award.platform_id), services.credential_urls,
                 award.id)


def platform_of(session: Session, row: Any) -> Platform:
    platform = session.get(Platform, row.platform_id)
    assert platform is not None
    return platform


def test_a_moved_registration_takes_its_frameworks_and_leaves_issued_credentials_verifying(
        services: Any, session: Session) -> None:
    north_id = new_institution(services, session, "north", "North College")
    south_id = new_institution(services, session, "south", "South College")
    before = issued_in(services, session, "north")
    platform = platform_of(session, before)
    lines = move_platform(session, platform.id, "south", services.settings.base_url)
    report = "\n".join(lines)
    assert f"platform {platform.id} ({platform.name}) now belongs to south (South College)" in lines[0]
    assert "1 framework" in report and "1 credential" in report and "North College" in report
    assert platform.institution_id == south_id
    assert session.scalar(select(func.count()).select_from(Framework).where(Framework.platform_id == platform.id)) == 1
    session.commit()
    services.issuer.invalidate()
    assert signed(before)["issuer"]["id"] == services.issuer.state(north_id).did
    assert check(services, session, signed(before)).verified
    change_status(session, before, "revocation", True, "Issued in error.")  # still North's status list
    session.flush()
    assert not check(services, session, signed(before)).verified
    after = issue(session, services.issuer.for_platform(session, platform.id), services.credential_urls,
                  awarded_in_platform(session, platform).id)
    assert signed(after)["issuer"]["id"] == services.issuer.state(south_id).did


def awarded_in_platform(session: Session, platform: Platform) -> Any:
    """An award in a new course of an existing registration."""
    deployment = session.scalars(select(Deployment).where(Deployment.platform_id == platform.id)).first()
    assert deployment is not None
    course = Context(platform_id=platform.id, deployment_id=deployment.id, lti_context_id="after-move")
    teacher, learner = (User(platform_id=platform.id, sub=f"{name}-after", name=name) for name in ("T", "L"))
    session.add_all([course, teacher, learner])
    session.flush()
    staff = Actor(platform.id, course.id, teacher.id, "T", "instructor")
    credential = ops.create_micro_credential(session, staff, fields())
    return ops.award_manually(session, staff, credential, learner.id, "Assessed.")


@pytest.mark.parametrize(("platform_id", "slug", "reason"), [
    (987654, "north", "no platform 987654"), (None, "nowhere", "no institution 'nowhere'"),
    (None, "north", "already belongs to north"),
])
def test_a_move_is_refused_with_the_reason(services: Any, session: Session, platform_id: int | None, slug: str,
                                           reason: str) -> None:
    new_institution(services, session, "north", "North College")
    award = awarded_in(session, "north")
    with pytest.raises(ChangeRefused, match=reason):
        move_platform(session, platform_id or award.platform_id, slug, services.settings.base_url)


def test_merging_an_institution_that_issued_nothing_moves_everything_and_removes_it(services: Any,
                                                                                     session: Session) -> None:
    north_id = new_institution(services, session, "north", "North College")
    south_id = new_institution(services, session, "south", "South College")
    moved = [awarded_in(session, "south").platform_id for _ in range(2)]
    lines = merge_institutions(session, "south", "north", services.settings.base_url)
    report = "\n".join(lines)
    assert "2 registration(s) moved from south (South College) to north (North College)" in report
    assert "2 framework(s)" in report and "issued no credential" in report
    assert {session.get(Platform, p).institution_id for p in moved} == {north_id}  # type: ignore[union-attr]
    session.flush()
    session.expire_all()
    assert session.get(Institution, south_id) is None
    assert session.scalars(select(IssuerKey).where(IssuerKey.institution_id == south_id)).all() == []


def test_merging_an_institution_that_issued_credentials_is_refused_unless_forced(services: Any,
                                                                                 session: Session) -> None:
    north_id = new_institution(services, session, "north", "North College")
    south_id = new_institution(services, session, "south", "South College")
    south_did = services.issuer.state(south_id).did
    row = issued_in(services, session, "south")
    with pytest.raises(ChangeRefused) as refused:
        merge_institutions(session, "south", "north", services.settings.base_url)
    message = str(refused.value)
    assert "1 credential" in message and south_did in message and "--force" in message
    assert platform_of(session, row).institution_id == south_id  # nothing changed
    lines = merge_institutions(session, "south", "north", services.settings.base_url, force=True)
    assert platform_of(session, row).institution_id == north_id
    assert any("keeps publishing" in line for line in lines), lines
    session.commit()
    services.issuer.invalidate()
    assert session.get(Institution, south_id) is not None
    assert services.issuer.state(south_id).did == south_did
    assert check(services, session, signed(row)).verified


@pytest.mark.parametrize(("source", "into", "reason"), [
    ("north", "north", "the same institution"), ("default", "north", "host root"),
    ("nowhere", "north", "no institution 'nowhere'"), ("north", "nowhere", "no institution 'nowhere'"),
])
def test_a_merge_is_refused_with_the_reason(services: Any, session: Session, source: str, into: str,
                                            reason: str) -> None:
    new_institution(services, session, "north", "North College")
    with pytest.raises(ChangeRefused, match=reason):
        merge_institutions(session, source, into, services.settings.base_url)
