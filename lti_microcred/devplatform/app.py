"""HTTP face of the loopback LMS: course page, OIDC auth endpoint, JWKS, token, Deep Linking return,
platform storage frame, Dynamic Registration. One function registers each group of routes; the AGS and
NRPS endpoints come from `routing`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, url_for

from lti_microcred.devplatform.adapters import PlatformRefusal
from lti_microcred.devplatform.canvas_rules import canvas_audience_problem
from lti_microcred.devplatform.moodle_webservice import register_moodle_webservice
from lti_microcred.devplatform.platform import STORAGE_FRAME, DevPlatform
from lti_microcred.devplatform.routing import register_services

HERE = Path(__file__).parent


def create_platform_app(platform: DevPlatform) -> Flask:
    app = Flask("devplatform", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"),
                static_url_path="/lms-static")
    app.extensions["devplatform"] = platform
    register_services(app, platform)
    register_moodle_webservice(app, platform)  # Moodle's REST web services (competency ratings); Moodle only

    @app.errorhandler(PlatformRefusal)
    def _refused(error: PlatformRefusal) -> tuple[Response, int]:
        return jsonify(error=str(error)), error.status

    _register_course_pages(app, platform)
    _register_oidc_auth(app, platform)
    _register_keys_and_tokens(app, platform)
    _register_deep_linking(app, platform)
    _register_storage_frame(app)
    _register_dynamic_registration(app, platform)
    _register_state(app, platform)
    return app


def _register_course_pages(app: Flask, platform: DevPlatform) -> None:
    """The course page, the page that frames a launch, and the bare login URL (for tests without a browser)."""
    @app.route("/")
    def course() -> str:
        return render_template("course.html", p=platform, links=list(platform.links.values()))

    @app.route("/launch")
    def launch_page() -> str:
        """The LMS page that frames the tool, as a course page in Moodle or Canvas does."""
        user = request.args.get("user", "learner-1")
        if user not in platform.users:
            abort(404)
        url = platform.login_url(user, request.args.get("link"), request.args.get("dl") == "1",
                                 request.args.get("client_id"))
        return render_template("launch.html", p=platform, login_url=url, storage_frame=STORAGE_FRAME,
                               canvas=platform.setup.flavour == "canvas", user=platform.users[user])

    @app.route("/links/<link_id>/publish", methods=["POST"])
    def publish(link_id: str) -> Any:
        """Canvas: the teacher publishes an assignment Deep Linking created unpublished."""
        with platform.lock:
            link = platform.links.get(link_id)
            if link is None:
                abort(404)
            link.published = True
        return redirect(url_for("course"), 303)

    @app.route("/login-url")
    def login_url() -> Response:
        url = platform.login_url(request.args.get("user", "learner-1"), request.args.get("link"),
                                 request.args.get("dl") == "1", request.args.get("client_id"))
        return jsonify(url=url)


def _register_oidc_auth(app: Flask, platform: DevPlatform) -> None:
    @app.route("/auth", methods=["GET", "POST"])
    def auth() -> str:
        fields = platform.authorize(request.values.to_dict())
        return render_template("autopost.html", action=request.values["redirect_uri"], fields=fields)


def _register_keys_and_tokens(app: Flask, platform: DevPlatform) -> None:
    @app.route("/jwks")
    def jwks() -> Response:
        return jsonify(platform.jwks())

    @app.route("/token", methods=["POST"])
    def token() -> Response | tuple[Response, int]:
        if platform.setup.flavour == "canvas":
            problem = canvas_audience_problem(request.form.get("client_assertion", ""),
                                              request.url_root.rstrip("/") + "/token")
            if problem:
                return jsonify(error="invalid_request", error_description=problem), 400
        conf = platform.config(request.form.get("client_id") or None)
        conf.get_registration()
        return jsonify(conf.get_access_token(request.form.to_dict()))


def _register_deep_linking(app: Flask, platform: DevPlatform) -> None:
    @app.route("/deep_link_return", methods=["POST"])
    def deep_link_return() -> str:
        try:
            items = platform.accept_deep_link(request.form.get("JWT", ""))
        except PlatformRefusal:
            raise
        except Exception as exc:
            raise PlatformRefusal(f"invalid deep linking response: {exc.__class__.__name__}: {exc}") from exc
        return render_template("deep_link_done.html", p=platform, items=items)


def _register_storage_frame(app: Flask) -> None:
    @app.route("/storage-frame")
    def storage_frame() -> str:
        return render_template("storage_frame.html")


def _register_dynamic_registration(app: Flask, platform: DevPlatform) -> None:
    @app.route("/.well-known/openid-configuration")
    @app.route("/api/lti/security/openid-configuration")  # Canvas's address for it
    def openid_configuration() -> Response:
        if platform.setup.flavour == "canvas" and not request.headers.get("Authorization", "").startswith("Bearer "):
            raise PlatformRefusal("Canvas wants the registration token as a bearer token", 401)
        return jsonify(platform.openid_configuration())

    @app.route("/register", methods=["POST"])
    def register() -> tuple[Response, int]:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        body: Any = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise PlatformRefusal("registration body must be JSON", 400)
        return jsonify(platform.register_tool(token, body)), 200

    @app.route("/register-tool")
    def register_tool_page() -> str:
        """Open the tool's registration URL the way Moodle and Canvas do (a frame with two parameters)."""
        tool_url = request.args.get("url") or platform.setup.tool_base_url.rstrip("/") + "/lti/register"
        separator = "&" if "?" in tool_url else "?"
        frame = tool_url + separator + urlencode({
            "openid_configuration": platform.url("/.well-known/openid-configuration"),
            "registration_token": platform.new_registration_token()})
        return render_template("register_tool.html", p=platform, frame_url=frame)

    @app.route("/registration-start")
    def registration_start() -> Response:
        return jsonify(openid_configuration=platform.url("/.well-known/openid-configuration"),
                       registration_token=platform.new_registration_token())


def _register_state(app: Flask, platform: DevPlatform) -> None:
    """The LMS's memory as JSON, for the tests to read."""
    @app.route("/state")
    def state() -> Response:
        with platform.lock:
            return Response(json.dumps({
                "links": [vars(link) for link in platform.links.values()],
                "line_items": platform.line_items, "scores": platform.scores,
                "deep_link_results": platform.deep_link_results,
                "registrations": list(platform.registrations),
            }, default=str), mimetype="application/json")
