"""The course's gradebook delivery: per learner and column, whether the LMS has the latest value, when it
was sent, why not if it failed; retry failed deliveries; read LMS grades back now."""

from __future__ import annotations

from flask import render_template, request
from werkzeug.wrappers import Response

from lti_microcred.lms.delivery.state import LABELS, retry_failed
from lti_microcred.lms.errors import NotReady, ServiceError
from lti_microcred.lms.overview import gradebook
from lti_microcred.lms.readback import read_back
from lti_microcred.lti.roles import ADMIN, INSTRUCTOR
from lti_microcred.services import runtime_of
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.views_support import course_id, see_other, whole_or_none

bp = session_blueprint("gradebook", __name__, "/gradebook")
NOTICES = {"retried": "Failed deliveries were queued again.", "nothing": "Nothing had failed.",
           "read": "Grades were read from the LMS.", "readback_failed": "The LMS did not give its grades."}


@bp.route("/", methods=["GET"])
@requires_role(INSTRUCTOR, ADMIN)
def index() -> str:
    book = gradebook(db(), course_id(), whole_or_none(request.args.get("page")) or 1)
    return render_template("staff/gradebook.html", s=current_session(), book=book, labels=LABELS,
                           notice=NOTICES.get(request.args.get("notice", "")), detail=request.args.get("detail"))


@bp.route("/retry", methods=["POST"])
@requires_role(INSTRUCTOR, ADMIN)
def retry() -> Response:
    """Queue failed cells again: all of the course, or the one named by `key`."""
    session = db()
    key = request.form.get("key") or None
    count = retry_failed(session, course_id(), key[:200] if key else None)
    session.commit()
    runtime_of(services()).wake()  # the in-process worker, if it sleeps, starts on them now
    return see_other("gradebook.index", "retried" if count else "nothing")


@bp.route("/read-back", methods=["POST"])
@requires_role(INSTRUCTOR, ADMIN)
def read_now() -> Response:
    """Read the LMS's grades of LMS-graded modules now rather than at the next scheduled time."""
    context_id = course_id()
    db().commit()  # end the request's write transaction: read-back writes in its own (SQLite has one writer)
    try:
        read_back(runtime_of(services()).connection, context_id)
    except (ServiceError, NotReady) as exc:
        return see_other("gradebook.index", "readback_failed", detail=str(exc)[:300])
    return see_other("gradebook.index", "read")
