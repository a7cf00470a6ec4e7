"""One LMS registered twice (Dynamic Registration, then by hand, or the other way round) is one institution: a
registration whose issuer an existing registration has joins that registration's institution. Hosted Canvas is
the exception: its one issuer is every school's, so there the client id, not the issuer, tells schools apart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from lti_microcred.app.setup import issuer_for_institution
from lti_microcred.core.db import transaction
from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.lti.admin import PlatformSpec, add_platform
from lti_microcred.lti.institutions import attach_platform, create_institution
from lti_microcred.lti.models import Platform
from lti_microcred.services import Services
from tests.e2e.test_dynamic_registration import CANVAS_ISSUER, new_client_id, register
from tests.support.driver import Browser, LmsHandle, reason_of


@pytest.fixture
def bare_moodle(services: Services, lms_servers: dict[str, DevPlatform], live_tool: str) -> Iterator[LmsHandle]:
    """The loopback Moodle before anyone registered it with the tool."""
    platform = lms_servers["moodle"]
    platform.links.clear()
    yield LmsHandle(platform, 0, live_tool)


def north(services: Services) -> int:
    with transaction(services.sessions) as session:
        row = create_institution(session, "north", "North College")
        issuer_for_institution(services, session, row.id)
    services.issuer.invalidate()
    return row.id


def by_hand(services: Services, issuer: str, client_id: str) -> Platform:
    spec = PlatformSpec(issuer, client_id, issuer + "/mod/lti/auth.php", issuer + "/mod/lti/token.php",
                        key_set_url=issuer + "/mod/lti/certs.php")
    with transaction(services.sessions) as session:
        return add_platform(session, spec, ["7"])


def institution_of(db_session, client_id: str) -> int:
    db_session.rollback()  # a fresh snapshot: the registrations were made by other sessions
    return db_session.scalars(select(Platform.institution_id).where(Platform.client_id == client_id)).one()


def test_a_registration_by_hand_joins_the_institution_of_the_dynamic_one(bare_moodle: LmsHandle, browser: Browser,
                                                                        services: Services, db_session) -> None:
    north_id = north(services)
    done = register(browser, bare_moodle, invite=services.registrar.make_invite(north_id))
    assert done.status_code == 200, reason_of(done)
    assert institution_of(db_session, new_client_id(bare_moodle)) == north_id
    by_hand(services, bare_moodle.platform.issuer, "typed-in-client")
    assert institution_of(db_session, "typed-in-client") == north_id


def test_a_dynamic_registration_joins_the_institution_of_the_one_by_hand(bare_moodle: LmsHandle, browser: Browser,
                                                                        services: Services, db_session) -> None:
    north_id = north(services)
    typed = by_hand(services, bare_moodle.platform.issuer, "typed-in-client")
    with transaction(services.sessions) as session:
        attach_platform(session, typed.id, "north")
    done = register(browser, bare_moodle, invite=services.registrar.make_invite())
    assert done.status_code == 200, reason_of(done)
    assert institution_of(db_session, new_client_id(bare_moodle)) == north_id
    assert "North College" in done.text  # the LMS admin sees where its courses' credentials come from


def test_an_active_registration_decides_over_a_pending_one(bare_moodle: LmsHandle, browser: Browser,
                                                           services: Services, db_session) -> None:
    """A registration nobody approved (the public registration URL, no invitation) says nothing about which
    institution the LMS belongs to: the one an administrator made does."""
    pending = register(browser, bare_moodle)
    assert 'data-status="pending"' in pending.text
    north_id = north(services)
    typed = by_hand(services, bare_moodle.platform.issuer, "typed-in-client")
    with transaction(services.sessions) as session:
        attach_platform(session, typed.id, "north")
    done = register(browser, bare_moodle, invite=services.registrar.make_invite())
    assert 'data-status="active"' in done.text, reason_of(done)
    assert institution_of(db_session, new_client_id(bare_moodle)) == north_id


def test_hosted_canvas_registrations_do_not_join_each_other(services: Services, db_session) -> None:
    north_id = north(services)
    first = by_hand(services, CANVAS_ISSUER, "10000000000001")
    with transaction(services.sessions) as session:
        attach_platform(session, first.id, "north")
    by_hand(services, CANVAS_ISSUER, "10000000000002")
    assert institution_of(db_session, "10000000000002") != north_id
