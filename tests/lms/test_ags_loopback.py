"""AGS and NRPS over real loopback HTTP against the lti1p3platform-based LMS, in Moodle and Canvas shapes."""

from __future__ import annotations

import datetime as dt

import pytest

from lti_microcred.devplatform.services import DevServices
from lti_microcred.devplatform.urls import lineitems_url, memberships_url
from lti_microcred.lms.ags import Ags, Score
from lti_microcred.lms.errors import ServiceError
from lti_microcred.lms.http import service_url
from lti_microcred.lms.nrps import memberships
from lti_microcred.lms.runtime import LmsRuntime
from tests.support.driver import LmsHandle


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_line_items_scores_and_results(lms: tuple[LmsHandle, DevServices], runtime: LmsRuntime) -> None:
    handle, lms_services = lms
    ags = Ags(runtime.client, handle.platform_id)
    container = lineitems_url(handle.platform)
    created = ags.create_line_item(container, {"label": "Module 1", "scoreMaximum": 50, "resourceId": "m1",
                                               "tag": "microcred-module"})
    other = ags.create_line_item(container, {"label": "Other", "scoreMaximum": 10, "resourceId": "m2"})
    if handle.flavour == "moodle":
        assert created["id"].endswith("/lineitem?type_id=1")  # sub-resources go before the query string
    assert [i["id"] for i in ags.line_items(container, resource_id="m1")] == [created["id"]]
    assert {i["id"] for i in ags.line_items(container)} == {created["id"], other["id"]}
    assert ags.line_item(created["id"])["label"] == "Module 1"
    assert ags.update_line_item(created["id"], {**created, "label": "Module 1 (renamed)"})["label"] == \
        "Module 1 (renamed)"

    assert ags.post_score(created["id"], Score("learner-1", 8, 10, now()), canvas=handle.flavour == "canvas") == 200
    [result] = ags.results(created["id"])
    assert result["userId"] == "learner-1"
    if handle.flavour == "moodle":  # Moodle rescales to the item's maximum; Canvas lists the score as sent
        assert (result["resultScore"], result["resultMaximum"]) == (40.0, 50.0)
    else:
        assert (result["resultScore"], result["resultMaximum"]) == (8, 10)
        assert lms_services.grade_of(created["id"].rsplit("/", 1)[1], "learner-1") == 40.0  # the gradebook's
    assert ags.results(created["id"], user_id="nobody") == []
    last = lms_services.score_log[-1]
    assert (last["scoreGiven"], last["scoreMaximum"], last["gradingProgress"]) == (8, 10, "FullyGraded")
    assert ("https://canvas.instructure.com/lti/submission" in last) == (handle.flavour == "canvas")

    ags.delete_line_item(other["id"])
    assert [i["id"] for i in ags.line_items(container)] == [created["id"]]
    assert lms_services.token_requests == 1  # one token for all of it


def test_pages_of_line_items_follow_link_headers(moodle: LmsHandle, moodle_services: DevServices,
                                                 runtime: LmsRuntime) -> None:
    ags = Ags(runtime.client, moodle.platform_id)
    container = lineitems_url(moodle.platform)
    for i in range(7):
        ags.create_line_item(container, {"label": f"Item {i}", "scoreMaximum": 10, "tag": "t"})
    assert len(ags.line_items(container, tag="t", limit=3)) == 7  # three pages


def test_roster_with_several_pages_and_rlid(lms: tuple[LmsHandle, DevServices], runtime: LmsRuntime) -> None:
    handle, lms_services = lms
    for i in range(230):
        lms_services.add_member(f"student-{i:03}", name=f"Student {i}", email=f"s{i}@example.edu")
    found = memberships(runtime.client, handle.platform_id, memberships_url(handle.platform), limit=100)
    assert found.pages == (5 if handle.flavour == "canvas" else 3)  # Canvas serves at most 50 members a page
    ids = [m["user_id"] for m in found.members]
    assert len(ids) == len(set(ids)) == len(lms_services.roster())  # the LMS's users and 230 students
    assert found.context["id"] == handle.platform.setup.course_id
    link = handle.platform.add_link("Module 1")
    one_link = memberships(runtime.client, handle.platform_id, memberships_url(handle.platform), rlid=link.id)
    assert len(one_link.members) == len(ids)
    with pytest.raises(ServiceError) as refused:
        memberships(runtime.client, handle.platform_id, memberships_url(handle.platform), rlid="not-a-link")
    assert (refused.value.status, refused.value.is_permanent) == (403, True)


def test_results_pages_and_moodle_query_strings(moodle: LmsHandle, moodle_services: DevServices,
                                                runtime: LmsRuntime) -> None:
    ags = Ags(runtime.client, moodle.platform_id)
    item = ags.create_line_item(lineitems_url(moodle.platform), {"label": "Quiz", "scoreMaximum": 100})
    for i in range(5):
        moodle_services.add_member(f"p{i}")
        ags.post_score(item["id"], Score(f"p{i}", i * 10, 100, now()))
    assert service_url(item["id"], "results").endswith("/lineitem/results?type_id=1")
    assert sorted(r["resultScore"] for r in ags.results(item["id"], limit=2)) == [0, 10, 20, 30, 40]
