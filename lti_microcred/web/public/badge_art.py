"""Badge art at public addresses: an achievement's picture (what its credentials name as their image), and the
picture a credential is baked into. Art that came from an upload is served with a policy that lets nothing in
it run or load, whatever a viewer does with it."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, request
from sqlalchemy import select

from lti_microcred.competencies.models import MicroCredential
from lti_microcred.credentials.images.art import Art, art, design_of, design_of_document, uploaded
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.web.common.context import db, services

bp = Blueprint("badge_art", __name__)
SVG_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"


def achievement_art(credential: MicroCredential) -> Art:
    issuer = services().issuer.for_platform(db(), credential.platform_id)
    return art(design_of(credential, issuer), uploaded(db(), credential.id))


def credential_art(row: IssuedCredential) -> Art:
    """The credential's picture: its micro-credential's art, titled as the credential was issued."""
    document = json.loads(row.signed_json)
    return art(design_of_document(document, services().issuer.all()), uploaded(db(), row.micro_credential_id))


def send_image(body: bytes, mimetype: str, version: str, filename: str | None = None, max_age: int = 300
               ) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.set_etag(version)
    if mimetype == "image/svg+xml":
        response.headers["Content-Security-Policy"] = SVG_POLICY
    if filename and request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.make_conditional(request)
    return response


def _public(key: str) -> MicroCredential:
    """A micro-credential anyone may see: published or archived, or a draft a credential was issued from."""
    found = db().scalars(select(MicroCredential).where(MicroCredential.key == key[:32])).one_or_none()
    if found is None or (found.status == "draft" and db().scalar(select(IssuedCredential.id).where(
            IssuedCredential.micro_credential_id == found.id).limit(1)) is None):
        abort(404, "No micro-credential has this address.")
    return found


@bp.route("/achievements/<key>/badge.png")
def achievement_png(key: str) -> Response:
    picture = achievement_art(_public(key))
    return send_image(picture.png, "image/png", picture.version, f"badge-{key[:32]}.png")


@bp.route("/achievements/<key>/badge.svg")
def achievement_svg(key: str) -> Response:
    picture = achievement_art(_public(key))
    return send_image(picture.svg, "image/svg+xml", picture.version, f"badge-{key[:32]}.svg")
