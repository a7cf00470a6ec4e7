"""Public credential URLs: the credential in every format, the issuer's DID document and profile, status lists,
our JSON-LD context, the verification page and API, and OB 2.0 hosted assertions for older backpacks."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from sqlalchemy import select

from lti_microcred.competencies.models import MicroCredential
from lti_microcred.credentials.contexts import MICROCRED_CONTEXT_PATH, microcred_context_document
from lti_microcred.credentials.documents import ob2
from lti_microcred.credentials.documents.openbadge import achievement_json
from lti_microcred.credentials.images.png_baking import bake_png
from lti_microcred.credentials.images.svg_baking import bake_svg
from lti_microcred.credentials.issuing.achievement_data import achievement
from lti_microcred.credentials.issuing.issuer_state import IssuerState
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.credentials.verification.our_issuer import signer_of
from lti_microcred.web.common.context import db, services
from lti_microcred.web.public.badge_art import credential_art, send_image
from lti_microcred.web.public.negotiation import wants_page
from lti_microcred.web.public.verify_page import render_verdict

bp = Blueprint("credentials_public", __name__)
VC_JSON, VC_JWT = "application/vc+ld+json", "application/vc+jwt"


def _issued(public_id: str) -> IssuedCredential:
    row = db().scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id[:40])).one_or_none()
    if row is None:
        abort(404, "No credential has this address.")
    return row


def _send(body: bytes | str, mimetype: str, filename: str | None = None, max_age: int = 60) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # verifiers and wallets read these from anywhere
    if filename and request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/.well-known/did.json")
def did_document() -> Response:
    """The host root institution's DID document; every other institution's is under /institutions/<slug>/."""
    return _send(json.dumps(services().issuer.state().did_document), "application/did+json", max_age=300)


@bp.route("/issuer")
def issuer_profile() -> Response:
    return _send(json.dumps(services().issuer.state().https_profile), "application/json", max_age=300)


@bp.route(MICROCRED_CONTEXT_PATH)
def extension_context() -> Response:
    return _send(json.dumps(microcred_context_document()), "application/ld+json", max_age=86400)


@bp.route("/status/<public_id>")
def status_list(public_id: str) -> Response:
    s = services()
    signed = s.signed_status_lists.get(db(), public_id[:40], s.settings.base_url, signer_of(s.issuer.all()))
    if signed is None:
        abort(404, "No status list has this address.")
    return _send(json.dumps(signed), VC_JSON, max_age=10)  # revocations show within seconds


@bp.route("/credentials/<public_id>")
def credential(public_id: str) -> Response:
    """A person's browser is sent to the verification page; a program gets the signed JSON (negotiation.py)."""
    if wants_page(request.accept_mimetypes, request.headers.get("User-Agent", "")):
        response = redirect(url_for("credentials_public.verify_page", public_id=public_id))
    else:
        response = credential_json(public_id)
    response.headers["Vary"] = "Accept, User-Agent"
    return response  # type: ignore[return-value]


@bp.route("/credentials/<public_id>.json")
def credential_json(public_id: str) -> Response:
    return _send(_issued(public_id).signed_json, VC_JSON, f"credential-{public_id}.json")


@bp.route("/credentials/<public_id>.jwt")
def credential_jwt(public_id: str) -> Response:
    row = _issued(public_id)
    if not row.signed_jwt:
        abort(404, "This credential has no VC-JWT form.")
    return _send(row.signed_jwt, VC_JWT, f"credential-{public_id}.jwt")


@bp.route("/credentials/<public_id>.png")
def credential_png(public_id: str) -> Response:
    """The credential's badge art with the credential baked in (titled as issued: credential_art)."""
    row = _issued(public_id)
    art = credential_art(row)
    return send_image(bake_png(art.png, row.signed_json), "image/png", f"{row.status}-{art.version}",
                      f"credential-{public_id}.png", max_age=60)


@bp.route("/credentials/<public_id>.svg")
def credential_svg(public_id: str) -> Response:
    row = _issued(public_id)
    art = credential_art(row)
    return send_image(bake_svg(art.svg, row.signed_json), "image/svg+xml", f"{row.status}-{art.version}",
                      f"credential-{public_id}.svg", max_age=60)


@bp.route("/achievements/<key>")
def achievement_document(key: str) -> Response:
    credential_row = db().scalars(select(MicroCredential).where(MicroCredential.key == key[:32],
                                                                MicroCredential.status != "draft")).one_or_none()
    if credential_row is None:
        abort(404, "No micro-credential has this address.")
    s = services()
    data = achievement(db(), s.issuer.for_platform(db(), credential_row.platform_id), s.credential_urls, credential_row)
    return _send(json.dumps(achievement_json(data)), "application/json", max_age=300)


