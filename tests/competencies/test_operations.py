"""Domain verbs against the real database: evidence, decisions, awards (once), revocation, audit, outbox."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.definitions import components_of
from lti_microcred.competencies.models import (
    Assessment,
    AttestationRequest,
    AuditEntry,
    Award,
    CompetencyProgress,
    Evidence,
    Requirement,
)
from lti_microcred.core.db import utcnow
from lti_microcred.core.outbox import OutboxMessage
from tests.support.factories import Institution, fields, institution


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """A published credential: competency 1 needs 70% on module 1; competency 2 needs 2 accepted pieces."""
    inst = institution(session)
    course = inst.course(session)
    teacher, learner = inst.person(session, "Teacher"), inst.person(session, "Learner")
    staff = inst.actor(teacher, course)
    credential = ops.create_micro_credential(session, staff, fields())
    module = ops.create_module(session, course.id, "Module 1", 100)
    c1, c2 = inst.competencies[0].id, inst.competencies[1].id
    ops.set_requirement(session, staff, credential, module, c1, "score", 70)
    ops.set_requirement(session, staff, credential, module, c2, "evidence_count", 2)
    ops.set_status(session, staff, credential, "published")
    return dict(inst=inst, course=course, teacher=teacher, learner=learner, staff=staff,
                me=inst.actor(learner, course, "learner"), credential=credential, module=module, c1=c1, c2=c2)


def count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def complete(session: Session, w: dict[str, Any]) -> list[Evidence]:
    ops.record_lms_score(session, w["staff"], w["learner"].id, w["module"].id, 80, 100)
    pieces = [ops.submit_evidence(session, w["me"], w["c2"], text=f"Piece {i}") for i in (1, 2)]
    for piece in pieces:
        ops.assess_evidence(session, w["staff"], piece, "accepted")
    return pieces  # type: ignore[return-value]


def test_evidence_accepted_completes_the_credential_once(session: Session, world: dict[str, Any]) -> None:
    pieces = complete(session, world)
    [award] = session.scalars(select(Award)).all()
    assert (award.status, award.basis, award.learner_id) == ("active", "rules", world["learner"].id)
    rests_on = json.loads(award.evidence_ids)["evidence"]
    assert {p.id for p in pieces} <= set(rests_on)
    kinds = [m.kind for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds == ["issue_credential", "award_passback"]  # publishing without evidence queued no re-evaluation
    # More evidence afterwards: still one award.
    ops.assess_evidence(session, world["staff"], ops.submit_evidence(session, world["me"], world["c2"], text="3"),
                        "accepted")
    assert count(session, Award) == 1


def test_progress_is_stored_per_competency(session: Session, world: dict[str, Any]) -> None:
    ops.record_lms_score(session, world["staff"], world["learner"].id, world["module"].id, 50, 100)
    rows = {r.competency_id: r for r in session.scalars(select(CompetencyProgress))}
    assert rows[world["c1"]].state == "in_progress" and rows[world["c1"]].met == 0
    assert rows[world["c2"]].state == "not_started"
    ops.record_lms_score(session, world["staff"], world["learner"].id, world["module"].id, 75, 100)
    session.expire_all()
    assert session.scalars(select(CompetencyProgress.state).where(
        CompetencyProgress.competency_id == world["c1"])).one() == "achieved"


def test_rejected_evidence_needs_a_comment_and_does_not_count(session: Session, world: dict[str, Any]) -> None:
    piece = ops.submit_evidence(session, world["me"], world["c2"], url="https://portfolio.example/1")
    with pytest.raises(ops.EvidenceError, match="why"):
        ops.assess_evidence(session, world["staff"], piece, "rejected")
    ops.assess_evidence(session, world["staff"], piece, "rejected", "The link shows someone else's work.")
    assert count(session, Award) == 0
    assert count(session, AuditEntry, AuditEntry.action == "evidence.rejected") == 1


def test_score_correction_supersedes_and_keeps_history(session: Session, world: dict[str, Any]) -> None:
    first = ops.record_lms_score(session, world["staff"], world["learner"].id, world["module"].id, 90, 100)
    assert ops.record_lms_score(session, world["staff"], world["learner"].id, world["module"].id, 90, 100) is None
    second = ops.record_lms_score(session, world["staff"], world["learner"].id, world["module"].id, 40, 100)
    assert first is not None and second is not None and second.supersedes_id == first.id
    assert count(session, Evidence, Evidence.kind == "lms_score") == 2


def test_revoke_needs_a_reason_and_is_recorded(session: Session, world: dict[str, Any]) -> None:
    complete(session, world)
    award = session.scalars(select(Award)).one()
    with pytest.raises(ops.AwardError, match="reason"):
        ops.revoke(session, world["staff"], award, "  ")
    ops.revoke(session, world["staff"], award, "Plagiarism found in the project.")
    assert (award.status, award.revoke_reason) == ("revoked", "Plagiarism found in the project.")
    kinds = [m.kind for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds[-2:] == ["revoke_credential", "award_passback"]
    assert json.loads(session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id.desc())).first()) == {
        "award_id": award.id, "status": "revoked"}
    with pytest.raises(ops.AwardError, match="not active"):
        ops.revoke(session, world["staff"], award, "again")


def pending_submission(session: Session, w: dict[str, Any]) -> None:
    ops.submit_evidence(session, w["me"], w["c2"], text="New work after the revocation")


def accepted_submission(session: Session, w: dict[str, Any]) -> None:
    ops.assess_evidence(session, w["staff"], ops.submit_evidence(session, w["me"], w["c2"], text="New work"),
                        "accepted")


def rejected_submission(session: Session, w: dict[str, Any]) -> None:
    ops.assess_evidence(session, w["staff"], ops.submit_evidence(session, w["me"], w["c2"], text="New work"),
                        "rejected", "Not the learner's own work.")


def accepted_on_an_unrelated_competency(session: Session, w: dict[str, Any]) -> None:
    c3 = w["inst"].competencies[2].id  # required by nothing in the course
    ops.assess_evidence(session, w["staff"], ops.submit_evidence(session, w["me"], c3, text="Other work"), "accepted")


def accepted_for_another_credentials_competency(session: Session, w: dict[str, Any]) -> None:
    c3 = w["inst"].competencies[2].id
    other = ops.create_micro_credential(session, w["staff"], fields(title="Another credential"))
    module = ops.create_module(session, w["course"].id, "Other module", 10)
    ops.set_requirement(session, w["staff"], other, module, c3, "evidence_count", 2)
    ops.set_status(session, w["staff"], other, "published")
    ops.assess_evidence(session, w["staff"], ops.submit_evidence(session, w["me"], c3, text="Other work"), "accepted")


def same_score_read_again(session: Session, w: dict[str, Any]) -> None:
    assert ops.record_lms_score(session, w["staff"], w["learner"].id, w["module"].id, 80, 100) is None


def new_passing_score(session: Session, w: dict[str, Any]) -> None:
    ops.record_lms_score(session, w["staff"], w["learner"].id, w["module"].id, 95, 100)


def accepted_prior_learning(session: Session, w: dict[str, Any]) -> None:
    claim = ops.claim_prior_learning(session, w["me"], w["c2"], "Two years cleaning survey data for a market "
                                                                "research company.")
    ops.assess_evidence(session, w["staff"], claim, "accepted")


def override_achieved(session: Session, w: dict[str, Any]) -> None:
    ops.override_competency(session, w["staff"], w["credential"], w["learner"].id, w["c2"], True,
                            "Re-assessed orally.")


def manual_award(session: Session, w: dict[str, Any]) -> None:
    ops.award_manually(session, w["staff"], w["credential"], w["learner"].id, "Re-assessed, confirmed.")


def nothing(session: Session, w: dict[str, Any]) -> None:
    """Only the re-evaluation of everyone that a change to the credential runs."""


@pytest.mark.parametrize("after_revocation, statuses", [
    (nothing, ["revoked"]),
    (pending_submission, ["revoked"]),
    (rejected_submission, ["revoked"]),
    (accepted_on_an_unrelated_competency, ["revoked"]),
    (accepted_for_another_credentials_competency, ["revoked"]),
    (same_score_read_again, ["revoked"]),
    (accepted_submission, ["revoked", "active"]),
    (new_passing_score, ["revoked", "active"]),
    (accepted_prior_learning, ["revoked", "active"]),
    (override_achieved, ["revoked", "active"]),
    (manual_award, ["revoked", "active"]),
])
def test_a_revoked_award_comes_back_only_with_evidence_decided_since(
        session: Session, world: dict[str, Any], after_revocation: Any, statuses: list[str]) -> None:
    """The evidence the award rested on still meets every requirement: only what happens next decides."""
    complete(session, world)
    ops.revoke(session, world["staff"], session.scalars(select(Award)).one(), "Granted by mistake.")
    after_revocation(session, world)
    ops.reevaluate_everyone(session, world["staff"], world["credential"])  # as after any change to it
    assert list(session.scalars(select(Award.status).where(Award.micro_credential_id == world["credential"].id)
                                .order_by(Award.id))) == statuses


class SameSession:
    """A sessionmaker stand-in that hands out the test's session (its writes in a savepoint), so a job's
    transactions stay inside the test's, which is rolled back."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        yield self.session

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self.session.begin_nested():
            yield self.session


