"""RDFC-1.0 canonical N-Quads via pyld, bounded so a hostile document cannot hold a worker for minutes.

The bound is enforced in-thread, without signals or subprocesses (Flask workers may be threads, where
SIGALRM is unavailable, and a subprocess per proof would cost more than the proof): a byte and depth cap
before any processing, then a wall-clock deadline checked on every element pyld expands or adds to its node
map (quadratic in the values of one property) and every blank node it hashes, plus a work budget on
RDFC-1.0's "Hash N-Degree Quads" step, the super-polynomial part (it permutes blank nodes that look alike:
"poison graphs").
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver
from pyld.identifier_issuer import IdentifierIssuer
from pyld.jsonld import JsonLdError, JsonLdProcessor, _is_absolute_iri

from lti_microcred.credentials.contexts import document_loader
from lti_microcred.credentials.errors import (
    CanonicalizationTimeout,
    CredentialError,
    InputTooLargeError,
    UndefinedTermError,
)
from lti_microcred.credentials.proofs.jsonld_guard import expansion_problems


@dataclass(frozen=True)
class Limits:
    """How much canonicalization work one document may cost."""

    max_bytes: int = 1_000_000
    max_depth: int = 40
    seconds: float = 2.0
    max_deep_hashes: int = 2_000


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Deadline:
    """One wall-clock limit shared by every canonicalization of a larger task (all of one verification)."""

    at: float
    reason: str

    @classmethod
    def after(cls, seconds: float, reason: str) -> Deadline:
        """A deadline `seconds` from now; `reason` is the refusal a person reads once it has passed."""
        return cls(time.monotonic() + seconds, reason)

    @property
    def passed(self) -> bool:
        """Whether the time is up."""
        return time.monotonic() > self.at


@dataclass(frozen=True)
class Canonical:
    """Canonical N-Quads plus what JSON-LD processing lost on the way (empty for a sound document)."""

    nquads: str
    problems: tuple[str, ...]


class _Budget:
    def __init__(self, limits: Limits, shared: Deadline | None = None) -> None:
        self.limits = limits
        self.shared = shared
        self.deadline = time.monotonic() + limits.seconds
        self.deep_hashes = 0

    def tick(self) -> None:
        """Raise once this canonicalization's wall-clock budget, or the larger task's, is spent."""
        now = time.monotonic()
        if self.shared is not None and now > self.shared.at:
            raise CanonicalizationTimeout(self.shared.reason)
        if now > self.deadline:
            raise CanonicalizationTimeout(
                f"Canonicalization took longer than {self.limits.seconds:g} s; the document is refused."
            )

    def deep_hash(self) -> None:
        """Count one N-degree hash (the exponential step) against the work budget."""
        self.deep_hashes += 1
        if self.deep_hashes > self.limits.max_deep_hashes:
            raise CanonicalizationTimeout(
                "The document's blank nodes are too alike to canonicalize within budget "
                f"({self.limits.max_deep_hashes} deep hashes); the document is refused."
            )
        self.tick()


class _BoundedProcessor(JsonLdProcessor):
    def __init__(self, budget: _Budget) -> None:
        super().__init__(on_property_dropped=self._record_drop)
        self.budget = budget
        self.dropped: list[str | None] = []

    def _record_drop(self, expanded_property: str | None) -> None:
        self.dropped.append(expanded_property)

    def _expand(self, *args: Any, **kwargs: Any) -> Any:
        self.budget.tick()
        return super()._expand(*args, **kwargs)

    def _create_node_map(self, *args: Any, **kwargs: Any) -> Any:
        self.budget.tick()  # pyld de-duplicates each value by a linear scan: quadratic in a property's values
        return super()._create_node_map(*args, **kwargs)


class _BoundedRdfc(URDNA2015):
    def __init__(self, budget: _Budget) -> None:
        super().__init__()
        self.budget = budget

    def hash_first_degree_quads(self, id_: str) -> str:
        self.budget.tick()
        return str(super().hash_first_degree_quads(id_))

    def hash_n_degree_quads(self, id_: str, issuer: IdentifierIssuer) -> dict[str, Any]:
        self.budget.deep_hash()
        result: dict[str, Any] = super().hash_n_degree_quads(id_, issuer)
        return result


# Our own resolved-context caches: bounded (inline contexts of hostile input land here too), one per thread
# (pyld mutates cached contexts, and cachetools caches are not thread-safe), and never shared with another
# pyld user in the process that might fetch contexts from the network.
_per_thread = threading.local()


def _resolved_contexts() -> LRUCache[str, Any]:
    cache: LRUCache[str, Any] | None = getattr(_per_thread, "cache", None)
    if cache is None:
        cache = _per_thread.cache = LRUCache(maxsize=64)
    return cache


def canonicalize(document: dict[str, Any], *, limits: Limits = DEFAULT_LIMITS, strict: bool = True) -> str:
    """RDFC-1.0 N-Quads of a JSON-LD document; strict refuses one whose expansion lost anything."""
    result = canonicalize_with_report(document, limits=limits)
    if strict and result.problems:
        raise UndefinedTermError(result.problems)
    return result.nquads


def canonicalize_with_report(document: dict[str, Any], *, limits: Limits = DEFAULT_LIMITS,
                             deadline: Deadline | None = None) -> Canonical:
    """Canonical N-Quads and the expansion findings, for verifiers that report rather than refuse; a shared
    `deadline` (of a whole verification) may stop it before its own limit does."""
    check_size(document, limits)
    budget = _Budget(limits, deadline)
    budget.tick()
    processor = _BoundedProcessor(budget)
    options = _options()
    try:
        expanded = processor.expand(document, options)
        problems = expansion_problems(document, expanded, processor.dropped)
        dataset = _to_dataset(processor, expanded, options)
        nquads = _BoundedRdfc(budget).main(dataset, {"format": "application/n-quads"})
    except CredentialError:
        raise
    except JsonLdError as exc:
        raise _plain_error(exc) from exc
    except RecursionError as exc:
        raise InputTooLargeError("The document is nested or linked too deeply to canonicalize.") from exc
    except Exception as exc:  # pyld on hostile input may fail any way it likes: all mean "not JSON-LD we accept"
        raise CredentialError(f"The document is not valid JSON-LD: {exc}") from exc
    return Canonical(nquads=str(nquads), problems=problems)


def check_size(document: Any, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse documents beyond the byte and nesting caps before any JSON-LD work starts."""
    size = len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > limits.max_bytes:
        raise InputTooLargeError(f"The document is {size} bytes; at most {limits.max_bytes} are accepted.")
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limits.max_depth:
            raise InputTooLargeError(f"The document is nested deeper than {limits.max_depth} levels.")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)


def _options() -> dict[str, Any]:
    return {
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_resolved_contexts(), document_loader),
        "base": None,  # pyld resolves against http://example.org/base/ when given ""
        "processingMode": "json-ld-1.1",
        "produceGeneralizedRdf": False,
        "rdfDirection": None,
        "extractAllScripts": False,
    }


def _to_dataset(processor: _BoundedProcessor, expanded: Any, options: dict[str, Any]) -> dict[str, Any]:
    """pyld's toRdf minus its second expansion (the expanded form is already at hand)."""
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    processor._create_node_map(expanded, node_map, "@default", issuer)
    dataset: dict[str, Any] = {}
    for graph_name, graph in sorted(node_map.items()):
        if graph_name == "@default" or _is_absolute_iri(graph_name):  # as pyld's toRdf: relative names dropped
            dataset[graph_name] = processor._graph_to_rdf(graph, issuer, options)
    return dataset


def _plain_error(exc: JsonLdError) -> CredentialError:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, CredentialError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return CredentialError(f"The document is not valid JSON-LD: {exc.args[0] if exc.args else exc}")
