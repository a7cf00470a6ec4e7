"""Modules, competencies and the requirements mapping them to a micro-credential, apart from its lifecycle."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_microcred.competencies import audit
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.definitions import reevaluate_if_published, require_own
from lti_microcred.competencies.errors import DomainError
from lti_microcred.competencies.models import Competency, Framework, MicroCredential, Module, Requirement
from lti_microcred.competencies.rules import (
    COUNTABLE_KINDS,
    EVIDENCE_COUNT,
    REQUIREMENT_KINDS,
    RUBRIC,
    RUBRIC_LEVELS,
    SCORE,
)
from lti_microcred.core.db import utcnow


def create_module(session: Session, context_id: int, title: str, score_maximum: float = 100.0,
                  description: str = "", micro_credential_id: int | None = None) -> Module:
    title = title.strip()
    if not title or len(title) > 200:
        raise DomainError("A module needs a title of 1 to 200 characters.")
    if not 0 < score_maximum <= 10_000:
        raise DomainError("Maximum points must be between 0 and 10,000.")
    module = Module(key=secrets.token_hex(8), context_id=context_id, title=title, score_maximum=score_maximum,
                    description=description.strip()[:5000], micro_credential_id=micro_credential_id)
    session.add(module)
    session.flush()
    return module


def attach_module(session: Session, actor: Actor, credential: MicroCredential, module: Module) -> None:
    require_own(actor, credential)
    claim_module(session, credential, module)
    session.flush()


def claim_module(session: Session, credential: MicroCredential, module: Module) -> None:
    """A module belongs to one micro-credential: requirements of two on one module would overwrite each other.
    A module of this course that no other micro-credential uses becomes this one's."""
    if module.context_id != credential.context_id:
        raise DomainError("That module is not in this course.")
    owner_id = module.micro_credential_id
    if owner_id in (None, credential.id):  # requirements may still name it from before modules had one owner
        owner_id = session.scalar(select(Requirement.micro_credential_id).where(
            Requirement.module_id == module.id, Requirement.micro_credential_id != credential.id).limit(1))
    owner = session.get(MicroCredential, owner_id) if owner_id else None
    if owner is not None:
        raise DomainError(f"The module “{module.title}” belongs to the micro-credential “{owner.title}”. Add a "
                          "module to this micro-credential for its requirements instead.")
    module.micro_credential_id = credential.id


def competency_in_scope(session: Session, actor: Actor, competency_id: int) -> Competency:
    competency = session.execute(
        select(Competency).join(Framework, Framework.id == Competency.framework_id)
        .where(Competency.id == competency_id, Framework.platform_id == actor.platform_id)
    ).scalar_one_or_none()
    if competency is None:
        raise DomainError("That competency is not in this institution's frameworks.")
    return competency


def set_requirement(session: Session, actor: Actor, credential: MicroCredential, module: Module, competency_id: int,
                    kind: str, threshold: float | None = None, evidence_kinds: Iterable[str] = ()) -> Requirement:
    """Map a module to a competency with what it takes: a score %, a rubric level, or N accepted pieces."""
    require_own(actor, credential)
    competency_in_scope(session, actor, competency_id)
    requirement = Requirement(micro_credential_id=credential.id, module_id=module.id, competency_id=competency_id,
                              kind=kind)
    if kind == SCORE:
        if threshold is None or not 0 < threshold <= 100:
            raise DomainError("A score requirement needs a percentage between 1 and 100.")
        requirement.min_percent = threshold
    elif kind == RUBRIC:
        if threshold not in RUBRIC_LEVELS:
            raise DomainError("Choose the rubric level required.")
        requirement.min_level = int(threshold)
    elif kind == EVIDENCE_COUNT:
        kinds = set(evidence_kinds) or set(COUNTABLE_KINDS)
        if threshold is None or not 1 <= threshold <= 20 or not kinds <= COUNTABLE_KINDS:
            raise DomainError("Ask for 1 to 20 accepted pieces of submitted or workplace evidence.")
        requirement.min_count, requirement.evidence_kinds = int(threshold), ",".join(sorted(kinds))
    else:
        raise DomainError(f"Requirement kinds are {', '.join(REQUIREMENT_KINDS)}.")
    claim_module(session, credential, module)
    session.execute(delete(Requirement).where(Requirement.micro_credential_id == credential.id,
                                              Requirement.module_id == module.id,
                                              Requirement.competency_id == competency_id, Requirement.kind == kind))
    session.add(requirement)
    credential.updated_dt = utcnow()  # what the credential states changed: caches of its description expire
    session.flush()
    audit.record(session, actor, "requirement.set", f"credential:{credential.key}", module=module.key,
                 competency_id=competency_id, kind=kind, threshold=threshold)
    reevaluate_if_published(session, actor, credential)
    return requirement


def remove_requirement(session: Session, actor: Actor, credential: MicroCredential, requirement_id: int) -> None:
    require_own(actor, credential)
    session.execute(delete(Requirement).where(Requirement.id == requirement_id,
                                              Requirement.micro_credential_id == credential.id))
    credential.updated_dt = utcnow()
    audit.record(session, actor, "requirement.removed", f"credential:{credential.key}", requirement_id=requirement_id)
    reevaluate_if_published(session, actor, credential)


TYPED_FRAMEWORK = "typed-in"


def add_competency(session: Session, actor: Actor, short_name: str, description: str = "", code: str = "",
                   parent_id: int | None = None) -> Competency:
    """A competency typed in by hand, into the institution's own framework (created on first use)."""
    short_name, code = short_name.strip(), code.strip()
    if not 1 <= len(short_name) <= 255 or len(code) > 100 or len(description) > 10_000:
        raise DomainError("Give a name of 1 to 255 characters (a code of at most 100, a description of 10,000).")
    framework = session.scalars(select(Framework).where(Framework.platform_id == actor.platform_id,
                                                        Framework.identifier == TYPED_FRAMEWORK)).one_or_none()
    if framework is None:
        framework = Framework(platform_id=actor.platform_id, identifier=TYPED_FRAMEWORK, source="manual",
                              title="Competencies typed in by instructors")
        session.add(framework)
        session.flush()
    if parent_id is not None and session.scalar(select(Competency.id).where(
            Competency.id == parent_id, Competency.framework_id == framework.id)) is None:
        raise DomainError("The parent must be another typed-in competency.")
    competency = Competency(framework_id=framework.id, identifier=secrets.token_hex(8), code=code or None,
                            short_name=short_name, description=description.strip(), parent_id=parent_id)
    session.add(competency)
    session.flush()
    audit.record(session, actor, "competency.added", f"competency:{competency.identifier}", name=short_name)
    return competency
