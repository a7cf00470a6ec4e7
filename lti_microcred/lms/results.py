"""Module results: what the tool writes to a module's gradebook column, decided in the domain's transaction.

A module's result is the share of its requirements the learner currently meets, times the module's maximum
points; a learner who meets none has no grade, never a 0 (their evidence may be waiting for review): nothing is
sent, or a grade the tool sent earlier is emptied. Only modules graded by the tool get one: a module with a
`score` requirement is graded in the LMS (its scores come back to us as evidence), and the tool never writes to a
column the LMS owns.
The outbox row carries the value and the moment it was decided: that timestamp is what the LMS orders
scores by, so it never changes on a retry and never goes backwards for one column and learner.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies import awarding, rule_inputs
from lti_microcred.competencies.models import Module, Requirement
from lti_microcred.competencies.rules import ACHIEVED, SCORE, CredentialResult, evaluate
from lti_microcred.core import outbox
from lti_microcred.core.db import utcnow
from lti_microcred.lms.ags import iso
from lti_microcred.lti.models import Context, User


def module_key(module_id: int, learner_id: int) -> str:
    return f"module:{module_id}:{learner_id}"


def award_key(credential_id: int, learner_id: int) -> str:
    """The ordering key the domain gives an award's outbox rows (issue, revoke, passback)."""
    return f"award:{credential_id}:{learner_id}"


def met_requirements(results: Sequence[CredentialResult]) -> dict[int, bool]:
    """requirement id -> met; a competency achieved by override or prior learning meets all its requirements."""
    met: dict[int, bool] = {}
    for result in results:
        for competency in result.competencies:
            for requirement in competency.requirements:
                met[requirement.requirement_id] = requirement.met or competency.state == ACHIEVED
    return met


def enqueue_module_results(session: Session, learner_id: int, context_id: int,
                           results: Sequence[CredentialResult]) -> int:
    """After a re-evaluation: one MODULE_RESULT row per tool-graded module whose result changed."""
    if not results:
        return 0
    touched = select(Requirement.module_id).where(
        Requirement.micro_credential_id.in_([r.credential_id for r in results]))
    requirements = session.execute(
        select(Requirement.id, Requirement.module_id, Requirement.kind, Requirement.micro_credential_id)
        .where(Requirement.module_id.in_(touched))).all()
    by_module: dict[int, list[Any]] = {}
    for requirement in requirements:
        by_module.setdefault(requirement.module_id, []).append(requirement)
    graded_here = {m: reqs for m, reqs in by_module.items() if all(r.kind != SCORE for r in reqs)}
    if not graded_here:
        return 0
    met = met_requirements(results)
    missing = {r.micro_credential_id for reqs in graded_here.values() for r in reqs if r.id not in met}
    if missing:  # requirements of credentials this change did not re-evaluate
        met.update(met_requirements(_evaluate(session, learner_id, context_id, missing)))
    modules = session.execute(select(Module, Context.platform_id).join(Context, Context.id == Module.context_id)
                              .where(Module.id.in_(graded_here), Module.context_id == context_id)).all()
    sub = session.execute(select(User.sub).where(User.id == learner_id)).scalar_one()
    written = 0
    for module, platform_id in modules:
        reqs = graded_here[module.id]
        count = sum(1 for r in reqs if met.get(r.id))
        written += enqueue_module_result(session, platform_id, module, learner_id, sub, count, len(reqs))
    return written


def _evaluate(session: Session, learner_id: int, context_id: int, credential_ids: set[int]) -> list[CredentialResult]:
    facts = rule_inputs.learner_facts(session, learner_id, context_id)
    return [evaluate(rule_inputs.credential_spec(session, cid), facts) for cid in sorted(credential_ids)]


def enqueue_module_result(session: Session, platform_id: int, module: Module, learner_id: int, sub: str,
                          met: int, required: int) -> int:
    """Write the outbox row for `met` of `required` requirements, unless that value was the last one written.
    None met is no grade: nothing is written unless a grade of the tool's is in the LMS, which is then emptied."""
    key = module_key(module.id, learner_id)
    score = round(module.score_maximum * met / required, 6) if required and met else None
    last = last_payload(session, key)
    if score is None and (last is None or last.get("score_given") is None):
        return 0  # no grade, and none of ours to empty
    if last is not None and (last.get("score_given"), last.get("score_maximum")) == (score, module.score_maximum):
        return 0
    when = utcnow()
    if last is not None and last.get("timestamp"):
        when = max(when, dt.datetime.fromisoformat(last["timestamp"]) + dt.timedelta(microseconds=1))
    outbox.enqueue(session, outbox.MODULE_RESULT, platform_id, {
        "module_id": module.id, "context_id": module.context_id, "learner_id": learner_id, "user_sub": sub,
        "score_given": score, "score_maximum": module.score_maximum, "met": met, "required": required,
        "timestamp": iso(when), "activity": "Completed" if met == required else "InProgress",
        "grading": "FullyGraded" if score is not None else "Pending"}, key)
    return 1


def last_payload(session: Session, ordering_key: str) -> dict[str, Any] | None:
    raw = session.execute(select(outbox.OutboxMessage.payload).where(
        outbox.OutboxMessage.ordering_key == ordering_key).order_by(outbox.OutboxMessage.id.desc()).limit(1)).scalar()
    return json.loads(raw) if raw else None


def _listener(session: Session, learner_id: int, context_id: int, results: list[CredentialResult]) -> None:
    enqueue_module_results(session, learner_id, context_id, results)


def install() -> None:
    """Register module results with the domain's re-evaluation (the domain imports nothing of ours); done by
    `Services`, so that no process that can write evidence misses it."""
    if _listener not in awarding.EVALUATION_LISTENERS:
        awarding.EVALUATION_LISTENERS.append(_listener)
