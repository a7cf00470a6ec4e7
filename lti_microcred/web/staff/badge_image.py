"""A micro-credential's badge image, on its page: upload the institution's own PNG or SVG (checked by content,
re-encoded or cleaned: credentials/images/uploads.py), or go back to the generated design. The credentials
already issued show the new picture at once: they name the picture's address, not its bytes."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import g, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from lti_microcred.competencies import audit
from lti_microcred.competencies.models import MicroCredential
from lti_microcred.core.db import utcnow
from lti_microcred.credentials.images.art import Art, art, design_of, stored, uploaded
from lti_microcred.credentials.images.uploads import (
    MAX_BYTES,
    PNG,
    BadgeImageError,
    megabytes,
    read_badge_image,
    read_png,
)
from lti_microcred.credentials.models import BadgeArt
from lti_microcred.web.common import scoped
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.uploads import display_name
from lti_microcred.web.common.views_support import BUILDERS, REVIEWERS, actor, see_other
from lti_microcred.web.staff import microcredentials

bp = session_blueprint("badge_image", __name__, "/credentials")
PICTURE_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"  # nothing in it runs or loads
NOTICES = {"badge_uploaded": "The badge image was saved. Credentials already issued show it too.",
           "badge_generated": "The generated design is used again."}


def _art(credential: MicroCredential) -> Art:
    issuer = services().issuer.for_platform(db(), credential.platform_id)
    return art(design_of(credential, issuer), uploaded(db(), credential.id))


@bp.app_context_processor
def _badge_image_globals() -> dict[str, Any]:
    return {"badge_image_of": badge_image_of}


def badge_image_of(credential: MicroCredential) -> dict[str, Any]:
    """What the badge image form shows: the picture now, where it came from, any problem of the last upload."""
    own = uploaded(db(), credential.id)
    issuer = services().issuer.for_platform(db(), credential.platform_id)
    version = own.sha256[:16] if own else hashlib.sha256(repr(design_of(credential, issuer)).encode()).hexdigest()[:16]
    return {"own": own, "svg_without_png": own is not None and own.media_type != PNG and own.png_copy is None,
            "svg": url_for("badge_image.preview", key=credential.key, kind="svg", v=version),
            "png": url_for("badge_image.preview", key=credential.key, kind="png"),
            "problems": g.get("badge_problems", {}), "notice": NOTICES.get(request.args.get("badge", "")),
            "max": megabytes(MAX_BYTES)}


@bp.route("/<key>/badge.<any(svg, png):kind>")
@requires_role(*REVIEWERS)
def preview(key: str, kind: str) -> Response:
    """The picture as learners and employers will see it (drafts too: only staff reach this address)."""
    picture = _art(scoped.credential(db(), current_session(), key))
    response = Response(picture.svg if kind == "svg" else picture.png,
                        mimetype="image/svg+xml" if kind == "svg" else "image/png")
    response.headers["Content-Security-Policy"] = PICTURE_POLICY
    return response


@bp.route("/<key>/badge-image", methods=["POST"])
@requires_role(*BUILDERS)
def change(key: str) -> Response | tuple[str, int]:
    credential = scoped.credential(db(), current_session(), key)
    if request.form.get("use") == "generated":
        own = uploaded(db(), credential.id)
        if own is not None:
            db().delete(own)
            audit.record(db(), actor(), "credential.badge_image", f"credential:{credential.key}",
                         image="the generated design")
            db().commit()
        return see_other("credentials.show", anchor="badge-image", key=credential.key, badge="badge_generated")
    problems = _save(credential, request.files.get("image"), request.files.get("png_copy"))
    if problems:
        g.badge_problems = problems
        return microcredentials.show(key), 422
    return see_other("credentials.show", anchor="badge-image", key=credential.key, badge="badge_uploaded")


def _save(credential: MicroCredential, image: FileStorage | None, png_copy: FileStorage | None) -> dict[str, str]:
    """Store the upload (one picture per micro-credential); the problems, by field, when it is refused."""
    if image is None or not image.filename:
        return {"image": "Choose the PNG or SVG file of your badge image."}
    try:
        picture = read_badge_image(image.read(MAX_BYTES + 1))
    except BadgeImageError as exc:
        return {"image": f"{display_name(image.filename)}: {exc}"}
    copy = None
    if picture.media_type != PNG and png_copy is not None and png_copy.filename:
        try:
            copy = read_png(png_copy.read(MAX_BYTES + 1))
        except BadgeImageError as exc:
            return {"png_copy": f"{display_name(png_copy.filename)}: {exc}"}
    own = uploaded(db(), credential.id) or BadgeArt(micro_credential_id=credential.id)
    for name, value in stored(picture, copy).items():
        setattr(own, name, value)
    own.filename, own.uploaded_by_id, own.uploaded_dt = display_name(image.filename)[:255], actor().user_id, utcnow()
    db().add(own)
    audit.record(db(), actor(), "credential.badge_image", f"credential:{credential.key}",
                 image=f"{own.filename} ({'PNG' if picture.media_type == PNG else 'SVG'})")
    db().commit()
    return {}
