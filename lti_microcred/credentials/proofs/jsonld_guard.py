"""Finds what JSON-LD processing would silently lose, because a proof must cover everything a reader sees.

pyld drops a term no context defines, and RDF conversion drops a statement whose IRI is relative, without a
word; strict verifiers (jsonld.js "safe mode", used by Digital Bazaar and the DCC) reject such documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Final

# Catch-all vocabularies: a term expanded through one of these was not really defined by anyone.
CATCH_ALL_VOCABULARIES: Final = (
    "https://www.w3.org/ns/credentials/issuer-dependent#",
    "https://www.w3.org/ns/credentials/undefined-term#",
)
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:[^\s]*$")
_NODE_KEYWORDS_WITHOUT_LEAVES: Final = frozenset({"@index", "@language", "@direction"})
_MAX_NAMED: Final = 10  # findings named one by one; a hostile document could have thousands


def expansion_problems(document: Any, expanded: Any, dropped_terms: Sequence[str | None]) -> tuple[str, ...]:
    """Plain-language findings about what expansion of `document` (into `expanded`) lost or left unsafe."""
    dropped = list(dict.fromkeys(dropped_terms))
    paths = _first_paths(document) if dropped else {}
    problems = [_dropped_term_problem(term, paths) for term in dropped[:_MAX_NAMED]]
    if len(dropped) > _MAX_NAMED:
        problems.append(f"... and {len(dropped) - _MAX_NAMED} more undefined terms")
    kept, given = _expanded_leaves(expanded), _input_leaves(document)
    if kept < given and not problems:
        problems.append(
            f"JSON-LD expansion kept {kept} of the document's {given} values "
            "(look for empty objects, null identifiers or free-floating values)"
        )
    problems.extend(list(dict.fromkeys(_iri_problems(expanded)))[:_MAX_NAMED])
    return tuple(problems)


def _dropped_term_problem(term: str | None, paths: dict[str, str]) -> str:
    if term is None:
        keys = sorted(k for k in paths if k.startswith("@"))[:_MAX_NAMED]
        return f"the keyword-like key(s) {keys} are not JSON-LD keywords and would be dropped"
    return f"the term {term!r} (at {paths.get(term, '?')}) is not defined by any of the document's @context entries"


def _first_paths(document: Any) -> dict[str, str]:
    """Where each key first occurs, for messages (one walk, however many terms were dropped)."""
    paths: dict[str, str] = {}
    for key, path in _keys_with_paths(document):
        paths.setdefault(key, path)
    return paths


def _keys_with_paths(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                continue
            yield key, f"{path}.{key}"
            yield from _keys_with_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _keys_with_paths(item, f"{path}[{index}]")


def _input_leaves(value: Any) -> int:
    """Scalars in the document outside @context (a value object counts once)."""
    if isinstance(value, dict):
        if "@value" in value:
            return 0 if value["@value"] is None else 1
        return sum(_input_leaves(v) for k, v in value.items() if k != "@context")
    if isinstance(value, list):
        return sum(_input_leaves(v) for v in value)
    return 0 if value is None else 1


def _expanded_leaves(value: Any) -> int:
    """The same count over expanded JSON-LD, where identifiers and types are the scalars that survive."""
    if isinstance(value, list):
        return sum(_expanded_leaves(v) for v in value)
    if not isinstance(value, dict):
        return 1
    if "@value" in value:
        return _input_leaves(value["@value"]) if value.get("@type") == "@json" else 1
    total = 0
    for key, item in value.items():
        if key == "@id":
            total += 1
        elif key == "@type":
            total += len(item) if isinstance(item, list) else 1
        elif key not in _NODE_KEYWORDS_WITHOUT_LEAVES:
            total += _expanded_leaves(item)
    return total


def _iri_problems(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _iri_problems(item)
        return
    if not isinstance(value, dict):
        return
    if "@value" in value:
        datatype = value.get("@type")
        if datatype not in (None, "@json") and not _is_absolute(datatype):
            yield f"the datatype {datatype!r} is not an absolute IRI"
        return
    for key, item in value.items():
        if key in ("@id", "@type"):
            for iri in item if isinstance(item, list) else [item]:
                yield from _identifier_problem(iri, key)
        elif key.startswith("_:"):
            yield f"the property {key!r} is a blank node, which RDF does not allow as a predicate"
        else:
            yield from _catch_all_problem(key, "property")
            yield from _iri_problems(item)


def _identifier_problem(iri: Any, key: str) -> Iterator[str]:
    what = "identifier" if key == "@id" else "type"
    if not isinstance(iri, str) or not (iri.startswith("_:") or _is_absolute(iri)):
        yield f"the {what} {iri!r} is not an absolute IRI, so RDF (and the signature) would drop it"
    elif key == "@type":
        yield from _catch_all_problem(iri, "type")


def _catch_all_problem(iri: str, what: str) -> Iterator[str]:
    for vocabulary in CATCH_ALL_VOCABULARIES:
        if iri.startswith(vocabulary):
            term = iri[len(vocabulary) :]
            yield f"the {what} {term!r} is only caught by the catch-all vocabulary {vocabulary}"


def _is_absolute(iri: Any) -> bool:
    return isinstance(iri, str) and bool(_ABSOLUTE_IRI.match(iri))