def test_a_changed_requirement_counts_evidence_already_recorded(session: Session, world: dict[str, Any]) -> None:
    ops.record_lms_score(session, world["staff"], world["learner"].id, world["module"].id, 80, 100)
    piece = ops.submit_evidence(session, world["me"], world["c2"], text="One piece")
    ops.assess_evidence(session, world["staff"], piece, "accepted")
    assert count(session, Award) == 0  # two pieces required
    ops.set_requirement(session, world["staff"], world["credential"], world["module"], world["c2"],
                        "evidence_count", 1)
    assert count(session, Award) == 0  # queued for the worker, not done inside the instructor's request
    [job] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reevaluate_credential")
                            .order_by(OutboxMessage.id.desc()).limit(1))
    assert json.loads(job.payload)["actor"]["user_id"] == world["teacher"].id
    assert ops.reevaluate_in_batches(SameSession(session), job.data, batch_size=1) == 1  # type: ignore[arg-type]
    assert ops.reevaluate_in_batches(SameSession(session), job.data) == 0  # repeated delivery: still one award
    award = session.scalars(select(Award)).one()
    assert (award.learner_id, award.basis) == (world["learner"].id, "rules")
    ops.set_status(session, world["staff"], world["credential"], "archived")
    assert ops.reevaluate_in_batches(SameSession(session), job.data) == 0  # an archived credential is left alone


