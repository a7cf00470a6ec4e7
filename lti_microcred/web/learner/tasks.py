"""A learner's tasks in plain words: what each requirement still needs, why a competency is decided, and what
each route (evidence, a supervisor, prior learning) counts towards. Used by the learner's templates."""

from __future__ import annotations

from lti_microcred.competencies.rule_inputs import counted_kinds
from lti_microcred.competencies.rules import ACHIEVED, EVIDENCE_COUNT, RUBRIC, RUBRIC_LEVELS, SCORE
from lti_microcred.web.common.progress import CompetencyView, RequirementLine

ROUTE_TITLES = {"evidence": "Send evidence", "workplace": "Ask your workplace supervisor to confirm",
                "prior": "Claim prior learning"}
ROUTE_KINDS = {"evidence": "submission", "workplace": "workplace"}
STATUS_WORDS = {"met": "Done", "not_yet": "Not yet", "not_needed": "Not needed"}


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def decided(cv: CompetencyView) -> str:
    """Why a competency is where it is when a decision, not its requirements, settled it ("" otherwise)."""
    if cv.via == "override" and cv.state == ACHIEVED:
        return "Achieved: your instructor decided it (their reason is below)."
    if cv.via == "override":
        return ("Your instructor decided this is not achieved yet (their reason is below), so evidence cannot change "
                "it for now: ask them what to do next.")
    if cv.via == "prior_learning":
        return "Achieved: an assessor recognised your prior learning."
    return ""


def need(line: RequirementLine, cv: CompetencyView) -> str:
    """What one requirement still needs, or why it is done or not needed, in a sentence."""
    if line.status == "not_needed":
        return ("Your instructor's decision settled this competency." if cv.via == "override"
                else "Your recognised prior learning settled this competency.")
    requirement = line.requirement
    if requirement is None:
        return line.progress
    waiting = f" {plural(line.pending, 'piece')} waiting for review." if line.pending and not line.met else ""
    if requirement.kind == SCORE:
        return _score(line, requirement.min_percent or 0.0)
    if requirement.kind == RUBRIC:
        return _rubric(line, RUBRIC_LEVELS.get(requirement.min_level or 1, "")) + waiting
    if requirement.kind == EVIDENCE_COUNT:
        return _count(line, cv, requirement.min_count or 1) + waiting
    return line.progress


def _score(line: RequirementLine, needed: float) -> str:
    where = line.where or "the module"
    if line.best is None:
        return f"No score yet: complete {where} in the course; {needed:g}% or more counts."
    e = line.best.row
    percent = 100.0 * (e.score_given or 0.0) / (e.score_maximum or 1.0)
    if line.met:
        return f"Your score in {where} is {percent:.0f}%."
    return f"Your score in {where} is {percent:.0f}%: {needed:g}% or more counts. It comes from the course gradebook."


def _rubric(line: RequirementLine, level: str) -> str:
    got = line.best.level_label if line.best is not None else None
    if line.met:
        return f"An assessor judged your evidence {got}."
    if got:
        return f"Judged {got} so far: {level} or better counts. Send more evidence."
    return f"Send evidence: an assessor judges it, and {level} or better counts."


def _count(line: RequirementLine, cv: CompetencyView, count: int) -> str:
    assert line.requirement is not None
    kinds = counted_kinds(line.requirement)
    accepted = sum(1 for e in cv.evidence if e.status == "accepted" and e.row.kind in kinds)
    if line.met:
        return f"{min(accepted, count)} of {count} accepted."
    return f"{accepted} of {count} accepted so far: {plural(count - accepted, 'more piece')} needed."


def counts_towards(route: str, cv: CompetencyView) -> str:
    """What a route can count towards here, in a sentence."""
    if route == "prior":
        return ("Already able to do this from earlier study or work? If an assessor accepts your claim, this "
                "competency is achieved without the other requirements.")
    kind = ROUTE_KINDS[route]
    towards = [r.text for r in cv.missing if r.requirement is not None and _counts(r, kind)]
    words = "; ".join(towards) if towards else "this competency"
    if route == "workplace":
        return f"Counts towards: {words}. You get a link to send your supervisor; they answer without an account."
    return f"Counts towards: {words}. An assessor reviews it; their decision shows here."


def _counts(line: RequirementLine, kind: str) -> bool:
    requirement = line.requirement
    assert requirement is not None
    if requirement.kind == RUBRIC:
        return kind == "submission"
    return requirement.kind == EVIDENCE_COUNT and kind in counted_kinds(requirement)
