"""An LMS's OpenID configuration for Dynamic Registration: what we keep of it, how it is checked, and whether
its issuer may be served from the host it came from (LTI-DR 3.5.1; hosted Canvas's exception)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

from lti_microcred.lti.errors import LaunchError

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
# Hosted Canvas signs launches with one issuer per environment for every school, but serves its configuration
# from Instructure's SSO host or the school's own *.instructure.com host: never from the issuer's host.
CANVAS_CLOUD_ISSUERS = frozenset({"https://canvas.instructure.com", "https://canvas.beta.instructure.com",
                                  "https://canvas.test.instructure.com"})
CANVAS_SSO_HOSTS = frozenset({"sso.canvaslms.com", "sso.beta.canvaslms.com", "sso.test.canvaslms.com"})
CANVAS_CONFIGURATION_PATH = "/api/lti/security/openid-configuration"


class RegistrationError(LaunchError):
    code, status, title = "registration_failed", 400, "The registration could not be completed"
    hint = ("Start the registration again from the LMS. If it fails again, register the tool manually "
            "(see the tool's README) and send the reason code to its administrator.")


@dataclass(frozen=True)
class PlatformConfiguration:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    authorization_server: str | None
    product_family_code: str | None
    version: str | None
    messages_supported: list[str] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        product = (self.product_family_code or "LMS").capitalize()
        return f"{product} at {urlsplit(self.issuer).netloc}"


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def issuer_matches_configuration(issuer: str, configuration_url: str) -> bool:
    """LTI-DR 3.5.1: the issuer is on the host that served the configuration (https://www.imsglobal.org/spec/
    lti-dr/v1p0#issuer-and-openid-configuration-url-match); hosted Canvas only from Instructure's own hosts."""
    parts = urlsplit(configuration_url)
    if urlsplit(issuer).netloc == parts.netloc:
        return True
    return issuer in CANVAS_CLOUD_ISSUERS and _is_instructure_configuration(parts)


def _is_instructure_configuration(parts: SplitResult) -> bool:
    """Canvas's configuration address on Instructure's SSO host or a school's *.instructure.com host, https only."""
    host = parts.hostname or ""
    try:
        default_port = parts.port in (None, 443)
    except ValueError:  # not a port number
        return False
    return (parts.scheme == "https" and default_port and "@" not in parts.netloc
            and parts.path == CANVAS_CONFIGURATION_PATH
            and (host in CANVAS_SSO_HOSTS or host.endswith(".instructure.com")))


def check_endpoints(doc: dict[str, Any], https_only: bool) -> None:
    """The issuer and URLs we store must be absolute URLs (https in production) that fit their columns (issuer
    255, URLs 2048). Refusals name the field, never its value: the document is an outsider's."""
    missing = [k for k in ("issuer", *ENDPOINTS) if not isinstance(doc.get(k), str) or not doc.get(k)]
    if missing:
        raise RegistrationError(f"the LMS configuration lacks {', '.join(missing)}")
    limits = {"issuer": 255, **{k: 2048 for k in (*ENDPOINTS, "authorization_server")}}
    too_long = [k for k, limit in limits.items() if isinstance(doc.get(k), str) and len(doc[k]) > limit]
    if too_long:
        raise RegistrationError(f"the LMS configuration's {', '.join(too_long)} is longer than the tool can store")
    unusable = [k for k in ENDPOINTS if not is_fetchable_url(doc[k], https_only)]
    if unusable:
        scheme = "https" if https_only else "http(s)"
        raise RegistrationError(f"the LMS configuration's {', '.join(unusable)} is not an absolute {scheme} URL")


def is_fetchable_url(url: str, https_only: bool) -> bool:
    """An absolute http(s) URL (https only in production) with a host and a usable port. Where it leads is
    checked when connecting, on every hop (core.public_http)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ({"https"} if https_only else {"http", "https"}) and bool(parts.hostname)


def configuration_of(doc: dict[str, Any]) -> PlatformConfiguration:
    """What we keep of a checked configuration; optional LTI details of the wrong shape are ignored."""
    lti = mapping(doc.get(PLATFORM_CONFIGURATION))
    supported = lti.get("messages_supported")
    messages = [m.get("type") for m in supported if isinstance(m, dict)] if isinstance(supported, list) else []
    return PlatformConfiguration(
        issuer=doc["issuer"], authorization_endpoint=doc["authorization_endpoint"],
        token_endpoint=doc["token_endpoint"], jwks_uri=doc["jwks_uri"],
        registration_endpoint=doc["registration_endpoint"],
        authorization_server=doc["authorization_server"] if isinstance(doc.get("authorization_server"), str) else None,
        product_family_code=str(lti.get("product_family_code") or "")[:64] or None,
        version=str(lti.get("version") or "")[:64] or None,
        messages_supported=[m for m in messages if isinstance(m, str) and m],
    )
