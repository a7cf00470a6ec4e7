"""Status slots: chosen at random (a crowded list gets a successor instead of being filled in order), and a
slot another worker took a moment earlier is replaced by another, so the credential is still issued."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies import operations as ops
from lti_microcred.core.outbox import OutboxMessage
from lti_microcred.credentials.issuing import issuance
from lti_microcred.credentials.issuing.credential_status import current_credential
from lti_microcred.credentials.issuing.issuance import StatusSlotsBusy, issue
from lti_microcred.credentials.issuing.jobs import issue_credential_job
from lti_microcred.credentials.models import IssuedCredential, StatusList, StatusSlot
from lti_microcred.credentials.status import bitstring as status_list
from lti_microcred.credentials.status.store import Choice, choose
from tests.support.factories import fields, institution


def two_awards(session: Session) -> tuple[Any, Any]:
    inst = institution(session)
    course = inst.course(session)
    staff = inst.actor(inst.person(session, "Teacher"), course)
    credential = ops.create_micro_credential(session, staff, fields())
    first, second = (ops.award_manually(session, staff, credential, inst.person(session, name).id, "Assessed.")
                     for name in ("Ann", "Ben"))
    return first, second


def slot_of(session: Session, credential_id: int, purpose: str) -> tuple[int, int]:
    row = session.execute(select(StatusSlot.status_list_id, StatusSlot.position)
                          .join(StatusList, StatusList.id == StatusSlot.status_list_id)
                          .where(StatusSlot.issued_credential_id == credential_id, StatusList.purpose == purpose)).one()
    return row.status_list_id, row.position


def claim_elsewhere(services: Any, chosen: Choice, owner_id: int) -> None:
    """Another worker claims this slot (in its own transaction) before this one stores its credential."""
    with services.sessions.begin() as other:
        other.add(StatusSlot(status_list_id=chosen.list_id, position=chosen.position, issued_credential_id=owner_id))


def last_issue_message(session: Session) -> OutboxMessage:
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "issue_credential")
                              .order_by(OutboxMessage.id.desc())).first()
    assert message is not None
    return message


def test_a_crowded_list_gets_a_successor_instead_of_being_filled_in_order(
        services: Any, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = two_awards(session)
    owner = issue(session, services.issuer.state(), services.credential_urls, first.id)
    crowded = choose(session, services.issuer.state().institution_id, "revocation").list_id
    taken = {p for (p,) in session.execute(select(StatusSlot.position).where(StatusSlot.status_list_id == crowded))}
    probes = [p for p in range(100) if p not in taken][:8]
    session.add_all(StatusSlot(status_list_id=crowded, position=p, issued_credential_id=owner.id) for p in probes)
    session.flush()
    draws = itertools.cycle(probes)  # every random draw in the first list hits a taken slot
    monkeypatch.setattr(status_list.secrets, "randbelow", lambda n: next(draws))
    chosen = choose(session, services.issuer.state().institution_id, "revocation")
    assert chosen.list_id != crowded and chosen.position in probes  # a fresh list, where those slots are free


def test_a_slot_taken_by_another_worker_meanwhile_is_replaced(
        services: Any, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = two_awards(session)
    owner = issue(session, services.issuer.state(), services.credential_urls, first.id)
    raced: list[Choice] = []
    real_choose = issuance.choose

    def choose_then_lose_the_race(session_: Session, institution_id: int, purpose: str, opener: Any = None) -> Choice:
        chosen = real_choose(session_, institution_id, purpose, opener)
        if purpose == "revocation" and not raced:  # another worker claims it before this one does
            raced.append(chosen)
            claim_elsewhere(services, chosen, owner.id)
        return chosen

    monkeypatch.setattr(issuance, "choose", choose_then_lose_the_race)
    message = last_issue_message(session)
    assert message.data["award_id"] == second.id
    session.commit()  # the worker reads and writes in transactions of its own
    issue_credential_job(services, message)
    row = current_credential(session, second.id)
    assert row is not None and raced
    assert slot_of(session, row.id, "revocation") != (raced[0].list_id, raced[0].position)
    entry = next(e for e in json.loads(row.signed_json)["credentialStatus"] if e["statusPurpose"] == "revocation")
    assert int(entry["statusListIndex"]) == slot_of(session, row.id, "revocation")[1]  # signed = claimed


def test_an_award_another_worker_issued_meanwhile_is_returned_not_issued_twice(
        services: Any, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = two_awards(session)
    real_choose = issuance.choose
    others: list[Any] = []

    def choose_while_another_worker_issues(session_: Session, institution_id: int, purpose: str,
                                           opener: Any = None) -> Choice:
        if not others:
            others.append(None)  # the other worker's own choices go straight through
            others[0] = issue(session_, services.issuer.state(), services.credential_urls, first.id)
        return real_choose(session_, institution_id, purpose, opener)

    monkeypatch.setattr(issuance, "choose", choose_while_another_worker_issues)
    row = issue(session, services.issuer.state(), services.credential_urls, first.id)
    assert row is others[0] and current_credential(session, first.id) is row


def test_slots_lost_every_time_leave_the_job_to_be_retried(
        services: Any, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = two_awards(session)
    owner = issue(session, services.issuer.state(), services.credential_urls, first.id)
    real_choose = issuance.choose

    def always_lose_the_race(session_: Session, institution_id: int, purpose: str, opener: Any = None) -> Choice:
        chosen = real_choose(session_, institution_id, purpose, opener)
        claim_elsewhere(services, chosen, owner.id)
        return chosen

    monkeypatch.setattr(issuance, "choose", always_lose_the_race)
    message = last_issue_message(session)
    assert message.data["award_id"] == second.id
    session.commit()
    with pytest.raises(StatusSlotsBusy, match="next attempt"):  # the worker rolls back and retries later
        issue_credential_job(services, message)
    assert current_credential(session, second.id) is None


def test_the_worker_returns_the_credential_another_worker_stored_meanwhile(
        services: Any, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = two_awards(session)
    session.commit()
    real_choose, others = issuance.choose, []

    def choose_while_another_worker_issues(session_: Session, institution_id: int, purpose: str,
                                           opener: Any = None) -> Choice:
        if not others:
            others.append(None)  # the other worker's own choices go straight through
            with services.sessions.begin() as other:
                others[0] = issue(other, services.issuer.state(), services.credential_urls, first.id).id
        return real_choose(session_, institution_id, purpose, opener)

    monkeypatch.setattr(issuance, "choose", choose_while_another_worker_issues)
    row = issuance.issue_signing_outside_the_writer(services.read_sessions, services.sessions,
                                                    services.issuer.state(), services.credential_urls, first.id)
    assert row.id == others[0] and len(session.scalars(select(IssuedCredential)).all()) == 1