def test_manual_award_requires_a_reason_and_happens_once(session: Session, world: dict[str, Any]) -> None:
    with pytest.raises(ops.AwardError, match="reason"):
        ops.award_manually(session, world["staff"], world["credential"], world["learner"].id, "")
    ops.award_manually(session, world["staff"], world["credential"], world["learner"].id,
                       "Assessed in person at the employer's site.")
    with pytest.raises(ops.AwardError, match="already"):
        ops.award_manually(session, world["staff"], world["credential"], world["learner"].id, "twice")
    assert session.scalars(select(Award.basis)).one() == "manual"


def test_prior_learning_recognised_by_an_assessor(session: Session, world: dict[str, Any]) -> None:
    with pytest.raises(ops.EvidenceError, match="few sentences"):
        ops.claim_prior_learning(session, world["me"], world["c2"], "I did it")
    claim = ops.claim_prior_learning(session, world["me"], world["c2"],
                                     "Three years as a data analyst at a logistics firm, cleaning shipment data.")
    ops.assess_evidence(session, world["staff"], claim, "accepted", "Confirmed with the employer's letter.")
    state = session.scalars(select(CompetencyProgress.via).where(CompetencyProgress.competency_id == world["c2"])).one()
    assert state == "prior_learning"


def test_workplace_attestation_link_is_single_use(session: Session, world: dict[str, Any]) -> None:
    evidence, token = ops.request_attestation(session, world["me"], world["learner"].id, world["c2"],
                                              "Built the weekly sales dashboard.", "Sam Supervisor", "sam@work.example")
    ops.attest(session, token, confirmed=True, comment="Yes, Lea built it and presents it every Monday.")
    decision = session.scalars(select(AuditEntry).where(AuditEntry.action == "evidence.accepted")).one()
    assert "Sam Supervisor" in decision.actor_label and decision.actor_id is None
    with pytest.raises(ops.EvidenceError, match="already been used"):
        ops.attest(session, token, confirmed=True)
    with pytest.raises(ops.EvidenceError, match="not valid"):
        ops.attestation_for(session, "forged-token")
    assert evidence.supervisor_email == "sam@work.example"


