"""The LTI endpoints the LMS talks to: /lti/login, /lti/launch, /lti/jwks, /lti/register, /lti/config.json."""

from __future__ import annotations

import hmac
import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, jsonify, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_microcred.core import request_ids
from lti_microcred.core.metrics import count_launch
from lti_microcred.lti import registration
from lti_microcred.lti.canvas_config import canvas_config
from lti_microcred.lti.errors import PayloadTooLarge, StorageUnavailable
from lti_microcred.lti.launch import ToolMessageLaunch
from lti_microcred.lti.login import LoginRedirect, LoginRequest, auth_origin, begin_login
from lti_microcred.lti.login_errors import login_error
from lti_microcred.lti.persistence import record_launch
from lti_microcred.lti.sessions import confirm_pending
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.guards import refuse_nul_in_form

log = logging.getLogger(__name__)
bp = Blueprint("lti", __name__, url_prefix="/lti")

NEW_WINDOW_PARAM = "lmc_new_window"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.before_request
def _bound_body() -> None:
    limit = services().settings.launch_max_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the request body is {request.content_length} bytes; the limit is {limit}")
    request.max_content_length = limit  # also bounds chunked bodies that announce no length
    refuse_nul_in_form()  # read within that bound; PostgreSQL takes no NUL in text


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    params = request.values
    login_request = LoginRequest.from_params(params)
    s = services()
    started = begin_login(login_request, s.registry, s.signer, s.settings.base_url, s.settings.url("/lti/launch"))
    in_iframe = request.headers.get("Sec-Fetch-Dest") == "iframe" and params.get(NEW_WINDOW_PARAM) != "1"
    if login_request.storage_target or in_iframe:
        # The page tries the platform's storage (when offered) and checks cookies before going on.
        new_window = url_for("lti.login", _external=False) + "?" + urlencode(
            {**{k: v for k, v in params.items() if k != NEW_WINDOW_PARAM}, NEW_WINDOW_PARAM: "1"})
        response: Response = make_response(render_template(
            "lti/login.html", started=started, new_window_url=new_window,
            storage_target=login_request.storage_target or ""))
    else:
        response = redirect(started.auth_url, 302)
    _set_state_cookie(response, started)
    response.headers.update(NO_STORE)
    return response


def _cookie_attributes() -> dict[str, Any]:
    # Cross-site iframes need SameSite=None (which needs Secure); Partitioned keeps it in Chrome's CHIPS jar.
    # Over plain http (development) no SameSite is sent, so browsers apply their defaults.
    secure = services().settings.base_url.startswith("https://")
    return {"path": "/lti/", "httponly": True, "secure": secure, "samesite": "None" if secure else None,
            "partitioned": secure}


def _set_state_cookie(response: Response, started: LoginRedirect) -> None:
    response.set_cookie(started.state.cookie_name, started.state.binding,
                        max_age=services().settings.state_ttl_seconds, **_cookie_attributes())


@bp.route("/launch", methods=["POST"])
def launch() -> Response | str:
    s = services()
    refused = login_error(request.form, s.registry, s.signer, s.settings.state_ttl_seconds)
    if refused is not None:  # the LMS answered the login with an error instead of an id_token
        raise refused
    message = ToolMessageLaunch(request.form.get("id_token", ""), request.form.get("state", ""),
                                registry=s.registry, keys=s.platform_keys, signer=s.signer, policy=s.launch_policy)
    message.validate()
    state = message.login_state
    assert state is not None
    cookie = request.cookies.get(state.cookie_name, "")
    if cookie and hmac.compare_digest(cookie, state.binding):
        status = "active"
    else:
        status = "pending" if state.storage_target else "unbound"
    session = db()
    recorded = record_launch(session, s.known_rows, message, status, s.settings.session_ttl_seconds)
    session.commit()
    request_ids.bind_launch(request_ids.current())  # this request is the launch: its id names the launch
    log.info("launch %s: %s as %s, platform %s, launch session %s", status, recorded.message_type, recorded.role,
             message.platform.id if message.platform else None, recorded.session_id)
    if status == "unbound":
        raise StorageUnavailable("the state cookie set at login did not come back with the launch").for_platform(
            message.platform.issuer if message.platform else None,
            message.platform.client_id if message.platform else None)
    count_launch("awaiting_storage" if status == "pending" else "accepted")
    if status == "pending":
        assert message.platform is not None
        response: Response = make_response(render_template(
            "lti/launch_storage.html", token=recorded.token, storage_key=state.storage_key,
            storage_target=state.storage_target, auth_origin=auth_origin(message.platform)))
    else:
        response = redirect(url_for("session.entry", token=recorded.token), 303)
    response.delete_cookie(state.cookie_name, **_cookie_attributes())
    response.headers.update(NO_STORE)
    return response


@bp.route("/launch/confirm", methods=["POST"])
def confirm() -> Response:
    """The platform's storage gave the state back to the launch page: activate the waiting session."""
    error = request.form.get("storage_error", "")
    if error:
        raise StorageUnavailable(f"the LMS storage did not answer: {error[:200]}")
    token = request.form.get("token", "")
    session = db()
    launch_id = confirm_pending(session, token, request.form.get("state", ""),
                                services().settings.pending_launch_ttl_seconds)
    request_ids.bind_launch(launch_id)
    session.commit()
    count_launch("confirmed")
    response = redirect(url_for("session.entry", token=token), 303)
    response.headers.update(NO_STORE)
    return response


@bp.route("/jwks")
def jwks() -> Response:
    """The tool's public keys; also served at /.well-known/jwks.json (`well_known`, below)."""
    response = jsonify(services().tool_keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/config.json")
def config_json() -> Response:
    """Canvas developer-key JSON with this server's public URL filled in."""
    return jsonify(canvas_config(services().settings.base_url, services().settings.tool_name))


@bp.route("/register", methods=["GET", "POST"])
@bp.route("/register/<invite>", methods=["GET", "POST"])
def register(invite: str = "") -> Response | str:
    """LTI Dynamic Registration: the LMS opens this page with openid_configuration + registration_token."""
    params = registration.RegistrationParams.from_request(request.values, invite)
    s = services()
    platform_config = s.registrar.fetch_configuration(params)
    if request.method == "GET":
        return render_template("lti/register_confirm.html", params=params, config=platform_config)
    session = db()
    outcome = s.registrar.register(session, params, platform_config)
    session.commit()
    s.registry.invalidate()
    log.info("dynamic registration: platform %s (%s, client_id %s) stored as %s", outcome.platform_id,
             platform_config.issuer, outcome.client_id, outcome.status)
    return render_template("lti/register_done.html", outcome=outcome, config=platform_config)


well_known = Blueprint("well_known", __name__)
well_known.add_url_rule("/.well-known/jwks.json", "jwks", jwks)  # the same keys as /lti/jwks
