"""The learner's credentials: the badge, download, share, add to LinkedIn, verify; other formats and the whole
record (CLR) behind a disclosure."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, render_template

from lti_microcred.core.db import utcnow
from lti_microcred.credentials.issuing.credential_status import learner_credentials
from lti_microcred.credentials.issuing.records import learner_record
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.credential_summary import summarize
from lti_microcred.web.common.guards import current_session, session_blueprint
from lti_microcred.web.common.share import linkedin_url

bp = session_blueprint("my_credentials", __name__, "/my-credentials")
STATES = {"active": ("active", "Valid"), "suspended": ("pending", "Suspended"), "revoked": ("revoked", "Revoked"),
          "expired": ("not_started", "Expired")}


@bp.route("/")
def index() -> str:
    s = current_session()
    rows = learner_credentials(db(), s.platform_id, s.user_id)
    items = [_item(row, credential) for row, credential in rows]
    return render_template("learner/credentials.html", s=s, items=items)


def _item(row: IssuedCredential, credential: Any) -> dict[str, Any]:
    """What the page shows of one credential: who issued it, its state in words, where to share and verify it."""
    state = row.status
    if state == "active" and row.valid_until is not None and row.valid_until < utcnow():
        state = "expired"
    return {"row": row, "credential": credential, "issuer": summarize(json.loads(row.signed_json))["issuer"],
            "state": STATES.get(state, ("not_started", state.capitalize())),
            "verify_url": services().credential_urls.verify(row.public_id), "linkedin": linkedin_url(row, services())}


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
