"""How Canvas accepts a tool's configuration, as the Canvas-shaped loopback LMS checks it (instructure/canvas-lms).

Dynamic Registration: the registration request must pass `Schemas::Lti::IMS::OidcRegistration`
(lib/schemas/lti/ims/oidc_registration.rb), whose constants come from app/models/lti/ims/registration.rb
(REQUIRED_GRANT_TYPES client_credentials and implicit, REQUIRED_RESPONSE_TYPES id_token, REQUIRED_APPLICATION_TYPE
web, REQUIRED_TOKEN_ENDPOINT_AUTH_METHOD private_key_jwt), and its tool configuration
`Schemas::Lti::IMS::LtiToolConfiguration` (lib/schemas/lti/ims/lti_tool_configuration.rb: domain, messages and
claims required; the domain a host name with an optional port). Canvas answers a request that fails them with
422 and the errors (app/controllers/lti/ims/dynamic_registration_controller.rb, `create`).

A developer key pasted as JSON must pass `Schemas::InternalLtiConfiguration`
(lib/schemas/internal_lti_configuration.rb): title, description, target_link_uri, oidc_initiation_url and at least
one redirect URI are required.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from lti_microcred.devplatform.adapters import PlatformRefusal

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
REQUIRED = ("application_type", "grant_types", "response_types", "redirect_uris", "initiate_login_uri",
            "client_name", "jwks_uri", "token_endpoint_auth_method", TOOL_CONFIGURATION)
REQUIRED_GRANT_TYPES = ("client_credentials", "implicit")
# lti_tool_configuration.rb "domain" pattern: DNS labels, then an optional port
DOMAIN = re.compile(r"^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*"
                    r"[A-Za-z0-9])(:[0-9]{1,5})?$")
# Lti::ResourcePlacement::PLACEMENTS_BY_MESSAGE_TYPE's keys that a tool registers messages for
MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")
# The LTI scopes of lib/token_scopes.rb (LTI_SCOPES) a tool of this kind may ask for
LTI_SCOPES = frozenset({
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    "https://canvas.instructure.com/lti/public_jwk/scope/update",
    "https://canvas.instructure.com/lti/account_lookup/scope/show",
})
PASTED_JSON_REQUIRED = ("title", "description", "target_link_uri", "oidc_initiation_url")


def _uri(value: Any) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return parts is not None and parts.scheme in ("http", "https") and bool(parts.netloc)


def registration_problems(body: dict[str, Any]) -> list[str]:
    """What Canvas's schema and model validations say about a Dynamic Registration request ([] when none)."""
    problems = [f"{name} is required" for name in REQUIRED if not body.get(name)]
    if problems:
        return problems
    if body["application_type"] != "web":
        problems.append("application_type: Must be 'web'")
    grants = body["grant_types"]
    if not isinstance(grants, list) or not set(REQUIRED_GRANT_TYPES) <= set(grants):
        problems.append(f"grant_types: Must include {', '.join(REQUIRED_GRANT_TYPES)}")
    responses = body["response_types"]
    if not isinstance(responses, list) or "id_token" not in responses:
        problems.append("response_types: Must include id_token")
    if body["token_endpoint_auth_method"] != "private_key_jwt":  # noqa: S105 - a method's name, not a secret
        problems.append("token_endpoint_auth_method: Must be 'private_key_jwt'")
    uris = body["redirect_uris"]
    if not isinstance(uris, list) or not all(_uri(u) for u in uris):
        problems.append("redirect_uris: Must only contain valid URIs")
    problems += [f"{name}: not a URI" for name in ("initiate_login_uri", "jwks_uri") if not _uri(body[name])]
    scopes = str(body.get("scope") or "").split()
    unknown = [s for s in scopes if s != "openid" and s not in LTI_SCOPES]
    if unknown:
        problems.append(f"scopes: Invalid scopes: {', '.join(unknown)}")
    return problems + _tool_configuration_problems(body[TOOL_CONFIGURATION])


def _tool_configuration_problems(conf: Any) -> list[str]:
    if not isinstance(conf, dict):
        return [f"{TOOL_CONFIGURATION} must be an object"]
    problems = [f"lti_tool_configuration: {name} is required" for name in ("domain", "messages", "claims")
                if name not in conf]
    if isinstance(conf.get("domain"), str) and not DOMAIN.match(conf["domain"]):
        problems.append("lti_tool_configuration: domain must be a host name (no scheme), with an optional port")
    messages = conf.get("messages", [])
    if not isinstance(messages, list) or not all(isinstance(m, dict) and m.get("type") in MESSAGE_TYPES
                                                 for m in messages):
        problems.append("lti_tool_configuration: each message needs a supported type")
    if not isinstance(conf.get("claims", []), list):
        problems.append("lti_tool_configuration: claims must be a list")
    return problems


def pasted_json_problems(config: dict[str, Any]) -> list[str]:
    """What Canvas says about a developer key's JSON configuration pasted by an admin ([] when none)."""
    problems = [f"{name} is required" for name in PASTED_JSON_REQUIRED if not isinstance(config.get(name), str)]
    uris = config.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        problems.append("redirect_uris: at least one redirect URI is required")
    return problems


def pasted_developer_key(keys: dict[str, list[str]], config: dict[str, Any]) -> str:
    """A new developer key from pasted JSON (refused as Canvas refuses it): its client id; `keys` keeps its
    redirect URIs, which Canvas's authentication endpoint holds the launch's redirect_uri to."""
    problems = pasted_json_problems(config)
    if problems:
        raise PlatformRefusal("; ".join(problems), 422)
    client_id = "1000000000" + str(len(keys) + 1).zfill(4)
    keys[client_id] = list(config["redirect_uris"])
    return client_id
