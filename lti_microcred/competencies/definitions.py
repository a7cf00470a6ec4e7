"""Building micro-credentials: their EU Annex I description, modules, requirements and pathways."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lti_microcred.competencies import audit
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.awarding import request_reevaluation
from lti_microcred.competencies.errors import DomainError
from lti_microcred.competencies.models import (
    Competency,
    Framework,
    MicroCredential,
    Module,
    PathwayComponent,
    Requirement,
)
from lti_microcred.competencies.rules import (
    COUNTABLE_KINDS,
    EVIDENCE_COUNT,
    REQUIREMENT_KINDS,
    RUBRIC,
    RUBRIC_LEVELS,
    SCORE,
)
from lti_microcred.db import utcnow

PARTICIPATION_FORMS = {
    "online": "Online", "onsite": "On-site", "blended": "Blended (online and on-site)",
    "work_based": "Work-based learning", "volunteering": "Volunteering",
}
PATHWAY_RULES = {"all": "All of the components", "k_of_n": "A number of the components",
                 "credits": "A total of ECTS credits"}


class DefinitionError(DomainError):
    """A micro-credential definition that cannot be saved, naming every field at fault."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = dict(problems)


@dataclass
class CredentialFields:
    """The form of a micro-credential, as strings from a form or values from code."""

    title: str = ""
    description: str = ""
    learning_outcomes: list[str] = field(default_factory=list)
    workload_hours: float | None = None
    ects_credits: float | None = None
    eqf_level: int | None = None
    national_level: str = ""
    assessment_type: str = ""
    participation_form: str = "online"
    quality_assurance: str = ""
    awarding_body: str = ""
    country: str = ""
    prerequisites: str = ""
    supervision: str = ""
    validity_months: int | None = None
    stackable: bool = False
    kind: str = "standard"
    pathway_rule: str | None = None
    pathway_k: int | None = None
    pathway_credits: float | None = None

    def problems(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if not 1 <= len(self.title.strip()) <= 200:
            found["title"] = "Give a title of 1 to 200 characters."
        if not [o for o in self.learning_outcomes if o.strip()]:
            found["learning_outcomes"] = "State at least one learning outcome."
        if len(self.learning_outcomes) > 50 or any(len(o) > 1000 for o in self.learning_outcomes):
            found["learning_outcomes"] = "At most 50 outcomes of 1,000 characters each."
        if self.workload_hours is not None and not 0 < self.workload_hours <= 10_000:
            found["workload_hours"] = "Notional workload is between 0 and 10,000 hours."
        if self.ects_credits is not None and not 0 < self.ects_credits <= 180:
            found["ects_credits"] = "ECTS credits are between 0 and 180."
        if self.workload_hours is None and self.ects_credits is None:
            found["workload_hours"] = "Give the notional workload (hours and/or ECTS credits)."
        if self.eqf_level is not None and not 1 <= self.eqf_level <= 8:
            found["eqf_level"] = "The EQF level is 1 to 8."
        if self.participation_form not in PARTICIPATION_FORMS:
            found["participation_form"] = "Choose a form of participation."
        for name in ("assessment_type", "quality_assurance", "awarding_body"):
            if not getattr(self, name).strip():
                found[name] = "Required by the EU definition of a micro-credential."
        if len(self.country) != 2 or not self.country.isalpha():
            found["country"] = "Give the awarding country as a two-letter code (e.g. IE, DE, GB)."
        if self.validity_months is not None and not 1 <= self.validity_months <= 600:
            found["validity_months"] = "Validity is 1 to 600 months, or empty for no expiry."
        if self.kind == "pathway":
            found.update(self._pathway_problems())
        return found

    def _pathway_problems(self) -> dict[str, str]:
        if self.pathway_rule not in PATHWAY_RULES:
            return {"pathway_rule": "Choose how the pathway is earned."}
        if self.pathway_rule == "k_of_n" and not (self.pathway_k and self.pathway_k >= 1):
            return {"pathway_k": "Say how many components are needed."}
        if self.pathway_rule == "credits" and not (self.pathway_credits and self.pathway_credits > 0):
            return {"pathway_credits": "Say how many ECTS credits are needed."}
        return {}

    def columns(self) -> dict[str, Any]:
        return {
            "title": self.title.strip(), "description": self.description.strip()[:20_000],
            "learning_outcomes": json.dumps([o.strip() for o in self.learning_outcomes if o.strip()]),
            "workload_hours": self.workload_hours, "ects_credits": self.ects_credits, "eqf_level": self.eqf_level,
            "national_level": self.national_level.strip()[:100] or None,
            "assessment_type": self.assessment_type.strip()[:200],
            "participation_form": self.participation_form, "quality_assurance": self.quality_assurance.strip()[:300],
            "awarding_body": self.awarding_body.strip()[:200], "country": self.country.strip().upper(),
            "prerequisites": self.prerequisites.strip()[:5000], "supervision": self.supervision.strip()[:5000],
            "validity_months": self.validity_months, "stackable": self.stackable, "kind": self.kind,
            "pathway_rule": self.pathway_rule if self.kind == "pathway" else None,
            "pathway_k": self.pathway_k if self.kind == "pathway" else None,
            "pathway_credits": self.pathway_credits if self.kind == "pathway" else None,
        }

    @classmethod
    def of(cls, credential: MicroCredential) -> CredentialFields:
        names = [f for f in cls.__dataclass_fields__ if f != "learning_outcomes"]
        values = {n: getattr(credential, n) for n in names}
        values = {k: ("" if v is None and isinstance(getattr(cls(), k), str) else v) for k, v in values.items()}
        return cls(learning_outcomes=json.loads(credential.learning_outcomes), **values)


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
    _reevaluate_if_published(session, actor, credential)
    return credential


def _reevaluate_if_published(session: Session, actor: Actor, credential: MicroCredential) -> None:
    """Evidence recorded before a change counts: everyone concerned is evaluated again (and awarded) by the
    worker, seconds later."""
    if credential.status == "published":
        request_reevaluation(session, actor, credential)


def require_own(actor: Actor, credential: MicroCredential, error: type[DomainError] = DomainError) -> None:
    """Staff act on the micro-credentials of the course (and LMS) they launched from, never another's."""
    if credential.context_id != actor.context_id or credential.platform_id != actor.platform_id:
        raise error("That micro-credential belongs to another course.")


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
    _reevaluate_if_published(session, actor, credential)
    return requirement


def remove_requirement(session: Session, actor: Actor, credential: MicroCredential, requirement_id: int) -> None:
    require_own(actor, credential)
    session.execute(delete(Requirement).where(Requirement.id == requirement_id,
                                              Requirement.micro_credential_id == credential.id))
    credential.updated_dt = utcnow()
    audit.record(session, actor, "requirement.removed", f"credential:{credential.key}", requirement_id=requirement_id)
    _reevaluate_if_published(session, actor, credential)


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
    _reevaluate_if_published(session, actor, pathway)
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
