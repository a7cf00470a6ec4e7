"""What the public verifier reads: an upload or pasted text from the page, a JSON or VC-JWT body from the API;
each bounded before anything is parsed."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from lti_microcred.credentials.errors import CredentialError
from lti_microcred.credentials.images.png_baking import PNG_SIGNATURE, extract_png
from lti_microcred.credentials.images.svg_baking import extract_svg
from lti_microcred.credentials.verification import MAX_UPLOAD_BYTES
from lti_microcred.web.common.credential_summary import summarize
from lti_microcred.web.public.unreadable import unreadable
from lti_microcred.web.public.verify_page import verdict_of


def _credential_of(raw: bytes) -> str:
    """The credential inside an upload: JSON, a VC-JWT, or a baked PNG/SVG badge."""
    if raw.startswith(PNG_SIGNATURE):
        return extract_png(raw)
    stripped = raw.lstrip()
    if stripped.startswith(b"<"):
        return extract_svg(raw)
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise CredentialError("The file is not a credential (not JSON, a VC-JWT, or a baked PNG/SVG).") from exc


def read_upload() -> tuple[str, str | None, int]:
    """(credential text, error, status) from the upload form; bounded before anything is parsed."""
    request.max_content_length = MAX_UPLOAD_BYTES + 64 * 1024
    try:
        upload = request.files.get("file")
        raw = upload.read(MAX_UPLOAD_BYTES + 1) if upload and upload.filename else request.form.get(
            "credential", "").encode("utf-8")
    except RequestEntityTooLarge:
        return "", f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: no credential is that big.", 413
    if len(raw) > MAX_UPLOAD_BYTES:
        return "", f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: no credential is that big.", 413
    if not raw.strip():
        return "", "Choose a credential file, or paste a credential (JSON or VC-JWT).", 400
    try:
        text = _credential_of(raw)
    except CredentialError as exc:
        return "", str(exc), 400
    problem = unreadable(text)
    return ("", problem, 400) if problem else (text, None, 200)


def api_verdict() -> tuple[Response, int]:
    """POST /api/verify: a credential JSON (or {"credential": ...}) or a compact VC-JWT as the body."""
    request.max_content_length = MAX_UPLOAD_BYTES
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return jsonify(error=f"the body exceeds {MAX_UPLOAD_BYTES} bytes"), 413
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return jsonify(error="send a credential (JSON) or a VC-JWT in the request body"), 400
    problem = unreadable(text)
    if problem:
        return jsonify(error=problem), 400
    credential: dict[str, Any] | str = text
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            return jsonify(error="the body is not valid JSON"), 400
        credential = parsed.get("credential", parsed) if isinstance(parsed, dict) else text
    verdict = verdict_of(credential)
    return jsonify(
        verified=verdict.verified, summary=verdict.summary(),
        checks=[{"check": c.name.value, "outcome": c.outcome.value, "reason": c.reason} for c in verdict.checks],
        credential=summarize(verdict.credential) if verdict.credential else None,
    ), 200
