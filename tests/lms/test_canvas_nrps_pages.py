"""Canvas serves at most 50 members per NRPS page whatever `limit` asks (MAX_PAGE_SIZE in
app/controllers/lti/ims/providers/memberships_provider.rb, 50 by default too), and its `Link: rel="next"` pages
with `page` and `per_page` (Api.jsonapi_paginate; `limit` is dropped): the tool reads every page."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import requests

from lti_microcred.devplatform.services import DevServices
from lti_microcred.devplatform.urls import memberships_url
from lti_microcred.lms.nrps import MEMBERSHIP_CONTAINER, PAGE_SIZE, memberships
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.lti import scopes as s
from lti_microcred.services import Services
from tests.support.driver import LmsHandle


def test_canvas_caps_a_page_at_50_and_links_the_next_with_per_page(canvas: LmsHandle, canvas_services: DevServices,
                                                                  runtime: LmsRuntime, services: Services) -> None:
    for i in range(120):
        canvas_services.add_member(f"s{i:03}", name=f"Student {i}")
    platform = services.registry.platform(canvas.platform_id)
    assert platform is not None
    token = runtime.connection.tokens.get(platform, frozenset({s.NRPS_MEMBERSHIP_READONLY})).value
    url = memberships_url(canvas.platform)
    answer = requests.get(url, params={"limit": 100}, timeout=10,
                          headers={"Authorization": f"Bearer {token}", "Accept": MEMBERSHIP_CONTAINER})
    assert answer.status_code == 200 and len(answer.json()["members"]) == 50
    following = answer.links["next"]["url"]
    query = parse_qs(urlsplit(following).query)
    assert (query.get("page"), query.get("per_page"), "limit" in query) == (["2"], ["50"], False)
    default = requests.get(url, timeout=10, headers={"Authorization": f"Bearer {token}"})
    assert len(default.json()["members"]) == 50 and "next" in default.links  # 50 without a limit too

    read = memberships(runtime.connection.client, canvas.platform_id, url)
    expected = len(canvas_services.roster())
    assert PAGE_SIZE > 50  # the tool asks for more than Canvas gives
    assert (len(read.members), read.pages) == (expected, math.ceil(expected / 50))
    assert len({m["user_id"] for m in read.members}) == expected