@bp.route("/verify/<public_id>", methods=["GET", "POST"])
def verify_page(public_id: str) -> Response:
    """The credential's page; a POST checks an e-mail address against its hashed recipient (for browsers that
    cannot do it themselves: the page's script checks it without sending it anywhere)."""
    row = _issued(public_id)
    email = str(request.form.get("email", ""))[:320] if request.method == "POST" else None
    return render_verdict(row.signed_json, stored=row, email=email)


@bp.route("/verify", methods=["GET", "POST"])
def verify_upload() -> Response | str | tuple[str, int]:
    from lti_microcred.web.public.verify_input import read_upload

    if request.method == "GET":
        return render_template("public/verify_upload.html", error=None, api_url=_api_url())
    submitted, error, status = read_upload()
    if error:
        return render_template("public/verify_upload.html", error=error, api_url=_api_url()), status
    return render_verdict(submitted)


def _api_url() -> str:
    """The public address (BASE_URL), not the Host header a proxy may have rewritten."""
    return services().settings.base_url.rstrip("/") + url_for("credentials_public.verify_api")


@bp.route("/api/verify", methods=["POST"])
def verify_api() -> tuple[Response, int]:
    from lti_microcred.web.public.verify_input import api_verdict

    return api_verdict()


# --- OB 2.0 hosted verification, for backpacks that only read 2.0 (Moodle, Badgr) ------------------------
@bp.route("/ob2/assertions/<public_id>")
def ob2_assertion(public_id: str) -> Response:
    row = _issued(public_id)
    data = json.loads(row.signed_json)
    s = services()
    credential_row = db().get(MicroCredential, row.micro_credential_id)
    assert credential_row is not None
    assertion = ob2.build_ob2_assertion(
        ob2.award_of(data), assertion_url=s.settings.url(f"/ob2/assertions/{public_id}"),
        badge_class_url=s.settings.url(f"/ob2/badges/{credential_row.key}"),
        revocation_reason=ob2.revocation_reason(row.status, row.status_reason))
    return _send(json.dumps(assertion), "application/json")


@bp.route("/ob2/badges/<key>")
def ob2_badge_class(key: str) -> Response:
    s = services()
    credential_row = db().scalars(select(MicroCredential).where(MicroCredential.key == key[:32])).one_or_none()
    if credential_row is None:
        abort(404)
    issuer = s.issuer.for_platform(db(), credential_row.platform_id)
    data = achievement(db(), issuer, s.credential_urls, credential_row)
    badge = ob2.build_ob2_badge_class(data, badge_class_url=s.settings.url(f"/ob2/badges/{key}"),
                                      issuer_url=s.settings.url(ob2_issuer_path(issuer)),
                                      image_url=s.credential_urls.badge_image(key[:32]))
    return _send(json.dumps(badge), "application/json", max_age=300)


@bp.route("/ob2/issuer")
def ob2_issuer() -> Response:
    return _send_ob2_issuer(services().issuer.state())


# --- every other institution's issuer documents, below its own path ---------------------------------------
@bp.route("/institutions/<slug>/did.json")
def institution_did_document(slug: str) -> Response:
    return _send(json.dumps(_institution(slug).did_document), "application/did+json", max_age=300)


@bp.route("/institutions/<slug>/issuer")
def institution_issuer_profile(slug: str) -> Response:
    return _send(json.dumps(_institution(slug).https_profile), "application/json", max_age=300)


@bp.route("/institutions/<slug>/ob2/issuer")
def institution_ob2_issuer(slug: str) -> Response:
    return _send_ob2_issuer(_institution(slug))


def _institution(slug: str) -> IssuerState:
    found = services().issuer.by_slug(slug[:64])
    if found is None or found.did == services().issuer.state().did:  # the root's documents live at the root
        abort(404, "No institution has this address.")
    return found


def ob2_issuer_path(issuer: IssuerState) -> str:
    return "/ob2/issuer" if issuer.did == services().issuer.state().did else f"/institutions/{issuer.slug}/ob2/issuer"


def _send_ob2_issuer(issuer: IssuerState) -> Response:
    url = services().settings.url(ob2_issuer_path(issuer))
    return _send(json.dumps(ob2.build_ob2_issuer(issuer.profile, issuer_url=url)), "application/json", max_age=300)


@bp.route("/credentials/<public_id>/linkedin")
def linkedin(public_id: str) -> Response:
    """Redirect to LinkedIn's add-to-profile form, filled in with this credential."""
    from lti_microcred.web.common.share import linkedin_url

    row = _issued(public_id)
    return redirect(linkedin_url(row, services()), 302)  # type: ignore[return-value]
