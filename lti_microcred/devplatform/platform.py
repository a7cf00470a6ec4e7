"""A loopback LMS built on the independent `lti1p3platform` library, for the demo and the end-to-end tests.

It signs real id_tokens with its own RSA key, serves its JWKS, validates Deep Linking responses against
the tool's published keys, issues service tokens, and speaks Dynamic Registration. It plays Moodle
(`lti_deployment_id`, no platform storage) or Canvas (`deployment_id`, `lti_storage_target`,
institution roles); nothing in it imports the tool. This module holds its state (DevPlatform); the
lti1p3platform classes it drives are in `adapters`, its set-up data in `data`.
"""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.registration import Registration

from lti_microcred.devplatform.adapters import (
    Launch,
    LaunchSubject,
    Login,
    NoRequest,
    PlatformConf,
    PlatformRefusal,
    PreflightRequest,
)
from lti_microcred.devplatform.canvas_auth import CanvasSessions, canvas_refusal
from lti_microcred.devplatform.canvas_registration import pasted_developer_key, registration_problems
from lti_microcred.devplatform.canvas_rules import LINE_ITEMS_FLAG, deep_linking_placement
from lti_microcred.devplatform.data import DevLink, DevPlatformSetup, DevUser, pem_pair
from lti_microcred.devplatform.urls import lineitem_url, site_url

STORAGE_FRAME = "post_message_forwarding"


