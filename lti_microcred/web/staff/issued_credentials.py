"""Credentials issued in this course, for its staff: see their status, suspend or reinstate, re-issue."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from lti_microcred.competencies import audit
from lti_microcred.competencies.models import MicroCredential
from lti_microcred.credentials.issuing.credential_status import IssuanceError, change_status
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.lti.models import User
from lti_microcred.lti.roles import ADMIN, INSTRUCTOR
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import requires_role, session_blueprint
from lti_microcred.web.common.views_support import RecordNotFound, actor, course_id

bp = session_blueprint("course_credentials", __name__, "/issued")


@bp.route("/")
@requires_role(INSTRUCTOR, ADMIN)
def index() -> str:
    rows = db().execute(
        select(IssuedCredential, MicroCredential.title, User).join(
            MicroCredential, MicroCredential.id == IssuedCredential.micro_credential_id)
        .join(User, User.id == IssuedCredential.learner_id)
        .where(MicroCredential.context_id == course_id(), IssuedCredential.superseded_dt.is_(None))
        .order_by(IssuedCredential.issued_dt.desc()).limit(500)
    ).all()
    return render_template("staff/issued_credentials.html", rows=rows, urls=services().credential_urls)


def _course_credential(public_id: str) -> IssuedCredential:
    row = db().execute(select(IssuedCredential).join(
        MicroCredential, MicroCredential.id == IssuedCredential.micro_credential_id)
        .where(IssuedCredential.public_id == public_id[:40],
               MicroCredential.context_id == course_id())).scalar_one_or_none()
    if row is None:
        raise RecordNotFound(f"credential {public_id[:40]!r} is not one of this course's")
    return row


@bp.route("/<public_id>/status", methods=["POST"])
@requires_role(INSTRUCTOR, ADMIN)
def set_status(public_id: str) -> Response | tuple[str, int]:
    """Suspend (with a reason) or reinstate; revocation goes through the award, so the record stays whole."""
    row = _course_credential(public_id)
    action, reason = request.form.get("action", ""), request.form.get("reason", "").strip()
    if action == "suspend" and not reason:
        return render_template("staff/reason_needed.html"), 422
    if action not in ("suspend", "reinstate") or row.status == "revoked":
        abort(400, "Choose suspend or reinstate (a revoked credential stays revoked).")
    change_status(db(), row, "suspension", action == "suspend", reason)
    audit.record(db(), actor(), f"credential.{action}", f"credential:{row.public_id}", row.learner_id,
                 reason=reason)
    db().commit()
    return redirect(url_for("course_credentials.index"))


@bp.route("/<public_id>/reissue", methods=["POST"])
@requires_role(INSTRUCTOR, ADMIN)
def reissue(public_id: str) -> Response:
    """After a change to the micro-credential or the issuer: a new credential, same award date."""
    row = _course_credential(public_id)
    try:
        issuer = services().issuer.for_platform(db(), row.platform_id)
        issue(db(), issuer, services().credential_urls, row.award_id, reissue=True)
    except IssuanceError as exc:
        abort(400, str(exc))
    audit.record(db(), actor(), "credential.reissued", f"credential:{row.public_id}", row.learner_id)
    db().commit()
    return redirect(url_for("course_credentials.index"))
