"""Institutions: the one at the host root, creating one, moving a registration to another.

Creating institutions and attaching registrations is a server command (`microcred institution`); an LMS
admin's pages only ever see the institution of their own registration. Which institution a new registration
joins is decided when it is stored (`lti.models`).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.lti.models import SHARED_ISSUERS, Institution, Platform, root_institution

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


class InstitutionError(Exception):
    """An institution command that cannot be done, with a message an admin can act on."""


def find_institution(session: Session, slug: str | None) -> Institution:
    if slug is None:
        return root_institution(session)
    found = session.scalars(select(Institution).where(Institution.slug == slug)).one_or_none()
    if found is None:
        raise InstitutionError(f"no institution {slug!r} (see `microcred institution list`)")
    return found


def create_institution(session: Session, slug: str, name: str) -> Institution:
    if not SLUG.match(slug):
        raise InstitutionError("the slug is 1 to 64 lower-case letters, digits and inner hyphens (it goes in a URL)")
    if not name.strip() or len(name) > 200:
        raise InstitutionError("the name is 1 to 200 characters")
    if session.scalars(select(Institution.id).where(Institution.slug == slug)).first() is not None:
        raise InstitutionError(f"an institution {slug!r} exists already")
    row = Institution(slug=slug, name=name.strip(), at_host_root=False)
    session.add(row)
    session.flush()
    return row


def attach_platform(session: Session, platform_id: int, slug: str) -> str:
    """Move a registration (and so its courses' future credentials) to another institution."""
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise InstitutionError(f"no platform {platform_id} (see `microcred platform list`)")
    target = find_institution(session, slug)
    platform.institution_id = target.id
    session.flush()
    return f"platform {platform_id} ({platform.name}) now belongs to {target.slug} ({target.name})"


def institution_line(session: Session, platform: Platform) -> str:
    """Which institution a registration belongs to, and whether that is because the same LMS is registered
    there already (same issuer; never on hosted Canvas, whose issuer every school shares)."""
    institution = session.get(Institution, platform.institution_id)
    assert institution is not None
    line = f"institution: {institution.slug} ({institution.name})"
    if platform.issuer in SHARED_ISSUERS:
        return line
    others = session.execute(select(Platform.id, Platform.institution_id).where(
        Platform.issuer == platform.issuer, Platform.id != platform.id).order_by(Platform.id)).tuples().all()
    same = [str(other) for other, where in others if where == institution.id]
    elsewhere = [str(other) for other, where in others if where != institution.id]
    if same:
        line += f", as platform {same[0]} of the same LMS"
    if elsewhere:
        line += (f"; platform {', '.join(elsewhere)} of the same LMS belong(s) to another institution "
                 f"(`microcred platform move` or `microcred institution merge` brings them together)")
    return line
