"""The workplace supervisor's page: no LMS account, only a single-use link that expires.

The link's token is the supervisor's credential, so the form's CSRF token is derived from it; error pages
are rendered here (not through the refusal logger) so the token never reaches a log line.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import Blueprint, render_template, request
from sqlalchemy import select

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Competency, Evidence, MicroCredential, Requirement
from lti_microcred.lti.models import Context, User
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.errors import ErrorPage
from lti_microcred.web.common.guards import form_has_nul

bp = Blueprint("attest", __name__, url_prefix="/attest")
CSRF_PURPOSE = "attest"
MAX_COMMENT = 5000

# Why a link no longer works -> (reason code, status); any other refusal reads as an invalid link.
LINK_STATES: dict[type[ops.EvidenceError], tuple[str, int]] = {
    ops.LinkUsed: ("link_used", 410), ops.LinkExpired: ("link_expired", 410),
}


@dataclass(frozen=True)
class Request:
    """What the supervisor is asked to confirm."""

    evidence: Evidence
    learner_name: str
    competency: Competency | None
    credentials: list[str]
    course: str


@bp.route("/<token>", methods=["GET"])
def answer(token: str) -> tuple[str, int, dict[str, str]]:
    try:
        asked = _request(token)
    except ops.EvidenceError as exc:
        return _gone(exc)
    return _page("public/attest_confirm.html", 200, asked=asked, csrf=_csrf(token), error=None)


@bp.route("/<token>", methods=["POST"])
def submit(token: str) -> tuple[str, int, dict[str, str]]:
    if not hmac.compare_digest(request.form.get("csrf_token", ""), _csrf(token)):
        return _error(ErrorPage("csrf_failed", "The form could not be accepted", "The form did not come from this "
                                "page.", "Open the link from the learner's message again and answer there."), 400)
    if form_has_nul():
        return _error(ErrorPage("nul_character", "The form could not be accepted", "A field contains a NUL "
                                "character.", "Go back, remove it from your comment and answer again."), 400)
    confirmed = request.form.get("answer") == "confirm"
    comment = request.form.get("comment", "")[:MAX_COMMENT]
    session = db()
    try:
        ops.attest(session, token, confirmed, comment)
        session.commit()
    except ops.EvidenceError as exc:
        session.rollback()
        return _gone(exc)
    return _page("public/attest_thanks.html", 200, confirmed=confirmed)


def _request(token: str) -> Request:
    session = db()
    _, evidence = ops.attestation_for(session, token)
    learner = session.get(User, evidence.learner_id)
    competency = session.get(Competency, evidence.competency_id) if evidence.competency_id else None
    course = session.get(Context, evidence.context_id)
    titles = list(session.scalars(
        select(MicroCredential.title).distinct()
        .join(Requirement, Requirement.micro_credential_id == MicroCredential.id)
        .where(MicroCredential.context_id == evidence.context_id, MicroCredential.status == "published",
               Requirement.competency_id == evidence.competency_id).order_by(MicroCredential.title)))
    return Request(evidence, learner.display_name if learner else "the learner", competency, titles,
                   (course.title if course else None) or "their course")


def _csrf(token: str) -> str:
    return services().signer.mac(CSRF_PURPOSE, hashlib.sha256(token.encode("utf-8", "replace")).hexdigest(), 24)


def _gone(exc: ops.EvidenceError) -> tuple[str, int, dict[str, str]]:
    code, status = LINK_STATES.get(type(exc), ("link_invalid", 404))
    return _error(ErrorPage(code, "This link cannot be used", str(exc),
                            "Nothing more is needed from you. If the learner needs an answer, they can send a new "
                            "request."), status)


def _error(page: ErrorPage, status: int) -> tuple[str, int, dict[str, str]]:
    return _page("error.html", status, error=page, reference=None)


def _page(template: str, status: int, **context: object) -> tuple[str, int, dict[str, str]]:
    return render_template(template, **context), status, {"Cache-Control": "no-store",
                                                          "Referrer-Policy": "no-referrer"}
