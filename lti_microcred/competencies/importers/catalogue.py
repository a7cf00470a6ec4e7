"""Read side of imported frameworks: summaries with counts and the competency tree, always per platform."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import Competency, Framework

TREE_DEPTH_LIMIT = 64  # deeper nodes are shown flat, so a page never recurses without bound


@dataclass(frozen=True)
class FrameworkSummary:
    """A framework with its number of competencies, for lists (CLI and pages)."""

    id: int
    platform_id: int
    identifier: str
    title: str
    source: str
    uri: str | None
    version: str | None
    competency_count: int


@dataclass
class TreeNode:
    """A competency and its children, in sort order."""

    competency: Competency
    children: list[TreeNode] = field(default_factory=list)


def framework_summaries(session: Session, platform_id: int | None = None) -> list[FrameworkSummary]:
    """Every framework of one platform (or all, for administrators' CLI), counted in one query."""
    count = func.count(Competency.id)
    query = (select(Framework.id, Framework.platform_id, Framework.identifier, Framework.title, Framework.source,
                    Framework.uri, Framework.version, count.label("competency_count"))
             .outerjoin(Competency, Competency.framework_id == Framework.id)
             .group_by(Framework.id)
             .order_by(Framework.platform_id, Framework.title, Framework.id))
    if platform_id is not None:
        query = query.where(Framework.platform_id == platform_id)
    return [FrameworkSummary(**row._asdict()) for row in session.execute(query)]


def framework_of_platform(session: Session, platform_id: int, framework_id: int) -> Framework | None:
    """A framework only if it belongs to this platform: another institution's id finds nothing."""
    return session.scalars(select(Framework).where(Framework.id == framework_id,
                                                   Framework.platform_id == platform_id)).one_or_none()


def competency_tree(session: Session, framework_id: int) -> list[TreeNode]:
    """The framework's competencies as a forest; orphans and cycle members are shown at the top level."""
    comps = list(session.scalars(select(Competency).where(Competency.framework_id == framework_id)
                                 .order_by(Competency.sort_order, Competency.id)))
    nodes = {c.id: TreeNode(c) for c in comps}
    roots: list[TreeNode] = []
    placed: set[int] = set()
    for c in comps:
        parent = nodes.get(c.parent_id) if c.parent_id is not None else None
        if parent is not None and parent is not nodes[c.id]:
            parent.children.append(nodes[c.id])
    _walk_roots(comps, nodes, roots, placed)
    return roots


def _walk_roots(comps: list[Competency], nodes: dict[int, TreeNode], roots: list[TreeNode],
                placed: set[int]) -> None:
    """Attach reachable subtrees under the real roots, then anything left over (never recursing deeply)."""
    for c in comps:
        if c.parent_id is None or c.parent_id not in nodes:
            roots.append(nodes[c.id])
            _mark(nodes[c.id], placed, roots)
    for c in comps:
        if c.id not in placed:  # part of a cycle: break it here
            node = nodes[c.id]
            roots.append(node)
            _mark(node, placed, roots)


def _mark(root: TreeNode, placed: set[int], roots: list[TreeNode]) -> None:
    stack = [(root, 1)]
    placed.add(root.competency.id)
    while stack:
        node, depth = stack.pop()
        kept = []
        for child in node.children:
            if child.competency.id in placed:
                continue
            placed.add(child.competency.id)
            if depth >= TREE_DEPTH_LIMIT:
                roots.append(child)  # too deep to nest: list it at the top
                stack.append((child, 1))
            else:
                kept.append(child)
                stack.append((child, depth + 1))
        node.children = kept
