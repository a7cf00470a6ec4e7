"""Building micro-credentials: their lifecycle (create, update, publish) and a pathway's components.

The form's fields live in `credential_fields`; modules, competencies and requirements in `requirements`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lti_microcred.competencies import audit
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.credential_fields import CredentialFields, DefinitionError
from lti_microcred.competencies.credential_reevaluation import request_reevaluation
from lti_microcred.competencies.errors import DomainError
from lti_microcred.competencies.models import MicroCredential, PathwayComponent, Requirement
from lti_microcred.core.db import utcnow


def create_micro_credential(session: Session, actor: Actor, fields: CredentialFields) -> MicroCredential:
    if actor.context_id is None:
        raise DomainError("Micro-credentials are created inside a course.")
    problems = fields.problems()
    if problems:
        raise DefinitionError(problems)
    credential = MicroCredential(key=secrets.token_hex(8), platform_id=actor.platform_id,
                                 context_id=actor.context_id, created_by_id=actor.user_id, status="draft",
                                 **fields.columns())
    session.add(credential)
    session.flush()
    audit.record(session, actor, "credential.created", f"credential:{credential.key}", title=credential.title)
    return credential


def update_micro_credential(session: Session, actor: Actor, credential: MicroCredential,
                            fields: CredentialFields) -> MicroCredential:
    require_own(actor, credential)
    problems = fields.problems()
    if credential.kind == "pathway" and fields.kind == "pathway":
        problems = {**pathway_problems(fields.pathway_rule, fields.pathway_k, fields.pathway_credits,
                                       components_of(session, credential.id)), **problems}
    if problems:
        raise DefinitionError(problems)
    for name, value in fields.columns().items():
        setattr(credential, name, value)
    session.flush()
    audit.record(session, actor, "credential.updated", f"credential:{credential.key}")
    return credential


def set_status(session: Session, actor: Actor, credential: MicroCredential, status: str) -> MicroCredential:
    """Publish (learners see it, awards happen), archive, or back to draft."""
    require_own(actor, credential)
    if status not in ("draft", "published", "archived"):
        raise DomainError("Unknown status.")
    if status == "published":
        empty = (credential.kind == "standard" and not requirements_of(session, credential.id)) or (
            credential.kind == "pathway" and not components_of(session, credential.id))
        if empty:
            raise DomainError("Add requirements (or pathway components) before publishing.")
        if credential.kind == "pathway":
            _refuse_impossible(credential, components_of(session, credential.id))
    credential.status = status
    session.flush()
    audit.record(session, actor, f"credential.{status}", f"credential:{credential.key}")
    reevaluate_if_published(session, actor, credential)
    return credential


def reevaluate_if_published(session: Session, actor: Actor, credential: MicroCredential) -> None:
    """Evidence recorded before a change counts: everyone concerned is evaluated again (and awarded) by the
    worker, seconds later."""
    if credential.status == "published":
        request_reevaluation(session, actor, credential)


def require_own(actor: Actor, credential: MicroCredential, error: type[DomainError] = DomainError) -> None:
    """Staff act on the micro-credentials of the course (and LMS) they launched from, never another's."""
    if credential.context_id != actor.context_id or credential.platform_id != actor.platform_id:
        raise error("That micro-credential belongs to another course.")


def set_pathway_components(session: Session, actor: Actor, pathway: MicroCredential,
                           component_ids: Iterable[int]) -> list[MicroCredential]:
    """Components may come from other courses of the same institution, never from another LMS."""
    require_own(actor, pathway)
    if pathway.kind != "pathway":
        raise DomainError("Only a pathway micro-credential has components.")
    wanted = set(component_ids) - {pathway.id}
    components = list(session.execute(
        select(MicroCredential).where(MicroCredential.id.in_(wanted),
                                      MicroCredential.platform_id == pathway.platform_id)
    ).scalars())
    if len(components) != len(wanted):
        raise DomainError("Some components are not micro-credentials of this institution.")
    _refuse_impossible(pathway, components)
    before = set(session.scalars(select(PathwayComponent.component_id)
                                 .where(PathwayComponent.pathway_id == pathway.id)))
    session.execute(delete(PathwayComponent).where(PathwayComponent.pathway_id == pathway.id))
    session.add_all(PathwayComponent(pathway_id=pathway.id, component_id=c.id) for c in components)
    now = utcnow()
    pathway.updated_dt = now
    # A component's credential says which pathways it stacks into: those that gained or lost it changed too.
    changed = sorted(before ^ wanted)
    session.execute(update(MicroCredential).where(MicroCredential.id.in_(changed)).values(updated_dt=now))
    session.flush()
    audit.record(session, actor, "pathway.components", f"credential:{pathway.key}",
                 components=sorted(c.key for c in components))
    reevaluate_if_published(session, actor, pathway)
    return components


def pathway_problems(rule: str | None, k: int | None, credits: float | None,
                     components: Sequence[MicroCredential]) -> dict[str, str]:
    """What would make a pathway impossible to earn with these components (nothing to say before any is
    chosen): more components asked for than it has, or more ECTS credits than they give together."""
    if not components:
        return {}
    if rule == "k_of_n" and k is not None and k > len(components):
        return {"pathway_k": f"{k} components are required but the pathway has {len(components)}: require at most "
                             f"{len(components)}, or add components."}
    available = sum(c.ects_credits or 0.0 for c in components)
    if rule == "credits" and credits is not None and credits > available + 1e-9:
        return {"pathway_credits": f"{credits:g} ECTS credits are required but its components give {available:g} "
                                   f"together: require at most {available:g}, or add components."}
    return {}


def _refuse_impossible(pathway: MicroCredential, components: Sequence[MicroCredential]) -> None:
    problems = pathway_problems(pathway.pathway_rule, pathway.pathway_k, pathway.pathway_credits, components)
    if problems:
        raise DomainError(" ".join(problems.values()))


def requirements_of(session: Session, credential_id: int) -> list[Requirement]:
    return list(session.scalars(select(Requirement).where(Requirement.micro_credential_id == credential_id)
                                .order_by(Requirement.id)))


def components_of(session: Session, pathway_id: int) -> list[MicroCredential]:
    return list(session.scalars(select(MicroCredential).join(
        PathwayComponent, PathwayComponent.component_id == MicroCredential.id)
        .where(PathwayComponent.pathway_id == pathway_id).order_by(MicroCredential.title)))
