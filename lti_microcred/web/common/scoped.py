"""What a session may reach by key or id: each lookup is scoped to the launch's platform and course.

A key or id from another course, another LMS or (for learners) another person finds nothing, and the
view answers 404 `not_found` without saying whether the thing exists elsewhere.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import Award, Competency, Evidence, MicroCredential, Module, Requirement
from lti_microcred.lti.models import Membership, User
from lti_microcred.lti.roles import LEARNER
from lti_microcred.lti.sessions import ToolSession
from lti_microcred.web.common.views_support import MAX_ID, RecordNotFound, course_id


def credential(session: Session, s: ToolSession, key: str) -> MicroCredential:
    found = session.scalars(select(MicroCredential).where(
        MicroCredential.key == key[:32], MicroCredential.platform_id == s.platform_id,
        MicroCredential.context_id == course_id())).one_or_none()
    if found is None:
        raise RecordNotFound(f"no micro-credential {key!r} in this course")
    return found


def published_credential(session: Session, s: ToolSession, key: str) -> MicroCredential:
    """For learners: drafts and archived credentials of the course are not theirs to act on."""
    found = credential(session, s, key)
    if found.status != "published":
        raise RecordNotFound(f"micro-credential {key!r} is not published")
    return found


def module(session: Session, key: str) -> Module:
    found = session.scalars(select(Module).where(Module.key == key[:32], Module.context_id == course_id())
                            ).one_or_none()
    if found is None:
        raise RecordNotFound(f"no module {key!r} in this course")
    return found


def evidence(session: Session, s: ToolSession, key: str) -> Evidence:
    """A piece of evidence of the course (staff), or one of the learner's own (anyone else)."""
    query = select(Evidence).where(Evidence.key == key[:32], Evidence.platform_id == s.platform_id,
                                   Evidence.context_id == course_id())
    if not s.is_staff:
        query = query.where(Evidence.learner_id == s.user_id)
    found = session.scalars(query).one_or_none()
    if found is None:
        raise RecordNotFound(f"no evidence {key!r} reachable by this session")
    return found


def required_competency(session: Session, credential_row: MicroCredential, competency_id: int | None) -> Competency:
    """A competency the credential's requirements name: what a learner may submit evidence for."""
    found = None
    if competency_id is not None and 0 < competency_id <= MAX_ID:
        found = session.scalars(select(Competency).where(
            Competency.id == competency_id,
            exists().where(Requirement.competency_id == Competency.id,
                           Requirement.micro_credential_id == credential_row.id))).one_or_none()
    if found is None:
        raise RecordNotFound(f"competency {competency_id!r} is not required by {credential_row.key}")
    return found


def learner(session: Session, s: ToolSession, user_id: int) -> User:
    """A learner of the course: a learner membership in it, or any evidence recorded in it."""
    context_id = course_id()
    found = None
    if 0 < user_id <= MAX_ID:
        found = session.scalars(select(User).where(User.id == user_id, User.platform_id == s.platform_id,
                                                   is_learner_of(context_id))).one_or_none()
    if found is None:
        raise RecordNotFound(f"user {user_id} is not a learner of this course")
    return found


def award(session: Session, s: ToolSession, key: str, learner_id: int) -> Award:
    """An award of one of the course's micro-credentials to this learner."""
    found = session.scalars(select(Award).join(MicroCredential, MicroCredential.id == Award.micro_credential_id)
                            .where(Award.key == key[:32], Award.learner_id == learner_id,
                                   Award.platform_id == s.platform_id,
                                   MicroCredential.context_id == course_id())).one_or_none()
    if found is None:
        raise RecordNotFound(f"no award {key!r} of this learner in this course")
    return found


def credentials_of_course(session: Session, platform_id: int, context_id: int) -> list[MicroCredential]:
    return list(session.scalars(select(MicroCredential).where(
        MicroCredential.context_id == context_id, MicroCredential.platform_id == platform_id)
        .order_by(MicroCredential.status != "published", MicroCredential.title, MicroCredential.id)))


def is_learner_of(context_id: int) -> ColumnElement[bool]:
    """A condition on User: a learner membership in the course, or evidence there.

    Probed per user of the platform through the (context, user) and (learner, context) indexes: a UNION
    with the course's evidence would read every evidence row of the course (600,000 for 2,000 learners)
    on each page.
    """
    return or_(exists().where(Membership.context_id == context_id, Membership.user_id == User.id,
                              Membership.role == LEARNER),
               exists().where(Evidence.learner_id == User.id, Evidence.context_id == context_id))
