"""An LMS that will not complete a login posts an OAuth 2.0 error to the launch URL instead of an id_token:
`error`, maybe `error_description`, and the `state` the tool sent (OpenID Connect Core 1.0, 3.2.2.6). Canvas does
for a user without a session (`login_required`), a launch already used or expired (`launch_no_longer_valid`), a
developer key that is off or not installed here (`unauthorized_client`) and a malformed request
(`invalid_request_object`) (canvas-lms app/controllers/lti/ims/authentication_controller.rb); Moodle for a bad
request, another user signed in, or a client id it does not know (mod/lti/auth.php).

Each code becomes a refusal in plain words for whoever sees it, naming the LMS when the state says which one.
The LMS's own description is shown as its words, shortened and on one line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import cast

from lti_microcred.core.signing import Signer
from lti_microcred.lti.errors import ASK_ADMIN, LaunchError
from lti_microcred.lti.models import SHARED_ISSUERS
from lti_microcred.lti.registry import PlatformInfo, Registry
from lti_microcred.lti.state import read_state

ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DESCRIPTION_LIMIT = 300


class LmsLoginError(LaunchError):
    """The LMS answered the login with an error code we have no words for."""

    code, status, title = "lms_error", 400, "Your LMS could not open the tool"
    hint = f"Go back to the course in {{lms}} and open the tool again. {ASK_ADMIN}"

    def __init__(self, lms: str, said: str, *, issuer: str | None = None, client_id: str | None = None) -> None:
        super().__init__(f"{lms} answered the login with: {said}", issuer=issuer, client_id=client_id)
        self.hint = type(self).hint.format(lms=lms)


class LoginRequired(LmsLoginError):
    code, status, title = "login_required", 401, "You are not signed in to your LMS any more"
    hint = ("Your session in {lms} has ended (or this browser keeps {lms}'s login from the tool). Sign in to {lms} "
            "again, then open the tool again from the course.")


class LaunchNoLongerValid(LmsLoginError):
    code, status, title = "launch_no_longer_valid", 401, "This launch has expired or was already used"
    hint = ("Reload the {lms} page (a launch can be used once, within a few minutes), then open the tool again. "
            "Do not use the browser's back button or a copied link to reopen it.")


class UnauthorizedClient(LmsLoginError):
    code, status, title = "unauthorized_client", 403, "The tool is not turned on in your LMS"
    hint = ("{lms} says this tool is not enabled here: in Canvas its developer key is off, or the tool is not "
            "installed in this course or account. Ask your {lms} administrator to turn it on (Admin > Developer "
            "Keys) and install it (Settings > Apps).")


class AccessDenied(LmsLoginError):
    code, status, title = "access_denied", 403, "Your LMS did not let you open the tool"
    hint = ("{lms} refused the login: you may be signed in as someone else in another tab. Reload the course page "
            "in {lms} and open the tool again.")


class InvalidLoginRequest(LmsLoginError):
    code, status, title = "invalid_request", 400, "Your LMS refused the tool's login request"
    hint = (f"Open the tool again from the course. If it keeps happening, the tool's registration in {{lms}} does "
            f"not match the tool's. {ASK_ADMIN}")


def _invalid_request(code: str) -> type[LmsLoginError]:
    """The same words under the LMS's own code (shown on the page and logged)."""
    return cast(type[LmsLoginError], type("InvalidLoginRequest", (InvalidLoginRequest,), {"code": code}))


KNOWN: dict[str, type[LmsLoginError]] = {
    "login_required": LoginRequired, "launch_no_longer_valid": LaunchNoLongerValid,
    "unauthorized_client": UnauthorizedClient, "access_denied": AccessDenied,
    **{code: _invalid_request(code) for code in ("invalid_request", "invalid_request_object", "invalid_scope",
                                                 "unsupported_response_type", "invalid_request_uri")},
}


def login_error(form: Mapping[str, str], registry: Registry, signer: Signer,
                state_ttl_seconds: float) -> LmsLoginError | None:
    """The refusal for an LMS's error answer (None when the form is a launch: an id_token wins)."""
    error = form.get("error", "")
    if not error or form.get("id_token"):
        return None
    platform = _platform(form.get("state", ""), registry, signer, state_ttl_seconds)
    code = error if ERROR_CODE.match(error) else None
    said = " ".join(form.get("error_description", "").split())[:DESCRIPTION_LIMIT]
    shown = code or "an error code the tool does not know"
    refusal = KNOWN.get(code or "", LmsLoginError)
    return refusal(lms_name(platform), shown + (f" ({said})" if said else ""),
                   issuer=platform.issuer if platform else None, client_id=platform.client_id if platform else None)


def _platform(raw_state: str, registry: Registry, signer: Signer, ttl: float) -> PlatformInfo | None:
    """The registration this login started with, when the state is one of ours and still fresh."""
    if not raw_state:
        return None
    try:
        return registry.platform(read_state(signer, raw_state, ttl).platform_id)
    except LaunchError:
        return None


def lms_name(platform: PlatformInfo | None) -> str:
    """The LMS's product as its users know it: from its registration, else from its issuer and login address."""
    if platform is None:
        return "your LMS"
    family = (platform.product_family_code or "").lower()
    if family == "canvas" or platform.issuer in SHARED_ISSUERS or "instructure.com" in platform.issuer \
            or platform.auth_login_url.split("?")[0].endswith("/api/lti/authorize_redirect"):
        return "Canvas"
    if family == "moodle" or platform.auth_login_url.split("?")[0].endswith("/mod/lti/auth.php"):
        return "Moodle"
    return {"sakai": "Sakai", "desire2learn": "Brightspace", "blackboard": "Blackboard"}.get(family, "your LMS")
