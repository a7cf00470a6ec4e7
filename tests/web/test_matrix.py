"""The learners-by-competencies matrix: pages of 50, filters, a constant number of SQL statements per page,
and the CSV export of the whole course."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert, select

from lti_microcred.competencies.models import Award, CompetencyProgress, MicroCredential, Requirement
from lti_microcred.core.db import transaction, utcnow
from lti_microcred.lti.models import Context, Membership, User
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle
from tests.web.support import Visit, build_credential, visit


def enrol(services: Services, platform_id: int, count: int, start: int = 0) -> None:
    """`count` learners in the course; every third has achieved competency 1, every fifth holds the award."""
    with transaction(services.sessions) as session:
        context = session.scalars(select(Context).where(Context.platform_id == platform_id)).one()
        credential = session.scalars(select(MicroCredential)).one()
        competency_ids = [r.competency_id for r in credential_requirements(session, credential.id)]
        users = [{"platform_id": platform_id, "sub": f"bulk-{i}", "name": f"Student {i:04d}",
                  "email": f"s{i}@example.edu", "created_dt": utcnow(), "updated_dt": utcnow()}
                 for i in range(start, start + count)]
        ids = session.execute(insert(User).returning(User.id, User.sub), users).all()
        by_sub = {sub: uid for uid, sub in ids}
        session.execute(insert(Membership), [{"context_id": context.id, "user_id": uid, "role": "learner",
                                              "created_dt": utcnow(), "updated_dt": utcnow()}
                                             for uid in by_sub.values()])
        progress = [{"micro_credential_id": credential.id, "learner_id": by_sub[f"bulk-{i}"], "competency_id": cid,
                     "state": "achieved" if i % 3 == 0 and n == 0 else "not_started", "met": 0, "required": 1,
                     "via": "", "updated_dt": utcnow()}
                    for i in range(start, start + count) for n, cid in enumerate(competency_ids)]
        session.execute(insert(CompetencyProgress), progress)
        session.execute(insert(Award), [{"key": f"award-{i}", "platform_id": platform_id,
                                         "micro_credential_id": credential.id, "learner_id": by_sub[f"bulk-{i}"],
                                         "status": "active", "basis": "manual", "reason": "bulk",
                                         "evidence_ids": "[]", "awarded_dt": utcnow()}
                                        for i in range(start, start + count) if i % 5 == 0])


def credential_requirements(session: Any, credential_id: int) -> list[Any]:
    """In the matrix's column order (competencies were made in code order); unordered, PostgreSQL may answer
    in any order and the test would mark another competency achieved than the one it reads back."""
    return list(session.scalars(select(Requirement).where(Requirement.micro_credential_id == credential_id)
                                .order_by(Requirement.competency_id, Requirement.id)))


@contextmanager
def counted(services: Services) -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(*args: Any) -> None:
        statements.append(args[2])

    event.listen(services.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(services.engine, "before_cursor_execute", listener)


def learner_rows(page: Any) -> list[str]:
    return re.findall(r'<tr data-learner="(\d+)">', page.text)


def test_pages_filters_and_constant_queries(moodle: LmsHandle, browser: Browser, services: Services,
                                            competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    build_credential(instructor, services, competencies)
    enrol(services, moodle.platform_id, 60)
    first = instructor.get("/matrix/")
    assert 'data-total="60"' in first.text and len(learner_rows(first)) == 50
    assert "page 1 of 2" in first.text and 'id="next-page"' in first.text
    second = instructor.get("/matrix/", page=2)
    assert len(learner_rows(second)) == 10 and not set(learner_rows(first)) & set(learner_rows(second))
    assert ">Student 0000</a>" in first.text and ">Student 0059</a>" in second.text  # sorted by name

    with counted(services) as small:
        instructor.get("/matrix/")
    enrol(services, moodle.platform_id, 140, start=60)
    with counted(services) as large:
        big = instructor.get("/matrix/", page=3)
    assert 'data-total="200"' in big.text and len(learner_rows(big)) == 50
    assert len(small) == len(large) <= 8, large  # session, credentials, columns, count, learners, cells, awards

    def total(**params: Any) -> int:
        return int(re.search(r'data-total="(\d+)"', instructor.get("/matrix/", **params).text).group(1))  # type: ignore

    assert total(q="student 0042") == 1 and total(q="S7@EXAMPLE") == 1 and total(q="%") == 0
    assert total(state="earned") == 40
    assert total(state="in_progress") == 67 - 14  # every third, minus those also every fifth (earned)
    assert total(state="not_started") == 200 - 40 - 53
    assert total(state="pending") == 0
    with services.read_sessions() as session:
        credential_id = session.scalars(select(MicroCredential.id)).one()
    assert total(credential=credential_id, state="earned") == 40
    cells = re.findall(r'data-state="(\w+)"', instructor.get("/matrix/", q="Student 0003").text)
    assert cells == ["achieved", "not_started"]


def test_csv_export_has_the_whole_course(moodle: LmsHandle, browser: Browser, services: Services,
                                         competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    build_credential(instructor, services, competencies)
    enrol(services, moodle.platform_id, 1_100)  # more than two export batches
    with transaction(services.sessions) as session:
        session.get(User, session.scalars(select(User.id).where(User.sub == "bulk-1")).one()).name = "=HYPERLINK(1)"
    export = instructor.get("/matrix/export.csv", state="earned")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert len(rows) == 1 + 220 and export.headers["Content-Disposition"].startswith("attachment;")
    everyone = list(csv.reader(io.StringIO(instructor.get("/matrix/export.csv").text)))
    assert len(everyone) == 1 + 1_100 and len({r[2] for r in everyone[1:]}) == 1_100
    assert everyone[1][:3] == ["'=HYPERLINK(1)", "s1@example.edu", "bulk-1"]  # a formula is never a formula


def test_learners_without_membership_but_with_evidence_count(moodle: LmsHandle, browser: Browser,
                                                             services: Services, competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies)
    learner: Visit = visit(browser, services, moodle, "learner-1")
    learner.post("/me/evidence", {"credential": key, "competency": str(competencies[0]), "text": "x"})
    with transaction(services.sessions) as session:
        for m in session.scalars(select(Membership)):
            session.delete(m)
    page = instructor.get("/matrix/")
    assert 'data-total="1"' in page.text and "Lea Learner" in page.text
    assert 'data-total="1"' in instructor.get("/matrix/", state="pending").text
