"""Institutions: the one at the host root, creating one, moving a registration to another.

Creating institutions and attaching registrations is a server command (`microcred institution`); an LMS
admin's pages only ever see the institution of their own registration. Which institution a new registration
joins is decided when it is stored (`lti.models`).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.lti.models import Institution, Platform, root_institution

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
