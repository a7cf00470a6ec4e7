"""The rules evaluator, table-driven: every requirement kind, prior learning, overrides, supersession,
pathways (all, k of n, credits), and a property: the order evidence arrives in never changes the result."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lti_microcred.competencies.rule_inputs import fact_of
from lti_microcred.competencies.rules import (
    ACHIEVED,
    EVIDENCE_COUNT,
    IN_PROGRESS,
    NOT_STARTED,
    RUBRIC,
    SCORE,
    CredentialSpec,
    Fact,
    PathwaySpec,
    RequirementSpec,
    counting_evidence,
    effective,
    evaluate,
    evaluate_pathway,
)

C1, C2 = 101, 102
M1, M2 = 11, 12
SPEC = CredentialSpec(1, (C1, C2), (
    RequirementSpec(1, C1, M1, SCORE, min_percent=70),
    RequirementSpec(2, C1, M1, RUBRIC, min_level=3),
    RequirementSpec(3, C2, M2, EVIDENCE_COUNT, min_count=2),
))


def score(id_: int, ratio: float, supersedes: int | None = None) -> Fact:
    return Fact(id_, "lms_score", module_id=M1, score_ratio=ratio, supersedes=supersedes)


def rubric(id_: int, level: int, competency: int = C1) -> Fact:
    return Fact(id_, "rubric", competency_id=competency, rubric_level=level)


def piece(id_: int, accepted: bool | None = True, kind: str = "submission", competency: int = C2) -> Fact:
    return Fact(id_, kind, competency_id=competency, accepted=accepted)


@pytest.mark.parametrize("facts, c1_state, c2_state, earned", [
    ([], NOT_STARTED, NOT_STARTED, False),
    ([score(1, 0.69)], IN_PROGRESS, NOT_STARTED, False),  # 69% < 70%
    ([score(1, 0.70), rubric(2, 3)], ACHIEVED, NOT_STARTED, False),  # exactly at thresholds
    ([score(1, 0.95), rubric(2, 2)], IN_PROGRESS, NOT_STARTED, False),  # Developing < Proficient
    ([score(1, 0.95), rubric(2, 4), piece(3), piece(4)], ACHIEVED, ACHIEVED, True),
    ([score(1, 0.95), rubric(2, 4), piece(3), piece(4, accepted=None)], ACHIEVED, IN_PROGRESS, False),  # pending
    ([score(1, 0.95), rubric(2, 4), piece(3), piece(4, accepted=False)], ACHIEVED, IN_PROGRESS, False),  # rejected
    ([score(1, 0.95), rubric(2, 4), piece(3), piece(4, kind="workplace")], ACHIEVED, ACHIEVED, True),
    ([score(1, 0.95), rubric(2, 4), piece(3), piece(4, None, "prior_learning")], ACHIEVED, IN_PROGRESS, False),
])
def test_requirement_kinds(facts: list[Fact], c1_state: str, c2_state: str, earned: bool) -> None:
    result = evaluate(SPEC, facts)
    assert (result.competency(C1).state, result.competency(C2).state, result.earned) == (c1_state, c2_state, earned)


@pytest.mark.parametrize("facts, counted", [
    ([score(1, 0.80)], {1}),
    ([score(1, 0.50)], set()),  # below the 70% asked
    ([score(1, 0.90), score(2, 0.80, supersedes=1)], {2}),  # a corrected score: only the correction
    ([Fact(1, "lms_score", module_id=M2, score_ratio=1.0)], set()),  # no score requirement on that module
    ([rubric(1, 3)], {1}),
    ([rubric(1, 2)], set()),  # Developing < Proficient
    ([piece(1)], {1}),
    ([piece(1, kind="workplace")], {1}),
    ([piece(1, accepted=None)], set()),  # waiting for an assessor
    ([piece(1, accepted=False)], set()),  # rejected
    ([piece(1, competency=999)], set()),  # a competency the credential does not ask for
    ([piece(1, kind="prior_learning")], {1}),
    ([piece(1, accepted=None, kind="prior_learning")], set()),
    ([Fact(1, "override", competency_id=C2, achieved=True)], {1}),
    ([Fact(1, "override", competency_id=C2, achieved=False)], set()),
    ([Fact(1, "override", competency_id=C2, achieved=True),
      Fact(2, "override", competency_id=C2, achieved=False, supersedes=1)], set()),
    ([Fact(1, "override", competency_id=999, achieved=True)], set()),
])
def test_evidence_that_counts_for_the_credential(facts: list[Fact], counted: set[int]) -> None:
    """What may bring back a revoked award, when it was decided after the revocation."""
    assert counting_evidence(SPEC, facts) == counted


def test_accepted_submission_with_a_rubric_level_counts_for_both() -> None:
    judged = Fact(5, "submission", competency_id=C1, accepted=True, rubric_level=3)
    result = evaluate(SPEC, [score(1, 0.8), judged])
    assert result.competency(C1).state == ACHIEVED


def test_prior_learning_recognised_achieves_the_competency() -> None:
    result = evaluate(SPEC, [piece(1, kind="prior_learning", competency=C2)])
    assert result.competency(C2).state == ACHIEVED and result.competency(C2).via == "prior_learning"
    assert evaluate(SPEC, [piece(1, accepted=None, kind="prior_learning")]).competency(C2).state != ACHIEVED


def test_override_wins_either_way() -> None:
    granted = Fact(9, "override", competency_id=C2, achieved=True)
    assert evaluate(SPEC, [granted]).competency(C2).via == "override"
    withdrawn = Fact(10, "override", competency_id=C2, achieved=False, supersedes=9)
    full = [score(1, 1.0), rubric(2, 4), piece(3), piece(4)]
    assert evaluate(SPEC, [*full, granted, withdrawn]).competency(C2).state == IN_PROGRESS


def test_supersession_keeps_history_but_counts_the_correction() -> None:
    corrected = [score(1, 0.95), score(2, 0.40, supersedes=1), rubric(3, 4)]
    assert [f.id for f in effective(corrected)] == [2, 3]
    assert evaluate(SPEC, corrected).competency(C1).state == IN_PROGRESS
    fork = [score(1, 0.5), score(2, 0.9, supersedes=1), score(3, 0.6, supersedes=1), rubric(4, 4)]
    assert evaluate(SPEC, fork).competency(C1).state == ACHIEVED  # both corrections live: the best counts


def test_award_rests_on_the_evidence_that_met_the_requirements() -> None:
    facts = [score(1, 0.5), score(2, 0.9, supersedes=1), rubric(3, 4), piece(4), piece(5), piece(6)]
    assert evaluate(SPEC, facts).evidence_ids == (2, 3, 4, 5)


def test_credential_without_requirements_is_never_earned() -> None:
    assert not evaluate(CredentialSpec(2, (), ()), [score(1, 1.0)]).earned


@pytest.mark.parametrize("rule, k, credits, earned, expected", [
    ("all", None, None, {1, 2, 3}, True),
    ("all", None, None, {1, 2}, False),
    ("k_of_n", 2, None, {1, 3}, True),
    ("k_of_n", 2, None, {3}, False),
    ("credits", None, 10.0, {1, 2}, True),  # 5 + 5
    ("credits", None, 10.0, {1}, False),
    ("credits", None, 10.0, {3}, True),  # 10 alone
    ("all", None, None, {1, 2, 3, 99}, True),  # unrelated awards do not matter
])
def test_pathway_rules(rule: str, k: int | None, credits: float | None, earned: set[int], expected: bool) -> None:
    spec = PathwaySpec(50, rule, k, credits, ((1, 5.0), (2, 5.0), (3, 10.0)))
    assert evaluate_pathway(spec, earned) is expected


def test_empty_pathway_is_never_earned() -> None:
    assert not evaluate_pathway(PathwaySpec(50, "all", None, None, ()), {1})


FACT = st.builds(
    Fact,
    id=st.integers(1, 40),
    kind=st.sampled_from(["lms_score", "rubric", "submission", "workplace", "prior_learning", "override"]),
    module_id=st.sampled_from([M1, M2, None]),
    competency_id=st.sampled_from([C1, C2, None]),
    score_ratio=st.one_of(st.none(), st.floats(0, 1)),
    rubric_level=st.one_of(st.none(), st.integers(1, 4)),
    accepted=st.sampled_from([True, False, None]),
    achieved=st.sampled_from([True, False, None]),
    supersedes=st.one_of(st.none(), st.integers(1, 40)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(FACT, max_size=25, unique_by=lambda f: f.id), st.randoms())
def test_order_of_evidence_never_changes_the_result(facts: list[Fact], rnd) -> None:
    shuffled = list(facts)
    rnd.shuffle(shuffled)
    assert evaluate(SPEC, facts) == evaluate(SPEC, shuffled)


@pytest.mark.parametrize(("kind", "decision", "decided_level", "accepted", "level"), [
    ("submission", None, None, None, None),          # waiting for an assessor
    ("submission", "rejected", None, False, None),
    ("workplace", "accepted", 3, True, 3),           # the assessor's level, not the record's
    ("rubric", "rejected", 1, True, 4),              # staff judgements need no decision: any is ignored
    ("lms_score", None, None, True, 4),
])
def test_a_record_and_its_latest_decision_become_one_fact(kind: str, decision: str | None, decided_level: int | None,
                                                         accepted: bool | None, level: int | None) -> None:
    fact = fact_of(7, kind, 2, 3, 8.0, 10.0, 4, None, None, decision, decided_level)
    assert (fact.accepted, fact.rubric_level, fact.score_ratio) == (accepted, level, 0.8)
