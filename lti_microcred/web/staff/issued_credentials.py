"""Credentials issued in this course, for its staff: see their status; suspend or reinstate, re-issue, revoke.

Suspending, re-issuing and revoking take effect only from their confirmation page, which says what will happen:
a POST without `confirmed=yes` shows that page and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template, request
from sqlalchemy import Select, select
from werkzeug.wrappers import Response

from lti_microcred.competencies import audit
from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Award, MicroCredential
from lti_microcred.credentials.issuing.credential_status import IssuanceError, change_status
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.lti.models import User
from lti_microcred.lti.roles import ADMIN, INSTRUCTOR
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import requires_role, session_blueprint
from lti_microcred.web.common.views_support import RecordNotFound, actor, course_id, notice, see_other

bp = session_blueprint("course_credentials", __name__, "/issued")
CONFIRMED = ("suspend", "reissue", "revoke")
REASON_LIMIT = {"suspend": 500, "revoke": 5000}


@dataclass(frozen=True)
class Row:
    """One issued credential with what the page names: its micro-credential, its learner, its award."""

    issued: IssuedCredential
    credential: MicroCredential
    learner: User
    award: Award

    @property
    def status(self) -> str:
        """Revoked as soon as its award is (the credential's own status follows within moments)."""
        return "revoked" if self.award.status == "revoked" else self.issued.status


@bp.route("/")
@requires_role(INSTRUCTOR, ADMIN)
def index() -> str:
    current = _rows().where(IssuedCredential.superseded_dt.is_(None))
    rows = [Row(*r) for r in db().execute(current.order_by(IssuedCredential.issued_dt.desc()).limit(500))]
    return render_template("staff/issued_credentials.html", rows=rows, urls=services().credential_urls,
                           notice=notice())


@bp.route("/<public_id>/<any(suspend, reissue, revoke):action>", methods=["GET"])
@requires_role(INSTRUCTOR, ADMIN)
def confirm(public_id: str, action: str) -> str:
    return _confirmation(_course_credential(public_id), action)


@bp.route("/<public_id>/status", methods=["POST"])
@requires_role(INSTRUCTOR, ADMIN)
def set_status(public_id: str) -> Response | tuple[str, int] | str:
    """Reinstate at once; suspend (with a reason) from the confirmation page only."""
    row, action = _course_credential(public_id), request.form.get("action", "")
    if action not in ("suspend", "reinstate") or row.status == "revoked":
        abort(400, "Choose suspend or reinstate (a revoked credential stays revoked).")
    held = _unconfirmed(row, action) if action == "suspend" else None
    if held is not None:
        return held
    reason = _reason("suspend") if action == "suspend" else ""
    change_status(db(), row.issued, "suspension", action == "suspend", reason)
    audit.record(db(), actor(), f"credential.{action}", f"credential:{row.issued.public_id}", row.learner.id,
                 reason=reason)
    db().commit()
    return see_other("course_credentials.index", "suspended" if action == "suspend" else "reinstated")


@bp.route("/<public_id>/reissue", methods=["POST"])
@requires_role(INSTRUCTOR, ADMIN)
def reissue(public_id: str) -> Response | tuple[str, int] | str:
    """After a change to the micro-credential or the issuer: a new credential, same award date."""
    row = _course_credential(public_id)
    held = _unconfirmed(row, "reissue")
    if held is not None:
        return held
    try:
        issuer = services().issuer.for_platform(db(), row.issued.platform_id)
        issue(db(), issuer, services().credential_urls, row.issued.award_id, reissue=True)
    except IssuanceError as exc:
        db().rollback()
        return _confirmation(row, "reissue", str(exc)), 422
    audit.record(db(), actor(), "credential.reissued", f"credential:{row.issued.public_id}", row.learner.id)
    db().commit()
    return see_other("course_credentials.index", "reissued")


@bp.route("/<public_id>/revoke", methods=["POST"])
@requires_role(INSTRUCTOR, ADMIN)
def revoke(public_id: str) -> Response | tuple[str, int] | str:
    """Revocation goes through the award, so the learner's record, the gradebook and the credential agree."""
    row = _course_credential(public_id)
    held = _unconfirmed(row, "revoke")
    if held is not None:
        return held
    try:
        ops.revoke(db(), actor(), row.award, _reason("revoke"))
        db().commit()
    except ops.DomainError as exc:
        db().rollback()
        return _confirmation(row, "revoke", str(exc)), 422
    return see_other("course_credentials.index", "revoked_credential")


def _unconfirmed(row: Row, action: str) -> tuple[str, int] | str | None:
    """The confirmation page instead of the change: when it was not confirmed, or a reason is missing."""
    if request.form.get("confirmed") != "yes":
        return _confirmation(row, action)
    if action in REASON_LIMIT and not _reason(action):
        doing = "suspending" if action == "suspend" else "revoking"
        return _confirmation(row, action, f"Give the reason for {doing}: the learner and anyone who checks the "
                                          "credential will see it."), 422
    if row.status == "revoked":
        return _confirmation(row, action, "This credential is revoked already: nothing more can change it."), 422
    return None


def _confirmation(row: Row, action: str, problem: str | None = None) -> str:
    return render_template("staff/confirm_credential.html", row=row, action=action, problem=problem,
                           reason=_reason(action) if action in REASON_LIMIT else "", urls=services().credential_urls)


def _reason(action: str) -> str:
    return request.form.get("reason", "").strip()[:REASON_LIMIT[action]]


def _rows() -> Select[IssuedCredential, MicroCredential, User, Award]:
    return (select(IssuedCredential, MicroCredential, User, Award)
            .join(MicroCredential, MicroCredential.id == IssuedCredential.micro_credential_id)
            .join(User, User.id == IssuedCredential.learner_id).join(Award, Award.id == IssuedCredential.award_id)
            .where(MicroCredential.context_id == course_id()))


def _course_credential(public_id: str) -> Row:
    """Any credential of the course, a replaced one too (its page then says it can no longer change)."""
    found = db().execute(_rows().where(IssuedCredential.public_id == public_id[:40])).one_or_none()
    if found is None:
        raise RecordNotFound(f"credential {public_id[:40]!r} is not one of this course's")
    return Row(*found)
