"""Learners by competencies for the course: filtered, paginated, and exported whole as CSV (streamed)."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from urllib.parse import quote

from flask import Response, render_template, request

from lti_microcred.competencies.models import Competency, MicroCredential
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.scoped import credentials_of_course
from lti_microcred.web.common.views_support import REVIEWERS, course_id, whole_or_none
from lti_microcred.web.staff.learner_tables import (
    PER_PAGE,
    STATES,
    Column,
    MatrixFilter,
    MatrixPage,
    export_batches,
    matrix_columns,
    matrix_page,
)

bp = session_blueprint("matrix", __name__, "/matrix")
STATE_MARKS = {"achieved": "✓", "in_progress": "…", "not_started": ""}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@bp.route("/", methods=["GET"])
@requires_role(*REVIEWERS)
def show() -> str:
    s, chosen = current_session(), _filter()
    credentials = credentials_of_course(db(), s.platform_id, course_id())
    page = matrix_page(db(), s.platform_id, course_id(), chosen, credentials)
    pages = max(1, -(-page.total // PER_PAGE))
    return render_template("staff/matrix.html", s=s, m=page, f=chosen, pages=pages, states=STATES,
                           marks=STATE_MARKS, credentials=credentials)


@bp.route("/export.csv", methods=["GET"])
@requires_role(*REVIEWERS)
def export() -> Response:
    s, chosen, session = current_session(), _filter(), db()
    platform_id, context_id = s.platform_id, course_id()
    shown, columns = matrix_columns(session, credentials_of_course(session, platform_id, context_id), chosen)
    own = services().read_sessions()  # the batches' own session: the stream outlives the request's
    try:  # the first batch is read now, so a query that fails is an error page, not a CSV cut after its header
        batches = export_batches(own, platform_id, context_id, chosen, shown, columns)
        first = list(itertools.islice(batches, 1))
    except BaseException:
        own.close()
        raise

    def rows() -> Iterator[str]:
        """Streamed after the request's own session is closed, one batch of learners at a time."""
        try:
            yield from _csv_rows(shown, columns, itertools.chain(first, batches))
        finally:
            own.close()

    filename = f"competencies-{(s.context_label or s.context_title or 'course')[:40]}.csv"
    response = Response(rows(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}"
    response.headers["Cache-Control"] = "private, no-store"
    response.call_on_close(own.close)  # also when the download is abandoned before it starts
    return response


def _filter() -> MatrixFilter:
    args = request.args
    state = args.get("state", "")
    return MatrixFilter(whole_or_none(args.get("credential")), state if state in STATES else "",
                        args.get("q", "")[:100], max(1, whole_or_none(args.get("page")) or 1))


def _csv_rows(shown: list[MicroCredential], columns: list[Column], batches: Iterator[MatrixPage]) -> Iterator[str]:
    """The header, then one line per learner, written as each batch of learners is read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Learner", "E-mail", "LMS user id", *[f"{c.title}: award" for c in shown],
                     *[f"{col.credential.title}: {_label(col.competency)}" for col in columns]])
    yield _drain(buffer)
    for page in batches:
        for learner in page.learners:
            awards = [_award_cell(page, learner.id, c.id) for c in shown]
            states = [page.state(learner.id, col) for col in columns]
            writer.writerow([_safe(v) for v in (learner.display_name, learner.email or "", learner.sub, *awards,
                                                *states)])
            yield _drain(buffer)


def _award_cell(page: MatrixPage, learner_id: int, credential_id: int) -> str:
    award = page.awards.get((learner_id, credential_id))
    if award is None:
        return ""
    return f"{award.status} {award.awarded_dt:%Y-%m-%d}"


def _label(competency: Competency) -> str:
    return f"{competency.code} {competency.short_name}" if competency.code else competency.short_name


def _safe(value: str) -> str:
    """Spreadsheets run cells that start like a formula: names come from the LMS, so neutralise them."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _drain(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value


def _quote(name: str) -> str:
    return quote(name, safe="")
