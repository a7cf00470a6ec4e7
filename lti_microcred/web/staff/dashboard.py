"""The staff landing page of a course: its micro-credentials with counts, and the way to everything else."""

from __future__ import annotations

from flask import render_template

from lti_microcred.web.common.context import db
from lti_microcred.web.common.guards import current_session
from lti_microcred.web.common.scoped import credentials_of_course
from lti_microcred.web.common.views_support import BUILDERS, course_id, notice
from lti_microcred.web.staff.course_queries import dashboard_rows, pending_count
from lti_microcred.web.staff.learner_tables import count_learners


def dashboard() -> str:
    """Rendered at /s/<token>/ for instructors, assessors and admins (home.entry dispatches by role)."""
    s, session = current_session(), db()
    rows = dashboard_rows(session, credentials_of_course(session, s.platform_id, course_id()), course_id())
    learners = count_learners(session, s.platform_id, course_id())
    return render_template("staff/dashboard.html", s=s, rows=rows, pending=pending_count(session, course_id()),
                           learners=learners, may_build=s.role in BUILDERS, notice=notice())
