"""The institution's issuer profile, set up once by an administrator; keys rotate from here too."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_microcred.credentials.issuing.issuer import PROFILE_FIELDS, profile_form, profile_problems, rotate_issuer_keys
from lti_microcred.credentials.models import IssuerProfile
from lti_microcred.lti.roles import ADMIN
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import requires_role, session_blueprint

bp = session_blueprint("issuer_admin", __name__, "/issuer")


@bp.route("/", methods=["GET", "POST"])
@requires_role(ADMIN)
def edit() -> str | Response | tuple[str, int]:
    session = db()
    profile = session.get(IssuerProfile, 1)
    assert profile is not None
    if request.method == "GET":
        return render_template("staff/issuer.html", profile=profile, problems={},
                               did=services().issuer.state().did)
    form = {name: value[:PROFILE_FIELDS[name]] for name, value in profile_form(request.form).items()}
    problems = profile_problems(form)
    if problems:
        return render_template("staff/issuer.html", profile=form, problems=problems,
                               did=services().issuer.state().did), 422
    for name, value in form.items():
        setattr(profile, name, value)
    if request.form.get("rotate_keys") == "1":
        rotate_issuer_keys(session, services().box)
    session.commit()
    services().issuer.invalidate()
    return redirect(url_for("issuer_admin.edit", saved=1))