def test_an_attestation_link_read_before_another_answer_is_refused(session: Session, world: dict[str, Any]) -> None:
    """The link is spent by a conditional update, not by what this request read earlier."""
    evidence, token = ops.request_attestation(session, world["me"], world["learner"].id, world["c2"],
                                              "Built the weekly sales dashboard.", "Sam", "sam@work.example")
    read, _ = ops.attestation_for(session, token)  # this request has read the link while it was unused
    session.execute(update(AttestationRequest).values(used_dt=utcnow())  # another answer is recorded meanwhile
                    .execution_options(synchronize_session=False))
    assert read.used_dt is None  # what this request still believes
    with pytest.raises(ops.LinkUsed, match="already been used"):
        ops.attest(session, token, confirmed=True)
    assert count(session, Assessment, Assessment.evidence_id == evidence.id) == 0


def test_expired_attestation_link(session: Session, world: dict[str, Any]) -> None:
    _, token = ops.request_attestation(session, world["me"], world["learner"].id, world["c2"], "Did it.",
                                       "Sam", "sam@work.example")
    request = session.scalars(select(AttestationRequest)).one()
    request.expires_dt = request.expires_dt - dt.timedelta(days=30)
    with pytest.raises(ops.EvidenceError, match="expired"):
        ops.attest(session, token, confirmed=True)


def test_override_with_reason(session: Session, world: dict[str, Any]) -> None:
    with pytest.raises(ops.EvidenceError, match="reason"):
        ops.override_competency(session, world["staff"], world["credential"], world["learner"].id, world["c1"],
                                True, "")
    ops.override_competency(session, world["staff"], world["credential"], world["learner"].id, world["c1"], True,
                            "Demonstrated in the oral exam.")
    assert session.scalars(select(CompetencyProgress.via).where(
        CompetencyProgress.competency_id == world["c1"])).one() == "override"


def test_missing_annex_i_elements_are_named(session: Session, world: dict[str, Any]) -> None:
    with pytest.raises(ops.DefinitionError) as caught:
        ops.create_micro_credential(session, world["staff"], fields(assessment_type="", country="Ireland",
                                                                   learning_outcomes=[], eqf_level=9))
    assert set(caught.value.problems) == {"assessment_type", "country", "learning_outcomes", "eqf_level"}


def test_course_and_tenant_scope_are_enforced(session: Session, world: dict[str, Any]) -> None:
    inst: Institution = world["inst"]
    other_course = inst.course(session, "Other")
    other_module = ops.create_module(session, other_course.id, "Elsewhere", 10)
    with pytest.raises(ops.EvidenceError, match="not part of this course"):
        ops.record_lms_score(session, world["staff"], world["learner"].id, other_module.id, 5, 10)
    foreign = institution(session)
    with pytest.raises(ops.EvidenceError, match="institution"):
        ops.submit_evidence(session, world["me"], foreign.competencies[0].id, text="x")
    piece = ops.submit_evidence(session, world["me"], world["c2"], text="mine")
    outsider = inst.actor(world["teacher"], other_course)
    with pytest.raises(ops.EvidenceError, match="not part of this course"):
        ops.assess_evidence(session, outsider, piece, "accepted")
    with pytest.raises(ops.DomainError, match="another course"):
        ops.set_status(session, outsider, world["credential"], "archived")
    with pytest.raises(ops.DomainError, match="another course"):
        ops.award_manually(session, outsider, world["credential"], world["learner"].id, "Because.")
    with pytest.raises(ops.EvidenceError, match="another course"):
        ops.override_competency(session, outsider, world["credential"], world["learner"].id, world["c2"], True,
                                "Because.")
    complete(session, world)
    with pytest.raises(ops.AwardError, match="another course"):
        ops.revoke(session, outsider, session.scalars(select(Award)).one(), "Because.")


