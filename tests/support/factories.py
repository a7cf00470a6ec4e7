"""Rows for domain tests: an institution (platform + deployment), courses, people, a framework."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.credential_fields import CredentialFields
from lti_microcred.competencies.models import Competency, Framework
from lti_microcred.lti.models import Context, Deployment, Platform, User

_seq = itertools.count(1)


def fields(**overrides: Any) -> CredentialFields:
    base = dict(title="Data Analysis Essentials", description="Cleaning, exploring and presenting data.",
                learning_outcomes=["Clean a messy data set", "Explain a chart to a non-specialist"],
                workload_hours=50, ects_credits=2, eqf_level=5, national_level="RQF 5",
                assessment_type="Practical project assessed with a rubric", participation_form="online",
                quality_assurance="Internal QA by the Faculty of Science", awarding_body="Example University",
                country="IE")
    base.update(overrides)
    return CredentialFields(**base)


@dataclass
class Institution:
    platform: Platform
    deployment: Deployment
    framework: Framework
    competencies: list[Competency]

    def course(self, session: Session, title: str = "Course") -> Context:
        n = next(_seq)
        context = Context(platform_id=self.platform.id, deployment_id=self.deployment.id,
                          lti_context_id=f"ctx-{n}", title=f"{title} {n}")
        session.add(context)
        session.flush()
        return context

    def person(self, session: Session, name: str) -> User:
        user = User(platform_id=self.platform.id, sub=f"{name.lower()}-{next(_seq)}", name=name,
                    email=f"{name.lower()}@example.edu")
        session.add(user)
        session.flush()
        return user

    def actor(self, user: User | None, context: Context, role: str = "instructor") -> Actor:
        return Actor(self.platform.id, context.id, user.id if user else None, user.name if user else "system", role)


def institution(session: Session, issuer: str | None = None, competencies: int = 3) -> Institution:
    n = next(_seq)
    platform = Platform(name=f"LMS {n}", issuer=issuer or f"https://lms{n}.example.edu", client_id=f"client-{n}",
                        auth_login_url="https://lms/auth", auth_token_url="https://lms/token",
                        key_set_url="https://lms/jwks", status="active")
    session.add(platform)
    session.flush()
    deployment = Deployment(platform_id=platform.id, lti_deployment_id="1", status="active")
    framework = Framework(platform_id=platform.id, identifier=f"fw-{n}", title="Digital skills", source="manual")
    session.add_all([deployment, framework])
    session.flush()
    items = [Competency(framework_id=framework.id, identifier=f"c{i}-{n}", short_name=f"Competency {i}",
                        uri=f"https://case.example/CFItems/c{i}-{n}") for i in range(1, competencies + 1)]
    session.add_all(items)
    session.flush()
    return Institution(platform, deployment, framework, items)


@dataclass
class EvidenceCourse:
    """A course whose published credential needs `pieces` accepted pieces of evidence for competency 1."""
    inst: Institution
    course: Context
    learner: User
    staff: Actor
    credential_id: int

    @property
    def me(self) -> Actor:
        return self.inst.actor(self.learner, self.course, "learner")


def evidence_course(session: Session, pieces: int = 1) -> EvidenceCourse:
    from lti_microcred.competencies import operations as ops  # the domain under test, not a row factory

    inst = institution(session)
    course = inst.course(session)
    teacher, learner = inst.person(session, "Teacher"), inst.person(session, "Learner")
    staff = inst.actor(teacher, course)
    credential = ops.create_micro_credential(session, staff, fields())
    module = ops.create_module(session, course.id, "Module", 10)
    ops.set_requirement(session, staff, credential, module, inst.competencies[0].id, "evidence_count", pieces)
    ops.set_status(session, staff, credential, "published")
    return EvidenceCourse(inst, course, learner, staff, credential.id)
