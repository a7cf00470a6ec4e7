"""Addresses of the loopback LMS's AGS and NRPS endpoints, shaped like Moodle's or Canvas's.

Moodle shape: `…/mod/lti/services.php/<course>/lineitems/<id>/lineitem?type_id=1`; Canvas shape:
`…/api/lti/courses/<course>/line_items/<id>`. Both paginate with `Link: <…>; rel="next"`.
The builders read only the set-up (through anything that carries one, a DevPlatform included), so the
platform, its launches and its services can all use them without importing one another.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlencode

from lti_microcred.devplatform.data import DevPlatformSetup

MOODLE_TYPE = "type_id=1"


class Site(Protocol):
    """Whatever carries a loopback LMS's set-up: a DevPlatform, or what one launch knows of it."""

    @property
    def setup(self) -> DevPlatformSetup: ...


def site_url(setup: DevPlatformSetup, path: str) -> str:
    return setup.base_url.rstrip("/") + path


def lineitems_url(site: Site) -> str:
    course = site.setup.course_id
    if site.setup.flavour == "canvas":
        return site_url(site.setup, f"/api/lti/courses/{course}/line_items")
    return site_url(site.setup, f"/mod/lti/services.php/{course}/lineitems?{MOODLE_TYPE}")


def lineitem_url(site: Site, item_id: str) -> str:
    course = site.setup.course_id
    if site.setup.flavour == "canvas":
        return site_url(site.setup, f"/api/lti/courses/{course}/line_items/{item_id}")
    return site_url(site.setup, f"/mod/lti/services.php/{course}/lineitems/{item_id}/lineitem?{MOODLE_TYPE}")


def memberships_url(site: Site) -> str:
    course = site.setup.course_id
    if site.setup.flavour == "canvas":
        return site_url(site.setup, f"/api/lti/courses/{course}/names_and_roles")
    return site_url(site.setup, f"/mod/lti/services.php/CourseSection/{course}/bindings/1/memberships")


def next_page_url(base: str, params: dict[str, Any]) -> str:
    """The next page keeps every filter (and Moodle's type_id), only `page` changes."""
    query = urlencode({**params, "page": int(params.get("page", 1)) + 1})
    return f"{base}{'&' if '?' in base else '?'}{query}"
