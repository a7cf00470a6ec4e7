"""Canonicalization: bundled contexts only, refusal of anything JSON-LD would silently drop, and a bound
that makes hostile documents fail fast instead of holding a worker for minutes."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lti_microcred.credentials.contexts import (
    MICROCRED_VOCAB,
    document_loader,
    extension_context_url,
    microcred_context_document,
)
from lti_microcred.credentials.errors import (
    CanonicalizationTimeout,
    InputTooLargeError,
    UndefinedTermError,
    UnknownContextError,
)
from lti_microcred.credentials.proofs.canonical import Limits, canonicalize, canonicalize_with_report
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer, sign


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the credentials package tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def poison_graph(nodes: int) -> dict[str, Any]:
    """Blank nodes all alike and all linked: RDFC-1.0's N-degree hashing permutes them (n! paths)."""
    graph = [{"@id": f"_:b{i}", "p": [f"_:b{j}" for j in range(nodes) if j != i]} for i in range(nodes)]
    return {"@context": {"p": {"@id": "http://example.org/p", "@type": "@id"}}, "@graph": graph}


def test_every_shape_canonicalizes_without_problems(shapes: dict[str, Callable[[], dict[str, Any]]]) -> None:
    for name, build in shapes.items():
        assert canonicalize_with_report(build()).problems == (), name


def test_an_undefined_term_is_refused_and_named(shapes: dict[str, Callable[[], dict[str, Any]]]) -> None:
    credential = shapes["minimal"]()
    credential["credentialSubject"]["achievement"]["creditValue"] = 5
    with pytest.raises(UndefinedTermError) as refused:
        canonicalize(credential)
    assert "'creditValue'" in str(refused.value)
    assert "$.credentialSubject.achievement.creditValue" in str(refused.value)


def test_our_terms_are_undefined_without_our_context(shapes: dict[str, Callable[[], dict[str, Any]]]) -> None:
    credential = shapes["eu-mandatory-only"]()
    credential["@context"].remove(extension_context_url())
    problems = canonicalize_with_report(credential).problems
    assert any("'ectsCredits'" in p for p in problems)
    assert any("'eqfLevel'" in p for p in problems)


def test_signing_refuses_a_document_that_would_lose_a_term(
    shapes: dict[str, Callable[[], dict[str, Any]]], signer: Ed25519Signer
) -> None:
    credential = shapes["minimal"]()
    credential["evidenceNote"] = "not in any context"
    with pytest.raises(UndefinedTermError, match="evidenceNote"):
        sign(credential, signer)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c.update({"@foo": "bar"}), "keyword-like"),
        (lambda c: c.update({"evidence": [{"id": "evidence-1", "type": ["Evidence"]}]}), "'evidence-1'"),
        (lambda c: c["credentialSubject"].update({"type": ["AchievementSubject", "Learner"]}), "'Learner'"),
        (
            lambda c: c.update(
                {
                    "credentialSchema": [
                        {"id": "https://purl.imsglobal.org/x.json", "type": "1EdTechJsonSchemaValidator2019"}
                    ]
                }
            ),
            "1EdTechJsonSchemaValidator2019",
        ),
    ],
    ids=["keyword-like-key", "relative-id", "undefined-type", "credentialSchema-1EdTech"],
)
def test_other_silent_losses_are_refused(
    shapes: dict[str, Callable[[], dict[str, Any]]], mutate: Callable[[dict[str, Any]], None], expected: str
) -> None:
    credential = shapes["minimal"]()
    mutate(credential)
    with pytest.raises(UndefinedTermError, match=expected):
        canonicalize(credential)


def test_contexts_are_only_ever_served_from_the_bundle(
    shapes: dict[str, Callable[[], dict[str, Any]]], no_network: None
) -> None:
    canonicalize(shapes["full"]())
    credential = shapes["minimal"]()
    credential["@context"].append("https://example.org/contexts/unknown.jsonld")
    with pytest.raises(UnknownContextError, match="not bundled"):
        canonicalize(credential)
    with pytest.raises(UnknownContextError):
        document_loader("https://www.w3.org/2018/credentials/v1")


def test_our_context_carries_the_configured_vocabulary() -> None:
    served = microcred_context_document()
    assert served["@context"]["mc"] == MICROCRED_VOCAB
    assert document_loader(extension_context_url())["document"] == served
    served["@context"]["mc"] = "changed"
    assert microcred_context_document()["@context"]["mc"] == MICROCRED_VOCAB  # callers get copies


def test_a_poison_graph_is_cut_off_by_the_work_budget() -> None:
    # This thread's CPU time, not the wall clock: what the budget bounds is work, whatever else the machine runs.
    started = time.thread_time()
    with pytest.raises(CanonicalizationTimeout, match="too alike"):
        canonicalize(poison_graph(10), limits=Limits(seconds=60))
    assert time.thread_time() - started < 2.0  # unbounded, pyld needs ~5 s for 7 nodes, ~10x per node more


def test_a_poison_graph_is_cut_off_by_the_clock() -> None:
    started = time.perf_counter()
    with pytest.raises(CanonicalizationTimeout, match=r"longer than 0\.3 s"):
        canonicalize(poison_graph(10), limits=Limits(seconds=0.3, max_deep_hashes=10**9))
    assert time.perf_counter() - started < 3.0  # the unbounded run takes minutes; room for a loaded machine


def test_a_small_ordinary_blank_node_group_still_canonicalizes() -> None:
    nquads = canonicalize(poison_graph(4))
    assert nquads.count("\n") == 12


def test_oversized_and_overdeep_documents_are_refused_before_work() -> None:
    huge = {"@context": {"p": "http://example.org/p"}, "p": "x" * 2_000_000}
    started = time.perf_counter()
    with pytest.raises(InputTooLargeError, match="bytes"):
        canonicalize(huge)
    deep: dict[str, Any] = {"@context": {"p": "http://example.org/p"}}
    node = deep
    for _ in range(200):
        node["p"] = {}
        node = node["p"]
    with pytest.raises(InputTooLargeError, match="deeper"):
        canonicalize(deep)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "document",
    [
        {"@id": "http://example.org/s", "http://example.org/v": [str(i) for i in range(60_000)]},
        {"@id": "http://example.org/s", "http://example.org/r": [{"http://example.org/v": "x"}] * 20_000},
    ],
    ids=["60k-values-of-one-property", "20k-identical-blank-nodes"],
)
def test_quadratic_corners_of_pyld_are_cut_off_by_the_clock(document: dict[str, Any]) -> None:
    started = time.perf_counter()
    with pytest.raises(CanonicalizationTimeout):
        canonicalize(document, limits=Limits(seconds=0.3))
    assert time.perf_counter() - started < 1.0  # unbounded: about 90 s for the blank nodes


def test_a_long_chain_of_alike_blank_nodes_is_refused_not_crashed() -> None:
    ring = [{"@id": f"_:b{i}", "http://example.org/next": {"@id": f"_:b{(i + 1) % 3000}"}} for i in range(3000)]
    with pytest.raises(InputTooLargeError, match="linked too deeply"):
        canonicalize({"@graph": ring})
