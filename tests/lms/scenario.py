"""A course as the LMS tests need it: launched from a loopback LMS (so the tool knows its service URLs),
a module placed with its line item, a published micro-credential whose requirements the tool grades, and
learners enrolled in the LMS."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.models import Competency, Framework, MicroCredential, Module
from lti_microcred.core.db import transaction
from lti_microcred.core.outbox import OutboxMessage
from lti_microcred.devplatform.data import DevLink
from lti_microcred.devplatform.services import DevServices
from lti_microcred.lms import results
from lti_microcred.lms.models import Delivery
from lti_microcred.lti.models import Context, User
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle
from tests.support.factories import fields


@dataclass
class Course:
    services: Services
    lms: LmsHandle
    dev: DevServices
    context_id: int
    module_id: int
    credential_id: int
    competency_ids: list[int]
    staff: Actor
    learners: dict[str, int] = field(default_factory=dict)  # LMS user id -> our user id
    link_id: str | None = None

    @property
    def platform_id(self) -> int:
        return self.lms.platform_id

    def module(self, session: Session) -> Module:
        module = session.get(Module, self.module_id)
        assert module is not None
        return module

    def add_learners(self, count: int, prefix: str = "student") -> list[str]:
        """Learners enrolled in the LMS (NRPS lists them) and known to the tool, without launching."""
        subs = [f"{prefix}-{i:04}" for i in range(count)]
        with transaction(self.services.sessions) as session:
            for sub in subs:
                self.dev.add_member(sub, name=sub.title())
                user = User(platform_id=self.platform_id, sub=sub, name=sub.title())
                session.add(user)
                session.flush()
                self.learners[sub] = user.id
        return subs

    def set_result(self, sub: str, met: int, required: int = 4) -> int:
        """Decide a module result for one learner (what re-evaluation does), in its own transaction."""
        with transaction(self.services.sessions) as session:
            return results.enqueue_module_result(session, self.platform_id, self.module(session),
                                                 self.learners[sub], sub, met, required)

    def intended(self) -> dict[str, dict[str, Any]]:
        """The last decided result per learner: what the LMS must end up with."""
        with self.services.read_sessions() as session:
            rows = session.execute(select(OutboxMessage.ordering_key, OutboxMessage.payload).where(
                OutboxMessage.kind == "module_result").order_by(OutboxMessage.id)).all()
        last = {key: json.loads(payload) for key, payload in rows}
        return {p["user_sub"]: p for p in last.values() if p["module_id"] == self.module_id}

    def column_item_id(self) -> str:
        [item_id] = [i for i, item in self.lms.platform.line_items.items()
                     if item.get("resourceId") == self.module_key()]
        return item_id

    def place(self, title: str = "Module 1: Cleaning data", line_item: bool = True) -> DevLink:
        """The module placed (again) in the LMS course, as Deep Linking places it (Canvas: as an assignment)."""
        key = self.module_key()
        item = {"label": title, "scoreMaximum": 50.0, "resourceId": key, "tag": "microcred-module"}
        return self.lms.platform.add_link(title, {"microcred_module": key}, item if line_item else None)

    def item_of(self, link: DevLink) -> str:
        """The LMS's id of the line item a placement created."""
        [item_id] = [i for i, item in self.lms.platform.line_items.items() if item is link.line_item]
        return item_id

    def grade(self, sub: str = "learner-1", item_id: str | None = None) -> float | None:
        """What the LMS gradebook shows the teacher for the learner in the module's column (or another)."""
        return self.dev.grade_of(item_id or self.column_item_id(), sub)

    def module_key(self) -> str:
        with self.services.read_sessions() as session:
            return self.module(session).key

    def deliveries(self) -> dict[str, Delivery]:
        with self.services.read_sessions() as session:
            return {d.ordering_key: d for d in session.scalars(select(Delivery))}

    def outbox(self, kind: str | None = None) -> list[OutboxMessage]:
        with self.services.read_sessions() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if kind:
                query = query.where(OutboxMessage.kind == kind)
            return list(session.scalars(query))


def make_course(services: Services, browser: Browser, lms: LmsHandle, dev: DevServices, *, placed: bool = True,
                line_item: bool = True, requirement: str = "evidence_count", points: float = 50.0) -> Course:
    """Instructor launches; a module exists (placed with Deep Linking's line item unless told otherwise);
    a credential asks two accepted pieces of evidence (or an LMS score) for each of two competencies."""
    assert browser.launch(lms, "instructor-1").status_code == 200
    with transaction(services.sessions) as session:
        context = session.scalars(select(Context).where(Context.platform_id == lms.platform_id)).one()
        teacher = session.scalars(select(User).where(User.platform_id == lms.platform_id,
                                                     User.sub == "instructor-1")).one()
        staff = Actor(lms.platform_id, context.id, teacher.id, "Ian Instructor", "instructor")
        framework = Framework(platform_id=lms.platform_id, identifier="fw", title="Digital skills", source="manual")
        session.add(framework)
        session.flush()
        competencies = [Competency(framework_id=framework.id, identifier=f"c{i}", short_name=f"Competency {i}")
                        for i in (1, 2)]
        session.add_all(competencies)
        session.flush()
        module = ops.create_module(session, context.id, "Module 1: Cleaning data", points)
        credential = ops.create_micro_credential(session, staff, fields(title="Data Analysis Essentials"))
        for competency in competencies:
            if requirement == "score":
                ops.set_requirement(session, staff, credential, module, competency.id, "score", 70)
            else:
                ops.set_requirement(session, staff, credential, module, competency.id, "evidence_count", 2)
        ops.set_status(session, staff, credential, "published")
        course = Course(services, lms, dev, context.id, module.id, credential.id, [c.id for c in competencies],
                        staff)
        key = module.key
    if placed:
        item = {"label": "Module 1: Cleaning data", "scoreMaximum": points, "resourceId": key,
                "tag": "microcred-module"} if line_item else None
        link = lms.platform.add_link("Module 1: Cleaning data", {"microcred_module": key}, item)
        course.link_id = link.id
        assert browser.launch(lms, "instructor-1", link=link.id).status_code == 200
    learner = browser.launch(lms, "learner-1", link=course.link_id)
    assert learner.status_code == 200
    with services.read_sessions() as session:
        course.learners["learner-1"] = session.scalars(select(User.id).where(
            User.platform_id == lms.platform_id, User.sub == "learner-1")).one()
    return course


def credential_of(services: Services, course: Course) -> MicroCredential:
    with services.read_sessions() as session:
        credential = session.get(MicroCredential, course.credential_id)
        assert credential is not None
        return credential