def test_pathway_across_courses_k_of_n(session: Session, world: dict[str, Any]) -> None:
    inst: Institution = world["inst"]
    second_course = inst.course(session, "Second")
    staff2 = inst.actor(world["teacher"], second_course)
    other = ops.create_micro_credential(session, staff2, fields(title="Visualisation", ects_credits=3))
    module2 = ops.create_module(session, second_course.id, "Charts", 10)
    ops.set_requirement(session, staff2, other, module2, world["c3"] if "c3" in world else inst.competencies[2].id,
                        "score", 50)
    ops.set_status(session, staff2, other, "published")
    pathway = ops.create_micro_credential(session, world["staff"], fields(
        title="Certificate in Data", kind="pathway", pathway_rule="k_of_n", pathway_k=2, ects_credits=5))
    ops.set_pathway_components(session, world["staff"], pathway, [world["credential"].id, other.id])
    ops.set_status(session, world["staff"], pathway, "published")
    complete(session, world)
    assert count(session, Award, Award.micro_credential_id == pathway.id) == 0  # 1 of 2
    ops.record_lms_score(session, staff2, world["learner"].id, module2.id, 8, 10)
    pathway_award = session.scalars(select(Award).where(Award.micro_credential_id == pathway.id)).one()
    assert json.loads(pathway_award.evidence_ids)["components"] == sorted([world["credential"].id, other.id])


def test_a_pathway_published_after_its_components_were_earned_awards_and_cascades(session: Session,
                                                                                  world: dict[str, Any]) -> None:
    complete(session, world)  # the component is held before any pathway exists
    inner = ops.create_micro_credential(session, world["staff"], fields(title="Certificate", kind="pathway",
                                                                        pathway_rule="all"))
    outer = ops.create_micro_credential(session, world["staff"], fields(title="Diploma", kind="pathway",
                                                                        pathway_rule="all"))
    ops.set_pathway_components(session, world["staff"], inner, [world["credential"].id])
    ops.set_pathway_components(session, world["staff"], outer, [inner.id])
    ops.set_status(session, world["staff"], outer, "published")
    ops.set_status(session, world["staff"], inner, "published")  # the re-evaluation of everyone runs as a job
    assert ops.reevaluate_everyone(session, world["staff"], inner) == 1
    inner_award = session.scalars(select(Award).where(Award.micro_credential_id == inner.id)).one()
    assert json.loads(inner_award.evidence_ids)["components"] == [world["credential"].id]
    assert count(session, Award, Award.micro_credential_id == outer.id, Award.status == "active") == 1


def test_a_revoked_pathway_award_is_not_granted_again_by_the_same_components(session: Session,
                                                                            world: dict[str, Any]) -> None:
    pathway = ops.create_micro_credential(session, world["staff"], fields(
        title="Certificate in Data", kind="pathway", pathway_rule="all", ects_credits=5))
    ops.set_pathway_components(session, world["staff"], pathway, [world["credential"].id])
    ops.set_status(session, world["staff"], pathway, "published")
    complete(session, world)
    award = session.scalars(select(Award).where(Award.micro_credential_id == pathway.id)).one()
    ops.revoke(session, world["staff"], award, "Awarded in error.")
    assert ops.reevaluate_everyone(session, world["staff"], pathway) == 0
    active = Award.micro_credential_id == pathway.id, Award.status == "active"
    assert count(session, Award, *active) == 0
    component = session.scalars(select(Award).where(Award.micro_credential_id == world["credential"].id)).one()
    ops.revoke(session, world["staff"], component, "Re-assessed.")
    ops.award_manually(session, world["staff"], world["credential"], world["learner"].id, "Re-assessed, confirmed.")
    assert count(session, Award, *active) == 1  # a component awarded since the revocation grants it again


def test_pathway_components_from_another_institution_are_refused(session: Session, world: dict[str, Any]) -> None:
    foreign = institution(session)
    foreign_course = foreign.course(session)
    theirs = ops.create_micro_credential(session, foreign.actor(foreign.person(session, "T"), foreign_course),
                                         fields())
    pathway = ops.create_micro_credential(session, world["staff"], fields(kind="pathway", pathway_rule="all"))
    with pytest.raises(ops.DomainError, match="institution"):
        ops.set_pathway_components(session, world["staff"], pathway, [theirs.id])


