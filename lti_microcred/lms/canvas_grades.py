"""Before a score goes to Canvas: keep a teacher's grade, and send an award's comment once.

Canvas takes a tool's score over a grade a teacher entered: a teacher's edit does not move the result's
updated_at, so a later timestamp of ours passes its check (app/models/submission.rb `update_line_item_result`,
scores_controller.rb `verify_valid_timestamp`). Its `prioritize_non_tool_grade` flag keeps whatever score the
submission has, the tool's own earlier one included (`submission_has_score?`). So a cell's very first score goes
with the flag (a teacher's grade, if any, stays); before any later one the learner's result is read: none means
no score of any tool's is there, and the flag goes along again; one means the tool posted before (Canvas makes
results only from score posts) and Canvas copies a teacher's edit into it (`scaled_result_score`), so a value
other than the grade the tool last sent is a teacher's, which the tool leaves alone. One extra call per score
after a cell's first, in exchange for never overwriting a teacher; a key without the results scope skips it.
Canvas also adds a submission comment for every score that carries one (`add_comment`); the result shows the
last comment sent, so a comment already there is not sent again (a retry, a re-send after a crash).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from lti_microcred.lms.ags import Ags, Score
from lti_microcred.lms.delivery.jobs import Claimed
from lti_microcred.lms.errors import ScopeNotGranted
from lti_microcred.lms.lineitems import Column

TOLERANCE = 1e-6


Grade = tuple[float, float] | None  # (given, maximum) of a score the tool sent, or None: one without a grade


@dataclass(frozen=True)
class Cell:
    """The cell as the worker claimed it: whether a score was sent to it before (delivered, or this row failed
    after trying); the grade the LMS last accepted from the tool, if it recorded one (`delivered`); the values
    earlier attempts of the rows in hand may have left in the LMS unrecorded (a timeout that landed)."""

    tried: bool
    delivered: bool = False
    ours: Grade = None
    maybe_sent: tuple[Grade, ...] = ()


def cell_for(message: Claimed, column: Column, award: bool) -> Cell:
    """The Cell of the claimed row: its earlier attempts sent the newest value in hand at the time, so every value
    of the rows in hand may be in Canvas unrecorded (an award's is full marks, a revocation's none)."""
    maybe: tuple[Grade, ...] = ()
    if message.attempts:
        maybe = tuple(_grade_in(json.loads(raw), column, award)
                      for raw in (message.payload, *(raw for _, raw in message.followers)))
    return Cell(message.last_sent is not None or message.attempts > 0, message.last_sent is not None,
                message.last_grade, maybe)


def _grade_in(payload: dict[str, Any], column: Column, award: bool) -> Grade:
    if award:
        return None if payload.get("status") == "revoked" else (column.score_maximum, column.score_maximum)
    given = payload.get("score_given")
    return None if given is None else (float(given), float(payload["score_maximum"]))


def prepare(ags: Ags, lineitem_url: str, score: Score, cell: Cell) -> tuple[Score, str | None]:
    """(the score to send, None), or (score, why not) when a teacher's grade is in Canvas instead of ours."""
    if not cell.tried and not score.comment:  # nothing of the tool's can be there yet
        return replace(score, keep_lms_grade=score.score_given is not None), None
    try:
        found = ags.results(lineitem_url, user_id=score.user_id)
    except ScopeNotGranted:  # a key without result.readonly: send as the tool did before it could check
        return replace(score, keep_lms_grade=cell.ours is None and score.score_given is not None), None
    current = found[0] if found else None
    if current is None:  # no tool has scored this learner here: whatever grade the submission has is a teacher's
        return replace(score, keep_lms_grade=score.score_given is not None), None
    if score.comment and current.get("comment") == score.comment:
        score = replace(score, comment=None)  # this very comment reached Canvas already
    known = ([cell.ours] if cell.delivered else []) + list(cell.maybe_sent)
    if not known or any(_same(current, grade) for grade in known):
        return score, None  # the tool's own (with nothing known, the result is an older post of its own)
    had = f"{cell.ours[0]:g} / {cell.ours[1]:g}" if cell.ours else "no grade"
    return score, (f"a teacher changed this grade in Canvas (it reads {_reading(current)}; the tool had sent "
                   f"{had}): the tool leaves the teacher's grade")


def _same(result: dict[str, Any], grade: Grade) -> bool:
    """Whether the result reads this grade of the tool's (compared as a share of the maximum)."""
    given, maximum = result.get("resultScore"), result.get("resultMaximum")
    if not isinstance(given, int | float) or grade is None:
        return not isinstance(given, int | float) and grade is None
    if isinstance(maximum, int | float) and maximum > 0:
        return bool(grade[1]) and abs(given / maximum - grade[0] / grade[1]) <= TOLERANCE
    return abs(given - grade[0]) <= TOLERANCE


def _reading(result: dict[str, Any]) -> str:
    given, maximum = result.get("resultScore"), result.get("resultMaximum")
    if not isinstance(given, int | float):
        return "no grade"
    return f"{given:g} / {maximum:g}" if isinstance(maximum, int | float) else f"{given:g}"
