"""The course roster as the LMS lists it (NRPS), with people who never launched the tool, and a sync now.

Named course_roster because web/roster.py holds the learner matrix queries."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from lti_microcred.lms.errors import NotReady, ServiceError
from lti_microcred.lms.models import CourseServices
from lti_microcred.lms.overview import roster_counts, roster_page
from lti_microcred.lms.roster import sync_roster
from lti_microcred.lti.roles import ADMIN, INSTRUCTOR
from lti_microcred.services import runtime_of
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.views_support import course_id, see_other, whole_or_none

bp = session_blueprint("course_roster", __name__, "/roster")
STATUSES = {"": "Everyone", "active": "Active", "inactive": "Inactive", "withdrawn": "Withdrawn"}


@bp.route("/", methods=["GET"])
@requires_role(INSTRUCTOR, ADMIN)
def index() -> str:
    session, context_id = db(), course_id()
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    rows, total, pages = roster_page(session, context_id, status, whole_or_none(request.args.get("page")) or 1)
    sync = session.scalars(select(CourseServices).where(CourseServices.context_id == context_id)).one_or_none()
    page = min(max(1, whole_or_none(request.args.get("page")) or 1), pages)
    return render_template("staff/roster.html", s=current_session(), rows=rows, total=total, pages=pages, page=page,
                           status=status, statuses=STATUSES, counts=roster_counts(session, context_id), sync=sync,
                           result=request.args.get("result"), problem=request.args.get("problem"))


@bp.route("/sync", methods=["POST"])
@requires_role(INSTRUCTOR, ADMIN)
def sync_now() -> Response:
    """Read the whole roster from the LMS now (bounded by the HTTP timeouts)."""
    context_id = course_id()
    db().commit()  # end the request's write transaction: the sync writes in its own (SQLite has one writer)
    try:
        report = sync_roster(runtime_of(services()).connection, context_id)
    except (ServiceError, NotReady) as exc:
        return see_other("course_roster.index", problem=str(exc)[:300])
    return see_other("course_roster.index", result=f"{report.members} members read from the LMS: {report.added} new, "
                                                   f"{report.withdrawn} withdrawn.")
