"""Canvas's gradebook behind its AGS, as the Canvas-shaped loopback LMS keeps it.

Every line item belongs to an assignment and only the assignment's first line item grades it; a learner's
grade is the assignment's submission; the results a tool reads are Lti::Result rows, which only its own score
posts create. Each rule names the file of instructure/canvas-lms it models.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lti1p3platform.exceptions import LtiServiceException

SUBMISSION_EXT = "https://canvas.instructure.com/lti/submission"
ACCEPT_GIVEN_SCORE_TYPES = ("FullyGraded", "PendingManual")  # app/models/lti/result.rb


def _flag(value: Any) -> bool:
    """ActiveRecord::Type::Boolean's cast, as scores_controller.rb reads the extension's flags."""
    return value in (True, 1, "1", "true", "TRUE", "True", "t", "on")


@dataclass
class Submission:
    score: float | None = None
    grader: str | None = None  # "tool" (Canvas: grader_id = -tool.id) or "teacher"
    comments: list[str] = field(default_factory=list)


class CanvasGradebook:
    """Assignments, submissions and results of the loopback LMS's course when it plays Canvas.

    An assignment is known by the resource link it is placed on (Deep Linking or Canvas's own forms), or, for one
    Canvas made for a line item the tool created without resourceLinkId, by that line item's id."""

    def __init__(self, line_items: dict[str, dict[str, Any]], links: dict[str, Any],
                 results: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.line_items = line_items  # the platform's, in the order they were created
        self.links = links
        self.results = results  # Lti::Result rows: line item id -> user -> row
        self.submissions: dict[tuple[str, str], Submission] = {}
        self.deleted: set[str] = set()  # assignments deleted in Canvas
        self.created_by_tool: set[str] = set()  # line items created through AGS (not coupled to an assignment)

    def reset(self) -> None:
        self.submissions.clear()
        self.deleted.clear()
        self.created_by_tool.clear()

    # --- assignments ------------------------------------------------------------------------------------------
    @staticmethod
    def assignment_of(item_id: str, item: dict[str, Any]) -> str:
        return str(item.get("resourceLinkId") or item_id)

    def active(self, item_id: str) -> bool:
        """lti/line_item.rb: a line item of a deleted assignment is gone (`Lti::LineItem.active`, 404)."""
        item = self.line_items.get(item_id)
        return item is not None and self.assignment_of(item_id, item) not in self.deleted

    def grading_item(self, assignment: str) -> str | None:
        """app/models/lti/line_item.rb `assignment_line_item?`: the assignment's first line item."""
        return next((i for i, item in self.line_items.items() if self.assignment_of(i, item) == assignment), None)

    def grades(self, item_id: str) -> bool:
        item = self.line_items[item_id]
        return self.grading_item(self.assignment_of(item_id, item)) == item_id

    def delete_assignment(self, item_id: str) -> None:
        """A teacher deletes the assignment in Canvas: its line items and results are gone."""
        self.deleted.add(self.assignment_of(item_id, self.line_items[item_id]))

    # --- line items -------------------------------------------------------------------------------------------
    def check_new_line_item(self, data: dict[str, Any]) -> None:
        """app/controllers/lti/ims/line_items_controller.rb `verify_valid_resource_link`: a resourceLinkId Canvas
        does not know is 404; a link without an active line item (placed as a module link, not an assignment, or
        its assignment deleted) is 412. Otherwise `create_line_item!` adds the item to the link's assignment,
        after its first: a second line item, which `assignment_line_item?` never lets grade."""
        link = data.get("resourceLinkId")
        if not link:
            return  # Lti::LineItem.create_line_item! makes a new assignment for it
        if link not in self.links:
            raise LtiServiceException("The specified resource link was not found", 404)
        if not any(self.active(i) and self.assignment_of(i, item) == link for i, item in self.line_items.items()):
            raise LtiServiceException("Precondition Failed: the resource link has no active line item", 412)

    def check_delete(self, item_id: str) -> None:
        """line_items_controller.rb `destroy`: `head :unauthorized if line_item.coupled`, so a line item created
        with its assignment (by Deep Linking or in Canvas) cannot be deleted through AGS."""
        if item_id not in self.created_by_tool:
            raise LtiServiceException("Unauthorized: the line item is coupled to its assignment", 401)

    # --- scores -----------------------------------------------------------------------------------------------
    def score(self, item_id: str, user: str, data: dict[str, Any], stamp: dt.datetime) -> None:
        """app/controllers/lti/ims/scores_controller.rb: 400 for a timestamp before the result's updated_at
        (`verify_valid_timestamp`), 422 for scoreGiven without scoreMaximum (`verify_valid_score_maximum`), then
        the submission (`score_submission`) and the Lti::Result row (`update_or_create_result`), whose
        updated_at is the score's timestamp."""
        row = self.results.setdefault(item_id, {}).get(user)
        if row is not None and row["timestamp"] > stamp:
            raise LtiServiceException(f"Provided timestamp of {data.get('timestamp')} before last updated timestamp "
                                      f"of {row['timestamp'].isoformat()}", 400)
        reset = data.get("gradingProgress") not in ACCEPT_GIVEN_SCORE_TYPES or data.get("scoreGiven") is None
        if not reset and "scoreMaximum" not in data:
            raise LtiServiceException("ScoreMaximum not supplied when ScoreGiven present.", 422)
        self._score_submission(item_id, user, data, reset)
        self.results[item_id][user] = {
            "resultScore": data.get("scoreGiven"), "resultMaximum": data.get("scoreMaximum"),
            "scoreGiven": data.get("scoreGiven"), "scoreMaximum": data.get("scoreMaximum"),
            "comment": data.get("comment"), "timestamp": stamp, "gradingProgress": data.get("gradingProgress"),
            "activityProgress": data.get("activityProgress"), SUBMISSION_EXT: data.get(SUBMISSION_EXT)}

    def _score_submission(self, item_id: str, user: str, data: dict[str, Any], reset: bool) -> None:
        """scores_controller.rb `score_submission`: only the assignment's first line item grades it. A score without
        scoreGiven (or whose gradingProgress is not FullyGraded/PendingManual) clears the grade unless it says
        `preserve_score`; with `prioritize_non_tool_grade`, a submission that already has a score keeps it,
        whoever gave it (`submission_has_score?`); every post that carries a comment adds one (`add_comment`)."""
        if not self.grades(item_id):
            return
        item = self.line_items[item_id]
        found = data.get(SUBMISSION_EXT)
        extension: dict[str, Any] = found if isinstance(found, dict) else {}
        submission = self.submissions.setdefault((self.assignment_of(item_id, item), user), Submission())
        if _flag(extension.get("preserve_score")) or reset:
            if not _flag(extension.get("preserve_score")):
                submission.score = None
        elif not (_flag(extension.get("prioritize_non_tool_grade")) and submission.score is not None):
            maximum = float(data["scoreMaximum"])
            scale = 1.0 if abs(maximum) < 1e-9 else float(item["scoreMaximum"]) / maximum
            submission.score, submission.grader = float(data["scoreGiven"]) * scale, "tool"
        if data.get("comment"):
            submission.comments.append(str(data["comment"]))

    def teacher_grades(self, item_id: str, user: str, score: float | None) -> None:
        """A teacher enters (or removes) a grade in Canvas: the submission's score changes and
        Submission#update_line_item_result (app/models/submission.rb) copies it into the result rows linked to the
        submission, by update_all, so their updated_at stays the tool's last timestamp (lti/result.rb)."""
        assignment = self.assignment_of(item_id, self.line_items[item_id])
        submission = self.submissions.setdefault((assignment, user), Submission())
        submission.score, submission.grader = score, "teacher"
        row = self.results.get(self.grading_item(assignment) or "", {}).get(user)
        if row is not None:
            row["resultScore"] = score

    def grade_of(self, item_id: str, user: str) -> float | None:
        """What Canvas's gradebook shows: the submission's score, reached only through the grading line item."""
        if not self.active(item_id) or not self.grades(item_id):
            return None
        submission = self.submissions.get((self.assignment_of(item_id, self.line_items[item_id]), user))
        return submission.score if submission else None

    def comments_of(self, item_id: str, user: str) -> list[str]:
        submission = self.submissions.get((self.assignment_of(item_id, self.line_items[item_id]), user))
        return list(submission.comments) if submission else []

    # --- results ----------------------------------------------------------------------------------------------
    def result_rows(self, item_id: str, user_id: str | None) -> list[dict[str, Any]]:
        """app/controllers/lti/ims/results_controller.rb `index`: the line item's Lti::Result rows, which only score
        posts create, so a grade a teacher entered for a learner the tool never scored is not listed. resultScore is
        `scaled_result_score` (app/models/lti/result.rb): as stored, unless a teacher graded the submission, then
        scaled from the assignment's points to the result's maximum (app/serializers/lti/ims/results_serializer.rb
        drops empty fields)."""
        item = self.line_items[item_id]
        assignment = self.assignment_of(item_id, item)
        points = float(self.line_items[self.grading_item(assignment) or item_id].get("scoreMaximum") or 0)
        rows = []
        for user, row in self.results.get(item_id, {}).items():
            if user_id not in (None, user):
                continue
            score, maximum = row.get("resultScore"), row.get("resultMaximum")
            submission = self.submissions.get((assignment, user)) if self.grades(item_id) else None
            if (score is not None and maximum and points and submission is not None
                    and submission.grader == "teacher"):
                score = float(score) * float(maximum) / points
            found = {"id": f"{item['id']}/results/{user}", "scoreOf": item["id"], "userId": user,
                     "resultScore": score, "resultMaximum": maximum, "comment": row.get("comment")}
            rows.append({k: v for k, v in found.items() if v is not None})
        return rows