def test_a_module_of_another_credential_is_refused_and_its_requirement_kept(session: Session,
                                                                           world: dict[str, Any]) -> None:
    other = ops.create_micro_credential(session, world["staff"], fields(title="Another credential"))
    with pytest.raises(ops.DomainError, match="belongs to the micro-credential “Data Analysis Essentials”"):
        ops.set_requirement(session, world["staff"], other, world["module"], world["c1"], "score", 50)
    with pytest.raises(ops.DomainError, match="belongs to the micro-credential “Data Analysis Essentials”"):
        ops.attach_module(session, world["staff"], other, world["module"])
    kept = session.scalars(select(Requirement).where(Requirement.module_id == world["module"].id)
                           .order_by(Requirement.id)).all()
    mine = world["credential"].id
    assert [(r.micro_credential_id, r.competency_id, r.kind, r.min_percent) for r in kept] == [
        (mine, world["c1"], "score", 70), (mine, world["c2"], "evidence_count", None)]
    assert world["module"].micro_credential_id == world["credential"].id
    spare = ops.create_module(session, world["course"].id, "Not yet used", 10)  # a module of no credential is free
    ops.set_requirement(session, world["staff"], other, spare, world["c1"], "score", 50)
    assert spare.micro_credential_id == other.id


def test_the_database_refuses_a_second_active_award(session: Session, world: dict[str, Any]) -> None:
    """The partial unique index uq_awards_active, not only the code, keeps one active award per learner."""
    def award(status: str) -> Award:
        return Award(key=secrets.token_hex(12), platform_id=world["inst"].platform.id, status=status,
                     micro_credential_id=world["credential"].id, learner_id=world["learner"].id, basis="manual",
                     reason="Inserted directly.")

    session.add_all([award("revoked"), award("revoked"), award("active")])  # revoked rows beside one active: fine
    session.flush()
    with pytest.raises(IntegrityError, match=r"(?i)unique"), session.begin_nested():
        session.add(award("active"))
        session.flush()
    assert count(session, Award, Award.status == "active") == 1


@pytest.mark.parametrize("rule, needed, problem", [
    (dict(pathway_rule="k_of_n", pathway_k=3), "pathway_k", "3 components are required but the pathway has 2"),
    (dict(pathway_rule="credits", pathway_credits=4.5), "pathway_credits",
     "4.5 ECTS credits are required but its components give 4 together"),
])
def test_a_pathway_that_could_never_be_earned_is_refused(session: Session, world: dict[str, Any], rule: dict[str, Any],
                                                         needed: str, problem: str) -> None:
    second = ops.create_micro_credential(session, world["staff"], fields(title="Second", ects_credits=2))
    pair = [world["credential"].id, second.id]  # 2 components of 2 ECTS credits each
    pathway = ops.create_micro_credential(session, world["staff"], fields(title="Pathway", kind="pathway", **rule))
    with pytest.raises(ops.DomainError, match=problem):
        ops.set_pathway_components(session, world["staff"], pathway, pair)
    assert components_of(session, pathway.id) == []
    feasible = {**rule, needed: 2 if needed == "pathway_k" else 4.0}
    ops.update_micro_credential(session, world["staff"], pathway, fields(title="Pathway", kind="pathway", **feasible))
    ops.set_pathway_components(session, world["staff"], pathway, pair)
    with pytest.raises(ops.DefinitionError) as caught:  # asking for more once the components are chosen
        ops.update_micro_credential(session, world["staff"], pathway, fields(title="Pathway", kind="pathway", **rule))
    assert caught.value.problems[needed].startswith(problem)
    session.refresh(pathway)
    assert (pathway.pathway_k, pathway.pathway_credits) == (feasible.get("pathway_k"), feasible.get("pathway_credits"))


def test_a_pathway_whose_components_lost_credits_is_not_published(session: Session, world: dict[str, Any]) -> None:
    second = ops.create_micro_credential(session, world["staff"], fields(title="Second", ects_credits=2))
    pathway = ops.create_micro_credential(session, world["staff"], fields(
        title="Pathway", kind="pathway", pathway_rule="credits", pathway_credits=4))
    ops.set_pathway_components(session, world["staff"], pathway, [world["credential"].id, second.id])
    ops.update_micro_credential(session, world["staff"], second, fields(title="Second", ects_credits=1))
    with pytest.raises(ops.DomainError, match="4 ECTS credits are required but its components give 3 together"):
        ops.set_status(session, world["staff"], pathway, "published")
    assert pathway.status == "draft"
