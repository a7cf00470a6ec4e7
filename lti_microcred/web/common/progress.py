"""One learner's progress as the pages show it: what each competency requires, what counts so far, what is
missing, and which of the learner's routes (evidence, a supervisor, prior learning) can still count. Computed
with the domain's own loaders and rules, so a page never disagrees with an award.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies.evidence import LEARNER_KINDS
from lti_microcred.competencies.models import (
    Assessment,
    AttestationRequest,
    Award,
    Competency,
    Evidence,
    MicroCredential,
    Module,
    PathwayComponent,
    Requirement,
)
from lti_microcred.competencies.rule_inputs import counted_kinds, fact_of, spec_from_requirements
from lti_microcred.competencies.rules import (
    ACHIEVED,
    EVIDENCE_COUNT,
    RUBRIC,
    RUBRIC_LEVELS,
    SCORE,
    CompetencyResult,
    CredentialResult,
    Fact,
    RequirementResult,
    evaluate,
)
from lti_microcred.core.db import utcnow

KIND_LABELS = {"submission": "Submitted evidence", "prior_learning": "Prior learning claim",
               "workplace": "Workplace evidence", "lms_score": "Score from the LMS gradebook",
               "rubric": "Rubric judgement", "override": "Instructor decision"}
STATE_LABELS = {"achieved": "Achieved", "in_progress": "In progress", "not_started": "Not started"}
COUNTED_AS = {"submission": "submitted", "workplace": "workplace"}
DECIDED_KINDS = LEARNER_KINDS  # the kinds an assessor decides on
DECIDING_KINDS = frozenset({"override", "prior_learning"})  # decide a competency whatever its requirements say
ROUTE_KINDS = (("evidence", "submission"), ("workplace", "workplace"))  # learner route -> evidence kind


@dataclass
class EvidenceItem:
    """A piece of evidence with every decision on it (oldest first) and whether a correction replaced it."""

    row: Evidence
    decisions: list[Assessment] = field(default_factory=list)
    superseded: bool = False
    waiting_for_supervisor: bool = False

    @property
    def latest(self) -> Assessment | None:
        return self.decisions[-1] if self.decisions else None

    @property
    def status(self) -> str:
        if self.row.kind not in DECIDED_KINDS:
            return "recorded"
        return self.latest.decision if self.latest else "pending"

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.row.kind, self.row.kind)

    @property
    def level(self) -> int | None:
        return self.latest.rubric_level if self.latest else self.row.rubric_level

    @property
    def level_label(self) -> str | None:
        return RUBRIC_LEVELS.get(self.level) if self.level else None


@dataclass(frozen=True)
class RequirementLine:
    """One requirement for the learner: met, still to do, or not needed (the competency was decided otherwise)."""

    text: str
    met: bool
    progress: str
    requirement: Requirement | None = None
    needed: bool = True
    pending: int = 0  # pieces waiting for a decision that could count for it
    best: EvidenceItem | None = None  # the score or judgement that counts so far
    where: str = ""  # the module's title

    @property
    def status(self) -> str:
        return "met" if self.met else "not_yet" if self.needed else "not_needed"


@dataclass
class CompetencyView:
    competency: Competency
    state: str
    via: str
    requirements: list[RequirementLine]
    evidence: list[EvidenceItem]
    decision: EvidenceItem | None = None  # the instructor decision or accepted claim that decided it

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def missing(self) -> list[RequirementLine]:
        return [] if self.state == ACHIEVED else [r for r in self.requirements if not r.met]

    @property
    def module_ids(self) -> set[int]:
        return {r.requirement.module_id for r in self.requirements if r.requirement is not None}

    @property
    def routes(self) -> tuple[str, ...]:
        """The learner's routes that can still count: evidence for a rubric or a count of submissions, a
        supervisor for a count of workplace pieces, prior learning always; none after an instructor's decision."""
        if self.state == ACHIEVED or self.via == "override":
            return ()
        kinds = set().union(*(_counting_kinds(r.requirement) for r in self.missing if r.requirement is not None))
        return (*(route for route, kind in ROUTE_KINDS if kind in kinds), "prior")

    def counts(self, item: EvidenceItem) -> bool:
        """Whether an accepted piece can count here: a supervisor's confirmation meets no rubric requirement."""
        if item.row.kind not in ("submission", "workplace"):
            return True
        return any(item.row.kind in _counting_kinds(r.requirement, item.level is not None)
                   for r in self.requirements if r.requirement is not None)


