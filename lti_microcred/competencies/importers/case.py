"""1EdTech CASE 1.1 JSON package (CFPackage): CFDocument, CFItems, CFAssociations, optional CFDefinitions.

Hierarchy comes from `isChildOf` associations (origin = child, destination = parent; a destination that is
the CFDocument means top level); their `sequenceNumber` orders siblings. Other association types
(isRelatedTo, exactMatchOf, precedes…) and CFDefinitions are not stored. An item with several different
parents (allowed by CASE, not by our tree) keeps the first one in file order, with a warning.
Spec: https://www.imsglobal.org/spec/case/v1p1 (CFPackage, CFItem, CFAssociation data models).
"""

from __future__ import annotations

import json
import re
from typing import Any

from lti_microcred.competencies.importers.decode import CASE
from lti_microcred.competencies.importers.parsed import ParsedCompetency, ParsedFramework, ProblemList
from lti_microcred.competencies.importers.validate import MAX_COMPETENCIES, shorten

CHILD_OF = "isChildOf"
INT32 = 2**31 - 1
_INTEGER = re.compile(r"-?[0-9]{1,10}")


def parse_case(text: str, problems: ProblemList, max_competencies: int = MAX_COMPETENCIES) -> ParsedFramework | None:
    """Read a CASE package; returns None when its shape is too broken to read further."""
    package = _load(text, problems)
    if package is None:
        return None
    items, associations = package.get("CFItems", []), package.get("CFAssociations", [])
    if not isinstance(items, list) or not isinstance(associations, list):
        problems.add("file", "CFItems and CFAssociations must be lists.")
        return None
    if len(items) > max_competencies:
        problems.add("file", f"The package has {len(items):,} CFItems; the limit is {max_competencies:,}.")
        return None
    if len(associations) > 10 * max_competencies:
        problems.add("file", f"The package has {len(associations):,} CFAssociations; the limit is "
                             f"{10 * max_competencies:,}.")
        return None
    framework = _document(package["CFDocument"], problems)
    if framework is None:
        return None
    framework.competencies = [c for i, raw in enumerate(items) if (c := _item(i, raw, problems)) is not None]
    _link_parents(framework, associations, problems)
    return framework


def _load(text: str, problems: ProblemList) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.add(f"line {exc.lineno}, column {exc.colno}", f"The file is not valid JSON ({exc.msg}).")
        return None
    except (ValueError, RecursionError) as exc:  # numbers over Python's digit limit, absurd nesting
        problems.add("file", f"The file is not a JSON document we can read ({type(exc).__name__}).")
        return None
    if isinstance(data, dict) and isinstance(data.get("CFPackage"), dict):
        data = data["CFPackage"]  # some CASE servers wrap the package
    if not isinstance(data, dict) or not isinstance(data.get("CFDocument"), dict):
        problems.add("file", "This is not a CASE package: the top level needs a CFDocument object, "
                             "with CFItems and CFAssociations lists.")
        return None
    return data


def _text(obj: dict[str, Any], key: str, location: str, problems: ProblemList) -> str | None:
    """An optional string field: None when absent, null or blank; a problem when of another type."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(location, f"{key} must be a string, not {type(value).__name__}.")
        return None
    return value.strip() or None


def _document(raw: dict[str, Any], problems: ProblemList) -> ParsedFramework | None:
    location = "CFDocument"
    identifier = _text(raw, "identifier", location, problems)
    if identifier is None:
        problems.add(location, "The CFDocument has no identifier.")
        return None
    location = f"CFDocument {identifier}"
    return ParsedFramework(
        source=CASE, identifier=identifier, title=_text(raw, "title", location, problems) or "", location=location,
        id_label="identifier", title_label="title", name_label="fullStatement",
        description=_text(raw, "description", location, problems) or "",
        uri=_text(raw, "uri", location, problems), version=_text(raw, "version", location, problems),
    )


def _item(index: int, raw: Any, problems: ProblemList) -> ParsedCompetency | None:
    position = f"CFItems[{index}]"
    if not isinstance(raw, dict):
        problems.add(position, "A CFItem must be an object.")
        return None
    identifier = _text(raw, "identifier", position, problems)
    if identifier is None:
        problems.add(position, "The CFItem has no identifier.")
        return None
    location = f"CFItem {identifier}"
    statement = _text(raw, "fullStatement", location, problems) or ""
    abbreviated = _text(raw, "abbreviatedStatement", location, problems)
    return ParsedCompetency(
        # no fullStatement (required by CASE) leaves the name empty, which validation reports
        identifier=identifier, short_name=(abbreviated or shorten(statement)) if statement else "",
        description=statement,
        uri=_text(raw, "uri", location, problems), code=_text(raw, "humanCodingScheme", location, problems),
        sort_order=index + 1, location=location, position=position,
    )


def _node_id(assoc: dict[str, Any], key: str, location: str, problems: ProblemList) -> str | None:
    node = assoc.get(key)
    value = node.get("identifier") if isinstance(node, dict) else None
    if not isinstance(value, str) or not value.strip():
        problems.add(location, f"{key} needs an identifier.")
        return None
    return value.strip()


def _link_parents(framework: ParsedFramework, associations: list[Any], problems: ProblemList) -> None:
    """Set each item's parent and order from its first isChildOf association."""
    items = {c.identifier: c for c in framework.competencies}
    linked: dict[str, str] = {}  # child identifier -> association that placed it
    for index, assoc in enumerate(associations):
        if not isinstance(assoc, dict) or assoc.get("associationType") != CHILD_OF:
            continue
        identifier = assoc.get("identifier")
        location = f"CFAssociation {identifier}" if isinstance(identifier, str) else f"CFAssociations[{index}]"
        origin = _node_id(assoc, "originNodeURI", location, problems)
        destination = _node_id(assoc, "destinationNodeURI", location, problems)
        sequence = _sequence(assoc.get("sequenceNumber"), location, problems)
        if origin is None or destination is None:
            continue
        child = items.get(origin)
        if child is None:
            problems.add(location, f"Its origin {origin!r} is not a CFItem of this package.")
            continue
        parent = None if destination == framework.identifier else destination
        if origin in linked:
            if parent != child.parent:
                framework.warnings.append(f"{child.location}: has more than one parent; kept the one of "
                                          f"{linked[origin]}, ignored {location}.")
            continue
        linked[origin] = location
        child.parent = parent
        if sequence is not None:
            child.sort_order = sequence


def _sequence(value: Any, location: str, problems: ProblemList) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not -INT32 <= value <= INT32:
        problems.add(location, f"sequenceNumber must be an integer, not {str(value)[:20]!r}.")
        return None
    return value
