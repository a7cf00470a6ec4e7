"""Two requests that complete a credential at the same moment produce exactly one award (PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Award, Evidence
from tests.support.factories import evidence_course

pytestmark = pytest.mark.postgres_only


def prepared(services: Any, pieces_needed: int) -> dict[str, Any]:
    with services.sessions() as s:
        world = evidence_course(s, pieces_needed)
        pieces = [ops.submit_evidence(s, world.me, world.inst.competencies[0].id, text=f"piece {i}")
                  for i in range(pieces_needed)]
        s.commit()
        return dict(staff=world.staff, pieces=[p.id for p in pieces], credential=world.credential_id)


def race(services: Any, staff: Any, evidence_ids: list[int]) -> list[BaseException]:
    """Each thread accepts one piece in its own transaction; all start together."""
    barrier = threading.Barrier(len(evidence_ids))
    errors: list[BaseException] = []

    def accept(evidence_id: int) -> None:
        try:
            with services.sessions() as s:
                evidence = s.get(Evidence, evidence_id)
                barrier.wait()
                ops.assess_evidence(s, staff, evidence, "accepted")
                s.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=accept, args=(e,)) for e in evidence_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


def awards(services: Any, credential_id: int) -> int:
    with services.read_sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Award).where(Award.micro_credential_id == credential_id)))


@pytest.mark.parametrize("attempt", range(5))
def test_two_requests_completing_the_same_requirement_award_once(services: Any, attempt: int) -> None:
    w = prepared(services, pieces_needed=1)
    with services.sessions() as s:  # a second piece for the same requirement: either one completes it
        first = s.get(Evidence, w["pieces"][0])
        second = ops.record_evidence(s, w["staff"], first.learner_id, "submission",
                                     competency_id=first.competency_id, text="another")
        s.commit()
        ids = [first.id, second.id]
    assert race(services, w["staff"], ids) == []
    assert awards(services, w["credential"]) == 1


@pytest.mark.parametrize("attempt", range(5))
def test_two_requests_each_completing_half_still_award(services: Any, attempt: int) -> None:
    """Write skew: each transaction alone sees the credential incomplete; the learner lock prevents a lost award."""
    w = prepared(services, pieces_needed=2)
    assert race(services, w["staff"], w["pieces"]) == []
    assert awards(services, w["credential"]) == 1