def _counting_kinds(requirement: Requirement, judged: bool = True) -> frozenset[str]:
    """The learner evidence kinds a requirement counts: a judged submission for a rubric, the listed kinds for a
    count, none for a score (it comes from the gradebook)."""
    if requirement.kind == RUBRIC:
        return frozenset({"submission"}) if judged else frozenset()
    return counted_kinds(requirement) if requirement.kind == EVIDENCE_COUNT else frozenset()


@dataclass
class CredentialView:
    credential: MicroCredential
    competencies: list[CompetencyView]
    award: Award | None
    components: list[tuple[MicroCredential, bool]] = field(default_factory=list)

    @property
    def achieved(self) -> int:
        if self.credential.kind == "pathway":
            return sum(1 for _, held in self.components if held)
        return sum(1 for c in self.competencies if c.state == ACHIEVED)

    @property
    def total(self) -> int:
        return len(self.components) if self.credential.kind == "pathway" else len(self.competencies)


def requirement_text(requirement: Requirement, module_titles: dict[int, str]) -> str:
    """What a requirement asks, in words: "Score ≥ 70% in Module 1"."""
    if requirement.kind == SCORE:
        return f"Score ≥ {requirement.min_percent or 0:g}% in {module_titles.get(requirement.module_id, 'the module')}"
    if requirement.kind == RUBRIC:
        return f"Rubric level ≥ {RUBRIC_LEVELS.get(requirement.min_level or 1, '?')} from an assessor"
    if requirement.kind == EVIDENCE_COUNT:
        count = requirement.min_count or 1
        kinds = sorted(counted_kinds(requirement))
        words = " or ".join(COUNTED_AS.get(k, k) for k in kinds)
        return f"{count} accepted piece{'s' if count != 1 else ''} of {words} evidence"
    return requirement.kind


def evidence_history(session: Session, context_id: int, learner_id: int) -> list[EvidenceItem]:
    """Every evidence record of the learner in the course, newest first, superseded ones included."""
    rows = list(session.scalars(select(Evidence).where(Evidence.context_id == context_id,
                                                       Evidence.learner_id == learner_id)
                                .order_by(Evidence.created_dt.desc(), Evidence.id.desc())))
    items = {e.id: EvidenceItem(e) for e in rows}
    if not items:
        return []
    for decision in session.scalars(select(Assessment).where(Assessment.evidence_id.in_(items))
                                    .order_by(Assessment.id)):
        items[decision.evidence_id].decisions.append(decision)
    replaced = {e.supersedes_id for e in rows if e.supersedes_id}
    waiting = set(session.scalars(select(AttestationRequest.evidence_id).where(
        AttestationRequest.evidence_id.in_(items), AttestationRequest.used_dt.is_(None),
        AttestationRequest.expires_dt > utcnow())))
    for item in items.values():
        item.superseded = item.row.id in replaced
        item.waiting_for_supervisor = item.row.id in waiting and not item.decisions
    return list(items.values())


def learner_progress(session: Session, context_id: int, learner_id: int, credentials: Sequence[MicroCredential],
                     history: list[EvidenceItem] | None = None) -> list[CredentialView]:
    """Per credential and competency: state, requirement lines with progress, and the evidence that bears."""
    if not credentials:
        return []  # nothing published in the course yet: no evidence to read
    if history is None:
        history = evidence_history(session, context_id, learner_id)
    ids = [c.id for c in credentials]
    requirements = list(session.scalars(select(Requirement).where(Requirement.micro_credential_id.in_(ids))
                                        .order_by(Requirement.id)))
    titles = dict(session.execute(select(Module.id, Module.title).where(Module.context_id == context_id)).all())
    competencies = {c.id: c for c in session.scalars(select(Competency).where(
        Competency.id.in_({r.competency_id for r in requirements})))} if requirements else {}
    awards = _awards(session, learner_id, ids)
    facts = [_fact(item) for item in history]  # the records just loaded, not a second query
    live = [item for item in history if not item.superseded]
    views = []
    for credential in credentials:
        own = [r for r in requirements if r.micro_credential_id == credential.id]
        comps = [_competency_view(c, competencies[c.competency_id], own, titles, live, plain)
                 for c, plain in _results(credential.id, own, facts)]
        views.append(CredentialView(credential, comps, awards.get(credential.id)))
    _add_components(session, views, learner_id)
    return views