class DevPlatform:
    """All state of the loopback LMS, guarded by one lock (it serves several threads)."""

    def __init__(self, setup: DevPlatformSetup, key: rsa.RSAPrivateKey | None = None) -> None:
        self.setup = setup
        self.key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem, self.public_pem = pem_pair(self.key)
        self.lock = threading.RLock()
        self.users: dict[str, DevUser] = {
            "learner-1": DevUser("learner-1", "Lea Learner", "lea@example.edu", "learner", "Lea", "Learner"),
            "learner-2": DevUser("learner-2", "Maya Mensah", "maya@example.edu", "learner", "Maya", "Mensah"),
            "instructor-1": DevUser("instructor-1", "Ian Instructor", "ian@example.edu", "instructor", "Ian",
                                    "Instructor"),
        }
        self.links: dict[str, DevLink] = {}
        self.line_items: dict[str, dict[str, Any]] = {}
        self.scores: dict[str, list[dict[str, Any]]] = {}
        self.deep_link_results: list[list[dict[str, Any]]] = []
        self.registrations: dict[str, dict[str, Any]] = {}  # client_id -> what the tool registered
        self.registration_tokens: set[str] = set()
        # Test hooks: claims merged into (or removed from) the next id_tokens.
        self.extra_claims: dict[str, Any] = {}
        self.drop_claims: set[str] = set()
        # Canvas: where the instructor opened Deep Linking from, and the account's feature flags (canvas_rules).
        self.deep_link_placement = "module_index_menu_modal"
        self.canvas_features: dict[str, bool] = {LINE_ITEMS_FLAG: True}
        # Canvas: sessions, keys that are off, launches used (canvas_auth); developer keys pasted as JSON.
        self.canvas_auth = CanvasSessions()
        self.developer_keys: dict[str, list[str]] = {}  # client_id -> the key's redirect URIs

    # --- identity ------------------------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return self.setup.issuer or self.setup.base_url

    def url(self, path: str) -> str:
        return site_url(self.setup, path)

    def jwks(self) -> dict[str, Any]:
        return {"keys": self.registration().get_jwks()}

    def registration(self, client_id: str | None = None) -> Registration:
        tool = self.setup.tool_base_url.rstrip("/")
        return (Registration()
                .set_iss(self.issuer)
                .set_client_id(client_id or self.setup.client_id)
                .set_deployment_id(self.setup.deployment_id)
                .set_oidc_login_url(tool + "/lti/login")
                .set_launch_url(tool + "/lti/launch")
                .set_deeplink_launch_url(tool + "/lti/launch")
                .set_tool_key_set_url(tool + "/lti/jwks")
                .set_platform_public_key(self.public_pem)
                .set_platform_private_key(self.private_pem))

    def config(self, client_id: str | None = None) -> PlatformConf:
        return PlatformConf(registration=self.registration(client_id))

    # --- starting a launch -------------------------------------------------------------------------
    def login_url(self, user_id: str, link_id: str | None = None, deep_link: bool = False,
                  client_id: str | None = None) -> str:
        """The OIDC login initiation URL the LMS frame opens, shaped like Moodle or Canvas send it."""
        hint = {"link": link_id, "dl": deep_link, "course": self.setup.course_id}
        if self.setup.flavour == "canvas":  # Canvas's hint names a cached launch, fetched once (canvas_auth)
            hint["verifier"] = secrets.token_hex(8)
        login = Login(NoRequest(), self.config(client_id))
        login.set_lti_message_hint(hint=json.dumps(hint))
        url = login.prepare_preflight_url(user_id)
        if self.setup.flavour == "canvas":
            parts = urlsplit(url)
            params = dict(parse_qsl(parts.query))
            params["deployment_id"] = params.pop("lti_deployment_id", self.setup.deployment_id)
            params["lti_storage_target"] = STORAGE_FRAME
            url = urlunsplit(parts._replace(query=urlencode(params)))
        return url

    def add_link(self, title: str, custom: dict[str, str] | None = None,
                 line_item: dict[str, Any] | None = None) -> DevLink:
        with self.lock:
            link = DevLink("rl-" + secrets.token_hex(6), title, self.setup.course_id, custom or {}, line_item)
            self.links[link.id] = link
            if line_item is not None:
                item_id = "li-" + secrets.token_hex(6)
                self.line_items[item_id] = {**line_item, "id": lineitem_url(self, item_id),
                                            "resourceLinkId": link.id}
                link.line_item = self.line_items[item_id]
            return link

    # --- the authorization endpoint ----------------------------------------------------------------
    def authorize(self, params: dict[str, str]) -> dict[str, str]:
        """Answer the tool's OIDC auth request: the form fields to POST to its redirect_uri."""
        if self.setup.flavour == "canvas":
            refused = canvas_refusal(params, params.get("login_hint") in self.users,
                                     self.redirect_uris(params.get("client_id", "")), self.canvas_auth)
            if refused is not None:
                return refused
        errors = self._check_auth_request(params)
        if errors:
            raise PlatformRefusal("; ".join(errors))
        client_id = params["client_id"]
        user = self.users[params["login_hint"]]
        hint = json.loads(params.get("lti_message_hint") or "{}")
        link = self.links.get(hint.get("link") or "")
        if link is not None and not link.published and user.role not in ("instructor", "ta", "admin"):
            raise PlatformRefusal("This assignment is not published: students cannot open it yet", 401)
        launch = Launch(PreflightRequest(params), self.config(client_id))
        launch.subject = self._launch_subject(user, hint)
        data = launch.lti_launch()
        fields = {"id_token": data["id_token"], "state": data["state"]}
        if self.setup.flavour == "canvas":
            fields["lti_storage_target"] = STORAGE_FRAME
        return fields

    def _launch_subject(self, user: DevUser, hint: dict[str, Any]) -> LaunchSubject:
        """The launch's user and link (the course navigation link when the hint names none we know)."""
        link = self.links.get(hint.get("link") or "") or DevLink("rl-course-nav", "Micro-credentials",
                                                               self.setup.course_id)
        return LaunchSubject(self.setup, user, bool(hint.get("dl")), link, self.extra_claims, self.drop_claims)

    def _check_auth_request(self, params: dict[str, str]) -> list[str]:
        errors = []
        expected = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none"}
        for name, value in expected.items():
            if params.get(name) != value:
                errors.append(f"{name} must be {value!r}")
        client_id = params.get("client_id", "")
        if client_id != self.setup.client_id and client_id not in self.registrations | self.developer_keys:
            errors.append("unknown client_id")
        if params.get("redirect_uri") not in self.redirect_uris(client_id):  # Moodle: mod/lti/auth.php too
            errors.append("redirect_uri is not the registered launch URL")
        if params.get("login_hint") not in self.users:
            errors.append("login_hint names no user")
        if not params.get("nonce") or not params.get("state"):
            errors.append("nonce and state are required")
        return errors

    # --- deep linking -------------------------------------------------------------------------------
    def accept_deep_link(self, jwt_value: str) -> list[dict[str, Any]]:
        """Validate the tool's Deep Linking response with lti1p3platform; create the links it asks for."""
        conf = self.config()
        conf.get_registration()
        items = conf.validate_deeplinking_resp({"JWT": jwt_value})
        body = conf.tool_validate_and_decode(jwt_value)
        if body.get("aud") not in (self.issuer, [self.issuer]):
            raise PlatformRefusal("deep linking response aud is not this platform")
        if body.get("iss") != self.setup.client_id:
            raise PlatformRefusal("deep linking response iss is not the tool's client_id")
        if body.get("https://purl.imsglobal.org/spec/lti/claim/deployment_id") != self.setup.deployment_id:
            raise PlatformRefusal("deep linking response names another deployment")
        placed = "assignment"
        if self.setup.flavour == "canvas":
            placed = deep_linking_placement(self.canvas_features, self.deep_link_placement)
        for item in items:
            line_item = item.get("lineItem") if placed != "link" else None
            link = self.add_link(item.get("title") or "Untitled", item.get("custom"), line_item)
            link.published = placed != "unpublished"
        with self.lock:
            self.deep_link_results.append(items)
        return items

    # --- dynamic registration ---------------------------------------------------------------------
    def openid_configuration(self) -> dict[str, Any]:
        flavour = self.setup.flavour
        config: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": self.url("/auth"),
            "token_endpoint": self.url("/token"),
            "jwks_uri": self.url("/jwks"),
            "registration_endpoint": self.url("/register"),
            "scopes_supported": ["openid", "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                                 "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                                 "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                                 "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "moodle" if flavour == "moodle" else "canvas",
                "version": "4.5.1 (Build: 20241209)" if flavour == "moodle" else "cloud",
                "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}],
            },
        }
        if flavour == "canvas":
            # Canvas publishes its issuer's bare host here (`canvas.instructure.com`), not a URL, yet checks the
            # client assertion's aud against its token URL (see token_audience_error).
            config["authorization_server"] = urlsplit(self.issuer).netloc
            config["https://purl.imsglobal.org/spec/lti-platform-configuration"]["variables"] = ["Canvas.course.id"]
        return config

    def redirect_uris(self, client_id: str) -> list[str]:
        """Where the LMS may post a launch for this client: what its key or registration lists."""
        if client_id in self.developer_keys:
            return self.developer_keys[client_id]
        if client_id in self.registrations:
            return list(self.registrations[client_id].get("redirect_uris") or [])
        return [self.setup.tool_base_url.rstrip("/") + "/lti/launch"] if client_id == self.setup.client_id else []

    def install_developer_key(self, config: dict[str, Any]) -> str:
        """Canvas: an admin pastes the tool's JSON as a new LTI developer key (canvas_registration); its client id."""
        with self.lock:
            return pasted_developer_key(self.developer_keys, config)

    def new_registration_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.registration_tokens.add(token)
        return token

    def register_tool(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if token not in self.registration_tokens:
                raise PlatformRefusal("invalid registration token", 401)
            self.registration_tokens.discard(token)
        if self.setup.flavour == "canvas" and registration_problems(body):
            raise PlatformRefusal("; ".join(registration_problems(body)), 422)
        for name in ("initiate_login_uri", "redirect_uris", "jwks_uri", "client_name"):
            if not body.get(name):
                raise PlatformRefusal(f"registration lacks {name}", 400)
        tool_conf = body.get("https://purl.imsglobal.org/spec/lti-tool-configuration") or {}
        if urlsplit(body["initiate_login_uri"]).netloc != tool_conf.get("domain"):
            raise PlatformRefusal("domain does not match the tool's URLs", 400)
        client_id = "dr-" + secrets.token_hex(6)
        with self.lock:
            self.registrations[client_id] = body
        answer = {**body, "client_id": client_id, "scope": body.get("scope", "")}
        answer_conf = dict(tool_conf)
        if self.setup.flavour == "moodle":
            answer_conf["deployment_id"] = self.setup.deployment_id
        answer["https://purl.imsglobal.org/spec/lti-tool-configuration"] = answer_conf
        return answer
