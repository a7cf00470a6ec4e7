"""Two answers to one supervisor's link at the same moment: one is recorded, the other is told the link is used
(PostgreSQL: SQLite serialises its writers)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Assessment
from tests.support.factories import evidence_course

pytestmark = pytest.mark.postgres_only


def requested(services: Any) -> tuple[int, str]:
    """A published credential and a learner's workplace evidence waiting for its supervisor's answer."""
    with services.sessions() as s:
        world = evidence_course(s)
        evidence, token = ops.request_attestation(s, world.me, world.learner.id, world.inst.competencies[0].id,
                                                  "Built the dashboard.", "Sam", "sam@work.example")
        s.commit()
        return evidence.id, token


def answer_twice(services: Any, token: str) -> list[BaseException]:
    """Each thread reads the open link, waits for the other, then answers in its own transaction."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def answer(confirmed: bool) -> None:
        try:
            with services.sessions() as s:
                read = ops.attestation_for(s, token)  # held: both requests have seen the link unused
                barrier.wait()
                ops.attest(s, token, confirmed, "" if confirmed else "Not at this company.")
                s.commit()
                del read
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=answer, args=(confirmed,)) for confirmed in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


@pytest.mark.parametrize("attempt", range(5))
def test_two_answers_to_one_link_record_one(services: Any, attempt: int) -> None:
    evidence_id, token = requested(services)
    errors = answer_twice(services, token)
    assert [type(e) for e in errors] == [ops.LinkUsed], errors
    with services.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Assessment)
                        .where(Assessment.evidence_id == evidence_id)) == 1
