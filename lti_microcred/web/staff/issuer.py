"""The institution's issuer profile, set up by an administrator of one of its LMS registrations; keys rotate
from here too. An admin only ever reaches the institution of the registration they launched from."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from lti_microcred.credentials.issuing.issuer import (
    PROFILE_FIELDS,
    did_document_path,
    profile_form,
    profile_of,
    profile_path,
    profile_problems,
    rotate_issuer_keys,
)
from lti_microcred.lti.models import Institution, Platform
from lti_microcred.lti.roles import ADMIN
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint

bp = session_blueprint("issuer_admin", __name__, "/issuer")


@bp.route("/", methods=["GET", "POST"])
@requires_role(ADMIN)
def edit() -> str | Response | tuple[str, int]:
    session = db()
    institution_id = session.scalar(select(Platform.institution_id).where(
        Platform.id == current_session().platform_id))
    assert institution_id is not None
    profile, institution = profile_of(session, institution_id), session.get(Institution, institution_id)
    assert profile is not None and institution is not None
    settings = services().settings
    state = services().issuer.state(institution_id)
    page = {"did": state.did, "issuer_name": state.profile.name,
            "did_url": settings.url(did_document_path(institution)),
            "profile_url": settings.url(profile_path(institution))}
    if request.method == "GET":
        return render_template("staff/issuer.html", profile=profile, problems={}, **page)
    form = {name: value[:PROFILE_FIELDS[name]] for name, value in profile_form(request.form).items()}
    problems = profile_problems(form)
    if problems:
        return render_template("staff/issuer.html", profile=form, problems=problems, **page), 422
    for name, value in form.items():
        setattr(profile, name, value)
    if request.form.get("rotate_keys") == "1":
        rotate_issuer_keys(session, services().box, institution_id)
    session.commit()
    services().issuer.invalidate()
    return redirect(url_for("issuer_admin.edit", saved=1))
