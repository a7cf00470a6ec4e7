"""Competencies of the institution's frameworks for a select: grouped by framework, indented by depth, code shown."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import Competency, Framework

MAX_DEPTH = 12
SEARCH_LIMIT = 200


@dataclass(frozen=True)
class Choice:
    id: int
    code: str | None
    name: str
    depth: int

    @property
    def label(self) -> str:
        return f"{self.code} — {self.name}" if self.code else self.name

    @property
    def indent(self) -> str:
        return "\u2003" * self.depth  # em spaces: the tree shows inside a native select


@dataclass(frozen=True)
class FrameworkChoices:
    title: str
    choices: list[Choice]


def competency_choices(session: Session, platform_id: int, search: str = "") -> list[FrameworkChoices]:
    """Every framework of the platform with its competencies in tree order; a search lists matches flat."""
    query = (select(Framework.id, Framework.title, Competency.id, Competency.code, Competency.short_name,
                    Competency.parent_id)
             .join(Competency, Competency.framework_id == Framework.id).where(Framework.platform_id == platform_id)
             .order_by(Framework.title, Framework.id, Competency.sort_order, Competency.id))
    needle = search.strip().lower()[:100]
    if needle:
        query = query.where(or_(func.lower(func.coalesce(Competency.code, "")).contains(needle, autoescape=True),
                                func.lower(Competency.short_name).contains(needle, autoescape=True))
                            ).limit(SEARCH_LIMIT)
    groups: dict[int, tuple[str, list[tuple[int, str | None, str, int | None]]]] = {}
    for framework_id, title, cid, code, name, parent in session.execute(query):
        groups.setdefault(framework_id, (title, []))[1].append((cid, code, name, parent))
    return [FrameworkChoices(title, _tree_order(rows, flat=bool(needle))) for title, rows in groups.values()]


def _tree_order(rows: list[tuple[int, str | None, str, int | None]], flat: bool) -> list[Choice]:
    """Depth-first order under each root; orphans and cycles end up at the top level, never lost."""
    if flat:
        return [Choice(cid, code, name, 0) for cid, code, name, _ in rows]
    known = {r[0] for r in rows}
    children: dict[int | None, list[tuple[int, str | None, str, int | None]]] = {}
    for row in rows:
        children.setdefault(row[3] if row[3] in known else None, []).append(row)
    ordered: list[Choice] = []
    seen: set[int] = set()
    stack = [(row, 0) for row in reversed(children.get(None, []))]
    while stack or len(seen) < len(rows):
        if not stack:  # a cycle without a root: start it anywhere
            stack = [(next(r for r in rows if r[0] not in seen), 0)]
        (cid, code, name, _), depth = stack.pop()
        if cid in seen:
            continue
        seen.add(cid)
        ordered.append(Choice(cid, code, name, min(depth, MAX_DEPTH)))
        stack.extend((child, depth + 1) for child in reversed(children.get(cid, [])))
    return ordered
