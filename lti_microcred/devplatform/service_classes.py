"""lti1p3platform's abstract AGS and NRPS services, implemented over the loopback LMS's memory (DevServices).

Moodle rescales scores to the line item's maximum, answers 400 for a user not enrolled, ignores older
timestamps, keeps scoreGiven only when gradingProgress is FullyGraded and clears the grade of a score without
it (mod/lti/service/gradebookservices/classes/local/resources/scores.php, `get_json_for_post_request`;
classes/local/service/gradebookservices.php, `save_grade_item`). Canvas's assignments, submissions and results
are in `canvas_gradebook`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import typing as t
from typing import Any

from lti1p3platform.exceptions import LineItemNotFoundException, LtiServiceException
from lti1p3platform.lineitem import TLineItem
from lti1p3platform.membership import Context
from lti1p3platform.score import TScore, UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, NamesRoleProvisioningService, TPage

from lti_microcred.devplatform.services import DevServices
from lti_microcred.devplatform.urls import lineitem_url, next_page_url


def _page(items: list[Any], page: int, limit: int | None, next_base: str, params: dict[str, Any]) -> TPage:
    if not limit:
        return {"content": items, "has_next": False}
    start = (page - 1) * limit
    chunk = items[start:start + limit]
    result: TPage = {"content": chunk, "has_next": False}
    if start + limit < len(items):  # ours: lti1p3platform's own next URL breaks on Moodle's `?type_id=`
        result["next"] = next_page_url(next_base, {**params, "page": page, "limit": limit})
    return result


class DevAgs(AssignmentsGradesService):
    def __init__(self, *args: Any, services: DevServices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.s = services

    @property
    def allowed_scopes(self) -> list[str]:
        """Reading line items with the read-only scope is allowed too, as real platforms do."""
        return [*super().allowed_scopes, "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"]

    def find_lineitems(self, page: int = 1, limit: int | None = None, line_item_id: str | None = None,
                       resource_link_id: str | None = None, resource_id: str | None = None, tag: str | None = None,
                       **_: Any) -> TPage:
        with self.s.platform.lock:
            items = [i for key, i in self.s.platform.line_items.items()
                     if (not self.s.canvas or self.s.canvas_book.active(key))  # line_items_controller.rb `index`
                     and (resource_link_id is None or i.get("resourceLinkId") == resource_link_id)
                     and (resource_id is None or i.get("resourceId") == resource_id)
                     and (tag is None or i.get("tag") == tag)]
        params = {k: v for k, v in (("resource_link_id", resource_link_id), ("resource_id", resource_id),
                                    ("tag", tag)) if v is not None}
        return _page(items, page, limit, self.ags.lineitems_url or "", params)

    def find_lineitem(self, line_item_id: str) -> TLineItem:
        with self.s.platform.lock:
            item = self.s.platform.line_items.get(line_item_id)
            if self.s.canvas and not self.s.canvas_book.active(line_item_id):
                item = None  # lti/line_item.rb: a deleted assignment's line items are gone
        if item is None:
            raise LineItemNotFoundException(line_item_id)
        return t.cast(TLineItem, item)

    def create_lineitem(self, creation_data: TLineItem) -> TLineItem:
        data = dict(creation_data)
        if not data.get("label") or not data.get("scoreMaximum"):
            raise LtiServiceException("label and scoreMaximum are required", 400)
        item_id = "li-" + secrets.token_hex(6)
        item = {**data, "id": lineitem_url(self.s.platform, item_id)}
        with self.s.platform.lock:
            if self.s.canvas:
                self.s.canvas_book.check_new_line_item(data)
                self.s.canvas_book.created_by_tool.add(item_id)
            self.s.platform.line_items[item_id] = item
            if self.s.canvas and not data.get("resourceLinkId"):
                self.s.new_assignments.append(item_id)
        return t.cast(TLineItem, item)

    def update_lineitem(self, update_data: TLineItem) -> TLineItem:
        item = dict(self.find_lineitem(str(update_data["id"])))
        changes = {k: v for k, v in dict(update_data).items() if k != "id"}
        with self.s.platform.lock:
            item.update(changes)
            self.s.platform.line_items[str(update_data["id"])] = item
        return t.cast(TLineItem, item)

    def delete_lineitem(self, line_item_id: str) -> None:
        self.find_lineitem(line_item_id)
        with self.s.platform.lock:
            if self.s.canvas:
                self.s.canvas_book.check_delete(line_item_id)
            del self.s.platform.line_items[line_item_id]
            self.s.results.pop(line_item_id, None)

    def update_score(self, line_item_id: str, score: TScore) -> UpdateScoreStatus:
        item = self.find_lineitem(line_item_id)
        data: dict[str, Any] = dict(score) if isinstance(score, dict) else {}
        user, when = str(data.get("userId", "")), str(data.get("timestamp", ""))
        if not user or not when:
            raise LtiServiceException("userId and timestamp are required", 400)
        stamp = dt.datetime.fromisoformat(when)
        with self.s.platform.lock:
            self.s.score_log.append({"item": line_item_id, **data})
            if not self.s.enrolled(user):
                if self.s.canvas:
                    raise LtiServiceException("User not found in course or is not a student", 422)
                raise LtiServiceException("Incorrect score received: the user is not enrolled", 400)
            if self.s.canvas:
                self.s.canvas_book.score(line_item_id, user, data, stamp)
                return UpdateScoreStatus.SUCCESS
            current = self.s.results.setdefault(line_item_id, {}).get(user)
            if current is not None and stamp < current["timestamp"]:
                return UpdateScoreStatus.SUCCESS  # Moodle: accepted, not applied
            self.s.results[line_item_id][user] = self._result(item, data, stamp)
        return UpdateScoreStatus.SUCCESS

    @staticmethod
    def _result(item: Any, data: dict[str, Any], stamp: dt.datetime) -> dict[str, Any]:
        """Moodle's grade from a score: scoreGiven only with gradingProgress FullyGraded (scores.php), scoreMaximum
        1 when absent, rescaled to the item's maximum, and no grade at all without scoreGiven (save_grade_item)."""
        given = data.get("scoreGiven") if data.get("gradingProgress") == "FullyGraded" else None
        maximum = float(data.get("scoreMaximum") or 1)
        item_max = float(item.get("scoreMaximum") or maximum)
        return {"resultScore": None if given is None else float(given) * item_max / maximum,  # Moodle rescales
                "resultMaximum": item_max, "scoreGiven": given, "scoreMaximum": data.get("scoreMaximum"),
                "comment": data.get("comment"), "timestamp": stamp, "gradingProgress": data.get("gradingProgress"),
                "activityProgress": data.get("activityProgress")}

    def get_results(self, line_item_id: str, page: int = 1, limit: int | None = None, user_id: str | None = None,
                    **_: Any) -> TPage:
        item = self.find_lineitem(line_item_id)
        with self.s.platform.lock:
            if self.s.canvas:
                found = self.s.canvas_book.result_rows(line_item_id, user_id)
                return _page(found, page, limit, str(item["id"]) + "/results", {"user_id": user_id} if user_id else {})
            rows = [{"id": f"{item['id']}/results/{user}", "scoreOf": item["id"], "userId": user,
                     "resultScore": r["resultScore"], "resultMaximum": r["resultMaximum"], "comment": r["comment"]}
                    for user, r in self.s.results.get(line_item_id, {}).items() if user_id in (None, user)]
        base = self.ags.lineitem_url or ""
        base = base.replace("?", "/results?", 1) if "?" in base else base + "/results"
        return _page(rows, page, limit, base, {"user_id": user_id} if user_id else {})


