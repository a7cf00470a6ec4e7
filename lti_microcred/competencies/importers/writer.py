"""Writes a validated framework in the caller's transaction: a few bulk statements, ids kept.

Rows are matched by identifier, so a re-import updates in place and every competency keeps its id (and
with it the requirements and evidence that point at it). Competencies missing from the new file are kept
and reported, never deleted: deleting would cascade to the requirements of published micro-credentials.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_microcred.competencies.importers.parsed import ImportReport, ParsedCompetency, ParsedFramework
from lti_microcred.competencies.models import Competency, Framework
from lti_microcred.core.db import dialect_insert, utcnow

COMPARED = ("uri", "code", "short_name", "description", "parent_id", "sort_order")


def write_framework(session: Session, platform_id: int, parsed: ParsedFramework) -> ImportReport:
    """Create or update the framework and its competencies; flushes, the caller commits."""
    framework, created = _upsert_framework(session, platform_id, parsed)
    existing = _existing(session, framework.id)
    _insert_new(session, framework.id, [c for c in parsed.competencies if c.identifier not in existing])
    ids: dict[str, int] = {identifier: id_ for identifier, id_ in session.execute(
        select(Competency.identifier, Competency.id).where(Competency.framework_id == framework.id))}
    report = ImportReport(framework=framework, source=parsed.source, framework_created=created,
                          warnings=list(parsed.warnings))
    changes: list[dict[str, Any]] = []
    now = utcnow()
    for comp in parsed.competencies:
        target = _values(comp, ids)
        before = existing.get(comp.identifier)
        if before is None:
            report.created += 1
            if target["parent_id"] is not None:
                changes.append({"id": ids[comp.identifier], "parent_id": target["parent_id"]})
        elif all(before[key] == target[key] for key in COMPARED):
            report.unchanged += 1
        else:
            report.updated += 1
            changes.append({"id": before["id"], **target, "updated_dt": now})
    if changes:
        session.execute(update(Competency), changes)
    in_file = {c.identifier for c in parsed.competencies}
    report.retained = sorted(identifier for identifier in existing if identifier not in in_file)
    session.flush()
    return report


def _upsert_framework(session: Session, platform_id: int, parsed: ParsedFramework) -> tuple[Framework, bool]:
    """Insert unless present (concurrent imports wait on the row lock), then update what changed."""
    values = {"title": parsed.title, "description": parsed.description, "uri": parsed.uri,
              "version": parsed.version, "source": parsed.source}
    table = Framework.__table__
    insert = (dialect_insert(session, table)
              .values(platform_id=platform_id, identifier=parsed.identifier, **values)
              .on_conflict_do_nothing(index_elements=["platform_id", "identifier"])
              .returning(table.c.id))
    created = session.execute(insert).first() is not None
    framework = session.scalars(
        select(Framework).where(Framework.platform_id == platform_id, Framework.identifier == parsed.identifier)
        .with_for_update().execution_options(populate_existing=True)).one()
    for key, value in values.items():
        if getattr(framework, key) != value:
            setattr(framework, key, value)
    session.flush()
    return framework, created


def _existing(session: Session, framework_id: int) -> dict[str, dict[str, Any]]:
    """The framework's competencies as they are now, in one query."""
    rows = session.execute(select(Competency.id, Competency.identifier, *(getattr(Competency, k) for k in COMPARED))
                           .where(Competency.framework_id == framework_id))
    return {row.identifier: row._asdict() for row in rows}


def _insert_new(session: Session, framework_id: int, comps: list[ParsedCompetency]) -> None:
    """One multi-row INSERT; parents are linked afterwards, once every new row has an id."""
    if not comps:
        return
    now = utcnow()
    rows = [{"framework_id": framework_id, "identifier": c.identifier, "uri": c.uri, "code": c.code,
             "short_name": c.short_name, "description": c.description, "sort_order": c.sort_order,
             "created_dt": now, "updated_dt": now} for c in comps]
    stmt = dialect_insert(session, Competency.__table__).on_conflict_do_nothing(
        index_elements=["framework_id", "identifier"])
    session.execute(stmt, rows)


def _values(comp: ParsedCompetency, ids: dict[str, int]) -> dict[str, Any]:
    return {"uri": comp.uri, "code": comp.code, "short_name": comp.short_name, "description": comp.description,
            "parent_id": ids[comp.parent] if comp.parent is not None else None, "sort_order": comp.sort_order}
