"""Evidence files, downloaded only by their owner and the staff of the course, always as attachments."""

from __future__ import annotations

from flask import Response, send_file

from lti_microcred.core.storage import StoredFileMissing
from lti_microcred.lti.roles import ADMIN, ASSESSOR, INSTRUCTOR, LEARNER
from lti_microcred.web.common import scoped
from lti_microcred.web.common.context import db
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.views_support import RecordNotFound, storage

bp = session_blueprint("files", __name__, "/files")


@bp.route("/<key>")
@requires_role(LEARNER, INSTRUCTOR, ASSESSOR, ADMIN)
def download(key: str) -> Response:
    """The file of one piece of evidence; scoped.evidence refuses other courses and other learners' records."""
    evidence = scoped.evidence(db(), current_session(), key)
    if not evidence.file_key:
        raise RecordNotFound(f"evidence {key!r} has no file")
    try:
        stream = storage().open(evidence.file_key)
    except StoredFileMissing as exc:
        raise RecordNotFound("the stored file is missing") from exc
    # Flask adds "; charset=utf-8" to text types: right, as the storage accepts text only as valid UTF-8.
    response = send_file(stream, mimetype=evidence.file_type or "application/octet-stream", as_attachment=True,
                         download_name=evidence.file_name or "evidence", conditional=False, etag=False,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
