"""Modules placed more than once in a course, each placement with its own gradebook column.

Moodle makes a grade item for every activity Deep Linking creates, and Canvas an assignment for every placement
as an assignment, so a module placed twice has two columns. The tool writes one column per module and course
(the first placement's), so the other stays empty; the Gradebook page names both so the teacher can remove the
extra placement or hide its column.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import Module
from lti_microcred.lms.lineitems import MODULE
from lti_microcred.lms.models import GradebookColumn
from lti_microcred.lti.models import ResourceLink


@dataclass(frozen=True)
class ExtraPlacement:
    module_title: str
    written: str  # the placement whose column the tool writes
    empty: list[str]  # the other placements with a column of their own, which the tool never writes


def _name(link: ResourceLink) -> str:
    return link.title or f"link {link.lti_resource_link_id}"


def extra_placements(session: Session, context_id: int) -> list[ExtraPlacement]:
    """Modules with more than one placed column (from launches: a placement nobody launched is not known)."""
    modules = {m.key: m for m in session.scalars(select(Module).where(Module.context_id == context_id))}
    if not modules:
        return []
    written_urls = dict(session.execute(select(GradebookColumn.subject_id, GradebookColumn.lineitem_url).where(
        GradebookColumn.context_id == context_id, GradebookColumn.subject_kind == MODULE)).all())
    placed: dict[str, list[ResourceLink]] = {}
    for link in session.scalars(select(ResourceLink).where(
            ResourceLink.context_id == context_id, ResourceLink.module_key.in_(list(modules)),
            ResourceLink.lineitem_url.is_not(None)).order_by(ResourceLink.id)):
        placed.setdefault(link.module_key or "", []).append(link)
    found = []
    for key, links in placed.items():
        if len({link.lineitem_url for link in links}) < 2:
            continue
        module = modules[key]
        url = written_urls.get(module.id)
        written = next((link for link in links if link.lineitem_url == url), links[0])
        empty = [_name(link) for link in links if link.lineitem_url != written.lineitem_url]
        found.append(ExtraPlacement(module.title, _name(written), empty))
    return found
