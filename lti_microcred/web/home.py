"""Where a launch lands: the page for the launcher's role (learner progress, or the staff dashboard)."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from werkzeug.wrappers import Response

from lti_microcred.competencies.operations import module_by_key
from lti_microcred.lti import claims as c
from lti_microcred.lti.roles import LEARNER
from lti_microcred.web.common.context import db
from lti_microcred.web.common.guards import current_session, session_blueprint
from lti_microcred.web.learner import dashboard as learner
from lti_microcred.web.staff import dashboard as instructor

bp = session_blueprint("session", __name__)


@bp.route("/")
def entry() -> Response | str:
    s = current_session()
    if s.message_type == c.DEEP_LINKING_REQUEST:
        return redirect(url_for("deep_link.picker"))
    if s.context_id is not None and s.role == LEARNER:
        return learner.dashboard()
    if s.context_id is not None and s.is_staff:
        return instructor.dashboard()
    module = module_by_key(db(), s.context_id, s.module_key) if s.context_id and s.module_key else None
    return render_template("home_other.html", s=s, module=module)
