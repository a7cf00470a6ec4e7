"""Canvas's answer to a tool's OIDC authentication request, as the Canvas-shaped loopback LMS gives it
(instructure/canvas-lms app/controllers/lti/ims/authentication_controller.rb, `authorize`).

Canvas checks, in this order, and the last failing check names the error it posts back to the tool's redirect_uri
as `error`, `error_description` and `state` (never an id_token): the OIDC parameters (`invalid_request_object`),
the user's session (`login_required`), the developer key being usable and on (`unauthorized_client`), and the
cached launch, deleted on its first use (`launch_no_longer_valid`). A redirect_uri the developer key does not list
is refused outright with "Invalid redirect_uri", never posted to (`redirect_uri`, `reject!`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from lti_microcred.devplatform.adapters import PlatformRefusal

# authentication_controller.rb REQUIRED_PARAMS; SCOPE = "openid"
REQUIRED_PARAMS = ("client_id", "login_hint", "lti_message_hint", "nonce", "prompt", "redirect_uri", "response_mode",
                   "response_type", "scope")


@dataclass
class CanvasSessions:
    """What Canvas knows besides the request: who is signed in, which keys are off, which launches were used."""

    signed_out: set[str] = field(default_factory=set)  # users whose Canvas session has ended
    keys_off: set[str] = field(default_factory=set)  # client ids whose developer key is off (or not installed)
    used_launches: set[str] = field(default_factory=set)  # verifiers of cached launches already fetched


def invalid_redirect_uri(params: Mapping[str, str], redirect_uris: Collection[str]) -> bool:
    """`redirect_uri`: the requested URI (without its query) must be one of the developer key's redirect URIs."""
    requested = params.get("redirect_uri", "").split("?", 1)[0]
    return requested not in redirect_uris


def oidc_error(params: Mapping[str, str], known_user: bool, verifier: str | None,
               memory: CanvasSessions) -> tuple[str, str] | None:
    """(error, error_description) as `set_oidc_error!` leaves them, or None when the launch may go ahead. A
    launch's verifier is used up by this call, as Canvas's `fetch_and_delete_launch` does."""
    error: tuple[str, str] | None = None
    missing = [name for name in REQUIRED_PARAMS if not params.get(name)]
    if missing:
        error = ("invalid_request_object", f"The following parameters are missing: {','.join(missing)}")
    if params.get("scope") != "openid":
        error = ("invalid_request_object", "The 'scope' must be 'openid'")
    if not known_user or params.get("login_hint") in memory.signed_out:
        error = ("login_required", "Must have an active user session")
    if params.get("client_id") in memory.keys_off:
        error = ("unauthorized_client", "Client not authorized in requested context")
    if error is None and verifier is not None:
        if verifier in memory.used_launches:
            error = ("launch_no_longer_valid", "The launch has either expired or already been consumed")
        memory.used_launches.add(verifier)
    return error


def canvas_refusal(params: Mapping[str, str], known_user: bool, redirect_uris: Collection[str],
                   memory: CanvasSessions) -> dict[str, str] | None:
    """The form Canvas posts to the tool instead of a launch (None: go ahead with the launch)."""
    if invalid_redirect_uri(params, redirect_uris):
        raise PlatformRefusal("Invalid redirect_uri", 400)
    try:
        hint = json.loads(params.get("lti_message_hint") or "{}")
    except ValueError:
        raise PlatformRefusal("Invalid lti_message_hint", 400) from None
    verifier = hint.get("verifier") if isinstance(hint, dict) else None
    error = oidc_error(params, known_user, verifier, memory)
    if error is None:
        return None
    return {"error": error[0], "error_description": error[1], "state": params.get("state", "")}
