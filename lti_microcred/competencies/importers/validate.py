"""Checks every format shares, run on the whole parsed file before anything is written.

Over-long fields: identity fields (identifier, URI, code) are refused, because cutting them would merge
two competencies or break the URLs credentials align to; display fields (title, short name, version) are
cut with an ellipsis and a warning, since the full statement stays in the description; descriptions over
MAX_DESCRIPTION are refused, because a shortened learning outcome no longer says what was assessed.
"""

from __future__ import annotations

import re

from lti_microcred.competencies.importers.parsed import ParsedCompetency, ParsedFramework, ProblemList

MAX_IDENTIFIER = 255
MAX_URI = 2048
MAX_CODE = 100
MAX_NAME = 255
MAX_VERSION = 64
MAX_DESCRIPTION = 10_000
MAX_DEPTH = 32
MAX_COMPETENCIES = 20_000

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def shorten(text: str, limit: int = MAX_NAME) -> str:
    """Cut display text at a word boundary, marking the cut with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def validate(parsed: ParsedFramework, problems: ProblemList, max_competencies: int = MAX_COMPETENCIES) -> None:
    """Report every problem of the framework and its competencies; cut display fields that are too long."""
    _check_framework(parsed, problems)
    if len(parsed.competencies) > max_competencies:
        problems.add("file", f"The file has {len(parsed.competencies):,} competencies; the limit is "
                             f"{max_competencies:,}.")
        return
    for comp in parsed.competencies:
        _check_competency(parsed, comp, problems)
    known = _check_duplicates(parsed, problems)
    _check_parents(parsed, known, problems)
    check_hierarchy(parsed.competencies, known, problems)


def _check_framework(p: ParsedFramework, problems: ProblemList) -> None:
    _check_identifier(p.location, p.id_label, p.identifier, problems)
    _check_uri(p.location, p.uri, problems)
    _check_text(p.location, "description", p.description, problems)
    if not p.title.strip():
        problems.add(p.location, f"The framework's {p.title_label} is missing.")
    _check_chars(p.location, "title", p.title, problems)
    p.title = _fit(p, p.location, "title", p.title, MAX_NAME)
    if p.version:
        p.version = _fit(p, p.location, "version", p.version, MAX_VERSION)


def _check_competency(p: ParsedFramework, c: ParsedCompetency, problems: ProblemList) -> None:
    _check_identifier(c.location, p.id_label, c.identifier, problems)
    _check_uri(c.location, c.uri, problems)
    _check_text(c.location, "description", c.description, problems)
    if not c.short_name.strip():
        problems.add(c.location, f"The {p.name_label} is missing.")
    _check_chars(c.location, "name", c.short_name, problems)
    c.short_name = _fit(p, c.location, "name", c.short_name, MAX_NAME)
    if c.code is not None:
        _check_chars(c.location, "code", c.code, problems)
        if len(c.code) > MAX_CODE:
            problems.add(c.location, f"The code is {len(c.code)} characters long; the limit is {MAX_CODE}.")


def _check_identifier(location: str, label: str, value: str, problems: ProblemList) -> None:
    if not value:
        problems.add(location, f"The {label} is missing.")
    elif len(value) > MAX_IDENTIFIER:
        problems.add(location, f"The {label} is {len(value)} characters long; the limit is {MAX_IDENTIFIER}.")
    _check_chars(location, label, value, problems)


def _check_uri(location: str, value: str | None, problems: ProblemList) -> None:
    if value is None:
        return
    if len(value) > MAX_URI:
        problems.add(location, f"The URI is {len(value)} characters long; the limit is {MAX_URI}.")
    elif not _URI.match(value):
        problems.add(location, f"The URI {value[:80]!r} is not an absolute URI.")


def _check_text(location: str, label: str, value: str, problems: ProblemList) -> None:
    _check_chars(location, label, value, problems)
    if len(value) > MAX_DESCRIPTION:
        problems.add(location, f"The {label} is {len(value):,} characters long; the limit is {MAX_DESCRIPTION:,}.")


def _check_chars(location: str, label: str, value: str, problems: ProblemList) -> None:
    if _BAD_CHARS.search(value):
        problems.add(location, f"The {label} contains a NUL character or an unpaired surrogate (\\uD800-\\uDFFF).")


def _fit(p: ParsedFramework, location: str, label: str, value: str, limit: int) -> str:
    if len(value) <= limit:
        return value
    p.warnings.append(f"{location}: the {label} was cut to {limit} characters.")
    return shorten(value, limit)


def _check_duplicates(p: ParsedFramework, problems: ProblemList) -> dict[str, ParsedCompetency]:
    """Every identifier once: a second use is reported with where the first one is."""
    first: dict[str, ParsedCompetency] = {}
    for c in p.competencies:
        if not c.identifier:  # reported as missing already
            continue
        seen = first.setdefault(c.identifier, c)
        if seen is not c:
            problems.add(c.location, f"The {p.id_label} {c.identifier!r} is used more than once "
                                     f"({seen.position} and {c.position}).")
    return first


def _check_parents(p: ParsedFramework, known: dict[str, ParsedCompetency], problems: ProblemList) -> None:
    for c in p.competencies:
        if c.parent is not None and c.parent not in known:
            problems.add(c.location, f"Its parent {c.parent!r} is not a competency of this file.")


def check_hierarchy(comps: list[ParsedCompetency], known: dict[str, ParsedCompetency],
                    problems: ProblemList) -> None:
    """Find cycles (self-parent included) and over-deep branches in one linear pass."""
    depth: dict[str, int] = {}
    for start in comps:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start.identifier
        while node is not None and node not in depth and node in known:
            if node in on_path:
                cycle = path[path.index(node):]
                _report_cycle(known, cycle, problems)
                for member in cycle:
                    depth[member] = 0
                break
            path.append(node)
            on_path.add(node)
            node = known[node].parent
        base = depth.get(node, 0) if node is not None else 0
        for member in reversed(path):
            if member in depth:  # part of the cycle just reported
                continue
            base += 1
            depth[member] = base
            if base == MAX_DEPTH + 1:
                problems.add(known[member].location, f"The hierarchy is deeper than {MAX_DEPTH} levels here.")


def _report_cycle(known: dict[str, ParsedCompetency], cycle: list[str], problems: ProblemList) -> None:
    first = known[cycle[0]]
    if len(cycle) == 1:
        problems.add(first.location, "It is its own parent.")
        return
    chain = " → ".join(repr(i) for i in [*cycle[:10], cycle[0]])
    problems.add(first.location, f"The parents form a cycle: {chain}{' …' if len(cycle) > 10 else ''}.")
