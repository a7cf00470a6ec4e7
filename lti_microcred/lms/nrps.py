"""Names and Role Provisioning Services: a course's members, across pages, optionally for one resource
link (`rlid`). https://www.imsglobal.org/spec/lti-nrps/v2p0"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lti_microcred.lms.access import NRPS_SCOPES, ServiceClient
from lti_microcred.lms.errors import TRANSIENT, ServiceError
from lti_microcred.lms.http import with_query
from lti_microcred.lti import scopes as s

MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
PAGE_SIZE = 100


@dataclass
class Memberships:
    context: dict[str, Any] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0


def memberships(client: ServiceClient, platform_id: int, url: str, *, rlid: str | None = None,
                role: str | None = None, limit: int | None = PAGE_SIZE) -> Memberships:
    """Every member the platform lists, following `Link: rel="next"` until the last page."""
    first = with_query(url, {"rlid": rlid, "role": role, "limit": limit})

    def fetch(token: str) -> Memberships:
        result = Memberships()
        for page in client.http.pages(first, token, MEMBERSHIP_CONTAINER):
            if not isinstance(page, dict) or not isinstance(page.get("members"), list):
                raise ServiceError(f"{url} did not answer a membership container", TRANSIENT)
            result.pages += 1
            if isinstance(page.get("context"), dict):
                result.context = page["context"]
            result.members.extend(m for m in page["members"] if isinstance(m, dict) and m.get("user_id"))
        return result
    return client.call(platform_id, NRPS_SCOPES, s.NRPS_MEMBERSHIP_READONLY, fetch)