# Canvas serves at most this many members per page, and as many when no `limit` is given
# (app/controllers/lti/ims/providers/memberships_provider.rb, MAX_PAGE_SIZE and `pagination_args`).
CANVAS_MAX_PAGE_SIZE = 50


class DevNrps(NamesRoleProvisioningService):
    def __init__(self, *args: Any, services: DevServices) -> None:
        super().__init__(*args)
        self.s = services
        self.canvas_next: str | None = None

    def get_member_data_page(self, page: int = 1, limit: int | None = None, role: str | None = None,
                             since: str | None = None, **query: Any) -> TPage:
        with self.s.platform.lock:
            members = [dict(m) for m in self.s.roster()
                       if role is None or any(r.endswith("#" + role) or r == role for r in m["roles"])]
        if self.s.canvas:
            return self._canvas_page(members, page, limit, {"role": role, "rlid": query.get("rlid"),
                                                            "per_page": query.get("per_page")})
        if not limit:
            return {"content": members, "has_next": False}
        start = (page - 1) * limit
        return {"content": members[start:start + limit], "has_next": start + limit < len(members)}

    def _canvas_page(self, members: list[Any], page: int, limit: int | None, query: dict[str, Any]) -> TPage:
        """`limit` (or `per_page`) capped at 50; the next page's link carries `page` and `per_page` and the other
        filters, never `limit` (memberships_provider.rb `clear_request_param :limit`, Api.jsonapi_paginate)."""
        asked = limit or (int(query["per_page"]) if str(query.get("per_page") or "").isdigit() else 0)
        size = min(asked, CANVAS_MAX_PAGE_SIZE) if asked > 0 else CANVAS_MAX_PAGE_SIZE
        start = (page - 1) * size
        if start + size < len(members):
            filters = {k: v for k, v in query.items() if v is not None and k != "per_page"}
            self.canvas_next = next_page_url(self.nrps.context_memberships_url,
                                             {**filters, "page": page, "per_page": size})
        return {"content": members[start:start + size], "has_next": False}  # no lti1p3platform link with `limit`

    def handle_get_members(self) -> Any:
        response = super().handle_get_members()
        if self.canvas_next and response.code == 200 and isinstance(response.result, dict):
            response.result["next"] = self.canvas_next
        return response

    def get_context_by_id(self) -> Context:
        setup = self.s.platform.setup
        return Context(id=setup.course_id, label=setup.course_id, title=setup.course_title)

    def is_resource_link_valid(self, context_id: str, resource_link_id: str) -> bool:
        return resource_link_id in self.s.platform.links or resource_link_id == "rl-course-nav"
