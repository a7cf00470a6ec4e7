"""The rules: from a learner's evidence to competency states and a micro-credential's completion.

Pure functions over plain data, with no database: the same set of evidence gives the same result in any
order. Supersession is explicit (`supersedes`), never inferred from time, so corrections are
deterministic too; when two records supersede the same one, both stay effective and the best counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

SCORE, RUBRIC, EVIDENCE_COUNT = "score", "rubric", "evidence_count"
REQUIREMENT_KINDS = (SCORE, RUBRIC, EVIDENCE_COUNT)
RUBRIC_LEVELS = {1: "Beginning", 2: "Developing", 3: "Proficient", 4: "Exemplary"}
COUNTABLE_KINDS = frozenset({"submission", "workplace"})
ACHIEVED, IN_PROGRESS, NOT_STARTED = "achieved", "in_progress", "not_started"


@dataclass(frozen=True)
class RequirementSpec:
    id: int
    competency_id: int
    module_id: int
    kind: str
    min_percent: float | None = None
    min_level: int | None = None
    min_count: int | None = None
    evidence_kinds: frozenset[str] = COUNTABLE_KINDS


@dataclass(frozen=True)
class CredentialSpec:
    """What a standard micro-credential asks: its competencies and the requirements mapped to them."""

    id: int
    competency_ids: tuple[int, ...]
    requirements: tuple[RequirementSpec, ...]


class Fact(NamedTuple):
    """One evidence record as the rules see it. `accepted` is None while a decision is pending.
    (A named tuple: a learner's hundreds of facts are built on every change, and this is the cheapest record.)"""

    id: int
    kind: str  # lms_score | rubric | submission | prior_learning | workplace | override
    module_id: int | None = None
    competency_id: int | None = None
    score_ratio: float | None = None
    rubric_level: int | None = None
    accepted: bool | None = True
    achieved: bool | None = None  # overrides
    supersedes: int | None = None


@dataclass(frozen=True)
class RequirementResult:
    requirement_id: int
    met: bool
    evidence_ids: tuple[int, ...] = ()
    progress: str = ""  # e.g. "1 of 2 accepted", "62% (needs 70%)"


@dataclass(frozen=True)
class CompetencyResult:
    competency_id: int
    state: str
    via: str  # requirements | prior_learning | override | ""
    requirements: tuple[RequirementResult, ...] = ()
    evidence_ids: tuple[int, ...] = ()

    @property
    def met_count(self) -> int:
        return sum(1 for r in self.requirements if r.met)


@dataclass(frozen=True)
class CredentialResult:
    credential_id: int
    competencies: tuple[CompetencyResult, ...]
    earned: bool
    evidence_ids: tuple[int, ...] = field(default=())

    def competency(self, competency_id: int) -> CompetencyResult:
        return next(c for c in self.competencies if c.competency_id == competency_id)


def effective(facts: Iterable[Fact]) -> list[Fact]:
    """The facts no other fact supersedes, in id order."""
    facts = list(facts)
    superseded = {f.supersedes for f in facts if f.supersedes is not None}
    return sorted((f for f in facts if f.id not in superseded), key=lambda f: f.id)


def evaluate(spec: CredentialSpec, facts: Iterable[Fact]) -> CredentialResult:
    """Competency states and completion of one micro-credential for one learner."""
    live = effective(facts)
    by_competency: dict[int | None, list[Fact]] = {}
    for f in live:
        by_competency.setdefault(f.competency_id, []).append(f)
    scores = [f for f in live if f.kind == "lms_score"]
    results = tuple(_competency(spec, cid, by_competency.get(cid, []) + [f for f in scores if f.competency_id != cid])
                    for cid in spec.competency_ids)
    earned = bool(results) and all(r.state == ACHIEVED for r in results)
    used = sorted({e for r in results if r.state == ACHIEVED for e in r.evidence_ids})
    return CredentialResult(spec.id, results, earned, tuple(used))


def _competency(spec: CredentialSpec, competency_id: int, live: Sequence[Fact]) -> CompetencyResult:
    overrides = [f for f in live if f.kind == "override" and f.competency_id == competency_id]
    if overrides:
        latest = overrides[-1]  # highest id among the effective ones: deterministic
        state = ACHIEVED if latest.achieved else IN_PROGRESS
        return CompetencyResult(competency_id, state, "override", evidence_ids=(latest.id,))
    recognised = [f for f in live if f.kind == "prior_learning" and f.competency_id == competency_id
                  and f.accepted is True]
    if recognised:
        return CompetencyResult(competency_id, ACHIEVED, "prior_learning", evidence_ids=(recognised[0].id,))
    requirements = tuple(_requirement(r, live) for r in spec.requirements if r.competency_id == competency_id)
    if requirements and all(r.met for r in requirements):
        used = tuple(sorted({e for r in requirements for e in r.evidence_ids}))
        return CompetencyResult(competency_id, ACHIEVED, "requirements", requirements, used)
    touched = any(r.met or r.evidence_ids for r in requirements) or any(
        f.competency_id == competency_id for f in live)
    return CompetencyResult(competency_id, IN_PROGRESS if touched else NOT_STARTED, "", requirements)


def _candidates(req: RequirementSpec, live: Sequence[Fact]) -> list[Fact]:
    """The facts a requirement looks at: the module's scores, judged levels, or accepted pieces of its kinds."""
    if req.kind == SCORE:
        return [f for f in live if f.kind == "lms_score" and f.module_id == req.module_id and f.score_ratio is not None]
    if req.kind == RUBRIC:
        return [f for f in live if f.competency_id == req.competency_id and f.rubric_level is not None
                and f.accepted is True]
    return [f for f in live if f.competency_id == req.competency_id and f.kind in req.evidence_kinds
            and f.accepted is True]


def _meets(req: RequirementSpec, fact: Fact) -> bool:
    """Whether one candidate fact reaches the requirement's threshold on its own (a count needs several)."""
    if req.kind == SCORE:
        return 100.0 * (fact.score_ratio or 0.0) + 1e-9 >= (req.min_percent or 0.0)
    if req.kind == RUBRIC:
        return (fact.rubric_level or 0) >= (req.min_level or 1)
    return True


def would_meet(req: RequirementSpec, fact: Fact) -> bool:
    """Whether one accepted piece of evidence would meet (or, for a count, count towards) the requirement."""
    return bool(_candidates(req, [fact])) and _meets(req, fact)


def _requirement(req: RequirementSpec, live: Sequence[Fact]) -> RequirementResult:
    candidates = _candidates(req, live)
    if req.kind == SCORE:
        best = max(candidates, key=lambda f: (f.score_ratio or 0.0, -f.id), default=None)
        needed = req.min_percent if req.min_percent is not None else 0.0
        if best is None:
            return RequirementResult(req.id, False, (), f"no score yet (needs {needed:g}%)")
        percent = 100.0 * (best.score_ratio or 0.0)
        return RequirementResult(req.id, _meets(req, best), (best.id,), f"{percent:.0f}% (needs {needed:g}%)")
    if req.kind == RUBRIC:
        best = max(candidates, key=lambda f: (f.rubric_level or 0, -f.id), default=None)
        label = RUBRIC_LEVELS.get(req.min_level or 1, str(req.min_level))
        if best is None:
            return RequirementResult(req.id, False, (), f"not judged yet (needs {label})")
        got = RUBRIC_LEVELS.get(best.rubric_level or 0, str(best.rubric_level))
        return RequirementResult(req.id, _meets(req, best), (best.id,), f"{got} (needs {label})")
    accepted = [f.id for f in candidates]
    needed_count = req.min_count or 1
    used = tuple(accepted[:needed_count])
    return RequirementResult(req.id, len(accepted) >= needed_count, used,
                             f"{min(len(accepted), needed_count)} of {needed_count} accepted")


def counting_evidence(spec: CredentialSpec, facts: Iterable[Fact]) -> set[int]:
    """The live facts that count for the credential: each meets one of its requirements or decides one of its
    competencies (an accepted prior-learning claim, an override that grants it). Only these, decided after a
    revocation, may bring a revoked award back: pending, rejected or unrelated evidence never does."""
    live = effective(facts)
    counted = {f.id for req in spec.requirements for f in _candidates(req, live) if _meets(req, f)}
    for competency_id in spec.competency_ids:
        counted.update(f.id for f in live if f.kind == "prior_learning" and f.competency_id == competency_id
                       and f.accepted is True)
        overrides = [f for f in live if f.kind == "override" and f.competency_id == competency_id]
        if overrides and overrides[-1].achieved:
            counted.add(overrides[-1].id)
    return counted


@dataclass(frozen=True)
class PathwaySpec:
    id: int
    rule: str  # all | k_of_n | credits
    k: int | None
    credits: float | None
    components: tuple[tuple[int, float], ...]  # (component micro-credential id, its ECTS credits)


def evaluate_pathway(spec: PathwaySpec, earned_components: Iterable[int]) -> bool:
    """A pathway is earned from the learner's active awards of its components."""
    earned = set(earned_components) & {cid for cid, _ in spec.components}
    if not spec.components:
        return False
    if spec.rule == "k_of_n":
        return len(earned) >= max(1, spec.k or len(spec.components))
    if spec.rule == "credits":
        total = sum(credits for cid, credits in spec.components if cid in earned)
        return total + 1e-9 >= (spec.credits or 0.0) > 0
    return earned == {cid for cid, _ in spec.components}
