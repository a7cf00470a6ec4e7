"""Re-evaluating everyone a credential change concerns: an outbox job, run in short batches off the request."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.awarding import grant_pathway_if_earned, lock_learner, reevaluate
from lti_microcred.competencies.models import Award, Evidence, MicroCredential, PathwayComponent
from lti_microcred.competencies.rule_inputs import credential_spec, pathway_spec
from lti_microcred.core import outbox


def reevaluate_everyone(session: Session, actor: Actor, credential: MicroCredential) -> int:
    """Every learner concerned, evaluated again in one transaction (small courses, tests). Returns how many
    awards this granted. Courses of any size go through `REEVALUATE_CREDENTIAL` and `reevaluate_in_batches`."""
    return reevaluate_learners(session, actor, credential, learners_concerned(session, credential))


def learners_concerned(session: Session, credential: MicroCredential) -> list[int]:
    """Who a change to the credential may affect: learners with evidence in its course or, for a pathway,
    with active awards of its components."""
    return sorted(session.execute(_concerned(credential).distinct()).scalars())


def _concerned(credential: MicroCredential) -> Select[int]:
    if credential.kind == "pathway":
        return (select(Award.learner_id)
                .join(PathwayComponent, PathwayComponent.component_id == Award.micro_credential_id)
                .where(PathwayComponent.pathway_id == credential.id, Award.status == "active"))
    return select(Evidence.learner_id).where(Evidence.context_id == credential.context_id)


def reevaluate_learners(session: Session, actor: Actor, credential: MicroCredential, learner_ids: Iterable[int]) -> int:
    """Evaluate the credential again for these learners (awarding those now complete); how many awards."""
    granted = 0
    if credential.kind == "pathway":
        spec = pathway_spec(session, credential.id)
        for learner_id in learner_ids:
            lock_learner(session, learner_id)
            granted += grant_pathway_if_earned(session, actor, learner_id, spec) is not None
        return granted
    specs = {credential.id: credential_spec(session, credential.id)}
    for learner_id in learner_ids:
        lock_learner(session, learner_id)
        granted += sum(e.award is not None for e in reevaluate(session, actor, learner_id, credential.context_id,
                                                                [credential.id], specs))
    return granted


def request_reevaluation(session: Session, actor: Actor, credential: MicroCredential) -> None:
    """Queue everyone's re-evaluation after the credential changed, in the caller's transaction: a worker runs
    it in batches, so publishing in a course of thousands answers at once and never holds the database.
    Nothing is queued when nobody could be concerned (a new credential in a course without evidence)."""
    if session.execute(select(_concerned(credential).exists())).scalar():
        outbox.enqueue(session, outbox.REEVALUATE_CREDENTIAL, credential.platform_id,
                       {"credential_id": credential.id, "actor": asdict(actor)}, f"reevaluate:{credential.id}")


def reevaluation_pending(session: Session, credential_id: int) -> bool:
    """Whether a change's re-evaluation of everyone is still queued (instructors are told it is under way)."""
    return session.execute(select(
        select(outbox.OutboxMessage.id).where(outbox.OutboxMessage.ordering_key == f"reevaluate:{credential_id}",
                                              outbox.OutboxMessage.status == "pending").exists())).scalar_one()


def reevaluate_in_batches(sessions: sessionmaker[Session], data: dict[str, Any], batch_size: int = 25) -> int:
    """The REEVALUATE_CREDENTIAL job: one short transaction per batch of learners, with the credential as it
    is now (a credential unpublished since is left alone). Safe to repeat: awards happen once."""
    actor = Actor(**data["actor"])
    with sessions() as session:
        credential = session.get(MicroCredential, int(data["credential_id"]))
        if credential is None or credential.status != "published":
            return 0
        learners = learners_concerned(session, credential)
    granted = 0
    for start in range(0, len(learners), batch_size):
        with sessions.begin() as session:
            credential = session.get(MicroCredential, int(data["credential_id"]))
            if credential is None or credential.status != "published":
                return granted
            granted += reevaluate_learners(session, actor, credential, learners[start:start + batch_size])
    return granted
