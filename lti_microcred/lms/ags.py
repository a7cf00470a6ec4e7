"""Assignment and Grade Services: line items (list with filters and pages, get, create, update, delete),
scores and results. https://www.imsglobal.org/spec/lti-ags/v2p0

Moodle's line-item URLs carry a query (`…/lineitem?type_id=3`): sub-resources go on the path, before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lti_microcred.lms.access import AGS_SCOPES, ServiceClient
from lti_microcred.lms.errors import TRANSIENT, ServiceError
from lti_microcred.lms.http import service_url, with_query
from lti_microcred.lti import scopes as s

LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE = "application/vnd.ims.lis.v1.score+json"
RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"


def iso(when: dt.datetime) -> str:
    """Sub-second ISO 8601 with an offset, as Canvas asks."""
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Score:
    """One score for one learner; `timestamp` is when the value was decided, never when it is sent.

    Without `score_given` it carries progress only and empties the grade: Moodle saves no grade for it
    (gradebookservices.php `save_grade_item`), Canvas clears the submission's score (scores_controller.rb
    `reset_score?`). `keep_lms_grade` asks Canvas to leave a grade the submission already has
    (`prioritize_non_tool_grade`: Canvas keeps any score there, the tool's own included)."""

    user_id: str
    score_given: float | None
    score_maximum: float
    timestamp: dt.datetime
    activity_progress: str = "Completed"
    grading_progress: str = "FullyGraded"
    comment: str | None = None
    keep_lms_grade: bool = False

    def body(self, canvas: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"userId": self.user_id, "timestamp": iso(self.timestamp),
                                "activityProgress": self.activity_progress, "gradingProgress": self.grading_progress}
        if self.score_given is not None:  # Canvas: scoreMaximum is required with scoreGiven
            body.update(scoreGiven=self.score_given, scoreMaximum=self.score_maximum)
        if self.comment:
            body["comment"] = self.comment
        if canvas:  # a grade from the tool, not a new attempt by the learner
            body[CANVAS_SUBMISSION] = {"new_submission": False}
            if self.keep_lms_grade:
                body[CANVAS_SUBMISSION]["prioritize_non_tool_grade"] = True
        return body


class Ags:
    """AGS calls for one platform."""

    def __init__(self, client: ServiceClient, platform_id: int) -> None:
        self.client = client
        self.platform_id = platform_id

    def _call(self, needed: str, fn: Any) -> Any:
        return self.client.call(self.platform_id, AGS_SCOPES, needed, fn)

    def line_items(self, lineitems_url: str, *, tag: str | None = None, resource_id: str | None = None,
                   resource_link_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Every line item matching the filters, across all pages."""
        url = with_query(lineitems_url, {"tag": tag, "resource_id": resource_id,
                                         "resource_link_id": resource_link_id, "limit": limit})
        return self._all_pages(url, LINEITEM_CONTAINER, s.AGS_LINEITEM_READONLY, "line items")

    def line_item(self, url: str) -> dict[str, Any]:
        return self._call(s.AGS_LINEITEM_READONLY, lambda token: self._json(
            self.client.http.call("GET", url, token, accept=LINEITEM), url))

    def create_line_item(self, lineitems_url: str, item: dict[str, Any]) -> dict[str, Any]:
        """POST a new line item. Canvas: without resourceLinkId it becomes a new assignment column; with one it is
        refused (404, 412) or becomes a second line item of the link's assignment, which never grades it."""
        created = self._call(s.AGS_LINEITEM, lambda token: self._json(self.client.http.call(
            "POST", lineitems_url, token, accept=LINEITEM, body=item, content_type=LINEITEM), lineitems_url))
        if not isinstance(created.get("id"), str):
            raise ServiceError(f"{lineitems_url} created a line item without an id", TRANSIENT)
        return created

    def update_line_item(self, url: str, item: dict[str, Any]) -> dict[str, Any]:
        return self._call(s.AGS_LINEITEM, lambda token: self._json(self.client.http.call(
            "PUT", url, token, accept=LINEITEM, body={**item, "id": url}, content_type=LINEITEM), url))

    def delete_line_item(self, url: str) -> None:
        self._call(s.AGS_LINEITEM, lambda token: self.client.http.call("DELETE", url, token))

    def post_score(self, lineitem_url: str, score: Score, canvas: bool = False) -> int:
        """POST the score; re-sending the same score and timestamp is harmless. Returns the HTTP status."""
        url = service_url(lineitem_url, "scores")
        return self._call(s.AGS_SCORE, lambda token: self.client.http.call(
            "POST", url, token, body=score.body(canvas), content_type=SCORE).status_code)

    def results(self, lineitem_url: str, user_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Every result of a line item (or of one learner), across all pages."""
        url = with_query(service_url(lineitem_url, "results"), {"user_id": user_id, "limit": limit})
        return self._all_pages(url, RESULT_CONTAINER, s.AGS_RESULT_READONLY, "results")

    def _all_pages(self, url: str, accept: str, scope: str, what: str) -> list[dict[str, Any]]:
        """The objects of every page (Link: rel="next"), fetched under one token."""
        def fetch(token: str) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            for page in self.client.http.pages(url, token, accept):
                if not isinstance(page, list):
                    raise ServiceError(f"{url} did not answer a list of {what}", TRANSIENT)
                found.extend(item for item in page if isinstance(item, dict))
            return found
        return self._call(scope, fetch)

    def _json(self, response: Any, url: str) -> dict[str, Any]:
        body = self.client.http.json(response, url)
        if not isinstance(body, dict):
            raise ServiceError(f"{url} did not answer a line item", TRANSIENT)
        return body