def _results(credential_id: int, own: list[Requirement],
             facts: list[Fact]) -> list[tuple[CompetencyResult, CompetencyResult]]:
    """Each competency's result, with its requirements judged on the evidence alone: a competency decided by an
    instructor or a prior-learning claim still shows which requirements its evidence meets."""
    if not own:
        return []
    spec = spec_from_requirements(credential_id, own)
    result = evaluate(spec, facts)
    plain: CredentialResult = result
    if any(c.via in ("override", "prior_learning") for c in result.competencies):
        plain = evaluate(spec, [f for f in facts if f.kind not in DECIDING_KINDS])
    return [(c, plain.competency(c.competency_id)) for c in result.competencies]


def _fact(item: EvidenceItem) -> Fact:
    e, latest = item.row, item.latest
    return fact_of(e.id, e.kind, e.module_id, e.competency_id, e.score_given, e.score_maximum, e.rubric_level,
                   e.achieved, e.supersedes_id, latest.decision if latest else None,
                   latest.rubric_level if latest else None)


def _competency_view(result: CompetencyResult, competency: Competency, requirements: list[Requirement],
                     titles: dict[int, str], live: list[EvidenceItem], plain: CompetencyResult) -> CompetencyView:
    mine = [r for r in requirements if r.competency_id == competency.id]
    score_modules = {r.module_id for r in mine if r.kind == SCORE}
    bearing = [i for i in live if i.row.competency_id == competency.id
               or (i.row.kind == "lms_score" and i.row.module_id in score_modules)]
    progress = {r.requirement_id: r for r in plain.requirements}
    decided = result.via in DECIDING_KINDS
    lines = [_line(r, progress.get(r.id), titles, bearing, needed=not (decided and result.state == ACHIEVED))
             for r in mine]
    decision = next((i for i in bearing if decided and i.row.id in result.evidence_ids), None)
    return CompetencyView(competency, result.state, result.via, lines, bearing, decision)


def _line(requirement: Requirement, result: RequirementResult | None, titles: dict[int, str],
          bearing: list[EvidenceItem], needed: bool) -> RequirementLine:
    met = result is not None and result.met
    kinds = _counting_kinds(requirement)
    pending = sum(1 for i in bearing if i.status == "pending" and i.row.kind in kinds)
    best = next((i for i in bearing if result is not None and i.row.id in result.evidence_ids[:1]), None)
    return RequirementLine(requirement_text(requirement, titles), met, result.progress if result else "",
                           requirement, needed, pending, best, titles.get(requirement.module_id, ""))


def _awards(session: Session, learner_id: int, credential_ids: list[int]) -> dict[int, Award]:
    """The learner's award per credential: the active one, else the latest revoked."""
    found: dict[int, Award] = {}
    for award in session.scalars(select(Award).where(Award.learner_id == learner_id,
                                                     Award.micro_credential_id.in_(credential_ids))
                                 .order_by(Award.awarded_dt, Award.id)):
        current = found.get(award.micro_credential_id)
        if current is None or current.status != "active":
            found[award.micro_credential_id] = award
    return found


def _add_components(session: Session, views: list[CredentialView], learner_id: int) -> None:
    """Pathways list their components (possibly from other courses) and which the learner holds."""
    pathways = {v.credential.id: v for v in views if v.credential.kind == "pathway"}
    if not pathways:
        return
    rows = session.execute(select(PathwayComponent.pathway_id, MicroCredential)
                           .join(MicroCredential, MicroCredential.id == PathwayComponent.component_id)
                           .where(PathwayComponent.pathway_id.in_(pathways)).order_by(MicroCredential.title)).all()
    held = set(session.scalars(select(Award.micro_credential_id).where(
        Award.learner_id == learner_id, Award.status == "active",
        Award.micro_credential_id.in_({component.id for _, component in rows})))) if rows else set()
    for pathway_id, component in rows:
        pathways[pathway_id].components.append((component, component.id in held))
