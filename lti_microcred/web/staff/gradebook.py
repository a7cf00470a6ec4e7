"""The course's gradebook delivery: per learner and column, whether the LMS has the latest value, when it
was sent, why not if it failed; retry failed deliveries; read LMS grades back now, and say what was read."""

from __future__ import annotations

from flask import render_template, request
from werkzeug.wrappers import Response

from lti_microcred.lms.delivery.state import LABELS, retry_failed
from lti_microcred.lms.errors import NotReady, ServiceError
from lti_microcred.lms.moodle.state import course_ratings
from lti_microcred.lms.overview import gradebook
from lti_microcred.lms.readback import ReadbackReport, read_back
from lti_microcred.lti.roles import ADMIN, INSTRUCTOR
from lti_microcred.services import runtime_of
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.views_support import course_id, see_other, whole_or_none

bp = session_blueprint("gradebook", __name__, "/gradebook")
NOTICES = {"retried": "Failed deliveries were queued again.", "nothing": "Nothing had failed.",
           "read": "Grades were read from the LMS just now:", "readback_failed": "The LMS did not give its grades:"}


@bp.route("/", methods=["GET"])
@requires_role(INSTRUCTOR, ADMIN)
def index() -> str:
    context_id = course_id()
    book = gradebook(db(), context_id, whole_or_none(request.args.get("page")) or 1)
    return render_template("staff/gradebook.html", s=current_session(), book=book, labels=LABELS,
                           notice=NOTICES.get(request.args.get("notice", "")), detail=request.args.get("detail"),
                           lms=runtime_of(services()).connection.family(context_id),
                           readback_minutes=services().settings.grade_readback_minutes,
                           ratings=course_ratings(db(), context_id))  # staff/_moodle_ratings.html


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
    """Read the LMS's grades of LMS-graded modules now rather than at the next scheduled time, and say what was
    read: the page lists, per module, the grades read and why a column was not (kept with the course)."""
    context_id = course_id()
    db().commit()  # end the request's write transaction: read-back writes in its own (SQLite has one writer)
    try:
        report = read_back(runtime_of(services()).connection, context_id)
    except (ServiceError, NotReady) as exc:
        return see_other("gradebook.index", "readback_failed", detail=str(exc)[:300])
    return see_other("gradebook.index", "read", detail=summary(report))


def summary(report: ReadbackReport) -> str:
    """One sentence for the notice: how many grades from how many modules, and how many modules were not read."""
    read = [r for r in report.reads if r.read]
    text = (f"{report.results} grade{'' if report.results == 1 else 's'} from {len(read)} "
            f"module{'' if len(read) == 1 else 's'}, {report.recorded} of them new or changed.")
    if report.not_read:
        count = len(report.not_read)
        text += f" {count} module{' was' if count == 1 else 's were'} not read (see why below)."
    return text
