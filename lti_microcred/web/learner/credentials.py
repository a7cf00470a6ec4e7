"""The learner's credentials: download in every format, share, add to LinkedIn, and the whole record (CLR)."""

from __future__ import annotations

import json

from flask import Response, render_template

from lti_microcred.credentials.issuing.credential_status import learner_credentials
from lti_microcred.credentials.issuing.records import learner_record
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import current_session, session_blueprint
from lti_microcred.web.common.share import linkedin_url

bp = session_blueprint("my_credentials", __name__, "/my-credentials")


@bp.route("/")
def index() -> str:
    s = current_session()
    rows = learner_credentials(db(), s.platform_id, s.user_id)
    items = [{"row": row, "credential": credential, "verify_url": services().credential_urls.verify(row.public_id),
              "linkedin": linkedin_url(row, services())} for row, credential in rows]
    return render_template("learner/credentials.html", s=s, items=items)


@bp.route("/record.json")
def record() -> Response:
    s = current_session()
    sv = services()
    signed = learner_record(db(), sv.issuer.for_platform(db(), s.platform_id), sv.credential_urls, s.platform_id,
                           s.user_id)
    if signed is None:
        error = "You hold no current credential: there is no learner record to download."
        return Response(json.dumps({"error": error}), status=404, mimetype="application/json")
    response = Response(json.dumps(signed), mimetype="application/vc+ld+json")
    response.headers["Content-Disposition"] = 'attachment; filename="learner-record-clr.json"'
    return response
