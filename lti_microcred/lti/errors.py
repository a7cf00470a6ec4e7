"""Why a login or launch was refused, in words a learner or an admin can act on.

Each reason is its own class with a stable code (shown on the page and in logs), an HTTP status, a plain
explanation and what to do about it. Views turn them into an error page; nothing here knows Flask.
"""

from __future__ import annotations

from typing import ClassVar

ASK_ADMIN = "If it keeps happening, send the reason code below to the tool's administrator."
RELAUNCH = "Go back to the course and open the activity again."


class LaunchError(Exception):
    code: ClassVar[str] = "launch_refused"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "The launch was refused"
    hint: str = f"{RELAUNCH} {ASK_ADMIN}"  # a class's words; an instance may name its LMS in them

    def __init__(self, detail: str = "", *, issuer: str | None = None, client_id: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.issuer = issuer
        self.client_id = client_id

    def for_platform(self, issuer: str | None, client_id: str | None) -> LaunchError:
        self.issuer = self.issuer or issuer
        self.client_id = self.client_id or client_id
        return self


# --- who is launching -------------------------------------------------------------------------------
class UnknownIssuer(LaunchError):
    code, status, title = "unknown_issuer", 400, "This LMS is not registered with the tool"
    hint = ("An administrator of the tool must register this LMS first: with LTI Dynamic Registration, "
            "or with `microcred platform add --issuer ... --client-id ...`.")


class UnknownClient(LaunchError):
    code, status, title = "unknown_client", 400, "This LMS registration (client ID) is not known to the tool"
    hint = ("The issuer is registered, but not with this client ID. The administrator can add it with "
            "`microcred platform add` using the client ID the LMS shows for the tool.")


class AmbiguousClient(LaunchError):
    code, status, title = "client_id_required", 400, "The LMS did not say which registration it launches"
    hint = ("Several registrations share this issuer, and the login request carried no client_id. "
            "Ask the LMS administrator to send client_id (LTI 1.3 requires it for shared issuers).")


class PlatformNotActive(LaunchError):
    code, status, title = "platform_not_active", 403, "This LMS registration is waiting for activation"
    hint = ("The registration was received but an administrator of the tool has not activated it yet: "
            "`microcred platform list` shows it, `microcred platform activate ID` activates it.")


class DeploymentHeld(LaunchError):
    code, status, title = "deployment_held", 403, "This installation of the tool is waiting for activation"
    hint = ("The LMS launched from a deployment the tool has not seen before. It has been recorded and "
            "held for an administrator: `microcred platform activate PLATFORM_ID --deployment DEPLOYMENT_ID`.")


class DeploymentDisabled(LaunchError):
    code, status, title = "deployment_disabled", 403, "This installation of the tool has been disabled"
    hint = "An administrator of the tool disabled this deployment. Ask them to re-activate it."


# --- the request itself ------------------------------------------------------------------------------
class MissingParameter(LaunchError):
    code, status, title = "missing_parameter", 400, "The LMS request is missing a required parameter"


class ForeignTarget(LaunchError):
    code, status, title = "foreign_target_link_uri", 400, "The launch is aimed at another tool"
    hint = ("The target_link_uri is not an address of this tool. Check the tool URL configured in the "
            "LMS: it must start with this tool's public URL.")


class PayloadTooLarge(LaunchError):
    code, status, title = "payload_too_large", 413, "The launch request is too large"
    hint = "The LMS sent more data than a launch can carry. " + ASK_ADMIN


class MalformedToken(LaunchError):
    code, status, title = "malformed_token", 400, "The launch token cannot be read"


class MissingClaim(LaunchError):
    code, status, title = "missing_claim", 400, "The launch is missing required information"
    hint = "The LMS sent a launch without a claim LTI 1.3 requires. " + ASK_ADMIN


class InvalidClaim(LaunchError):
    code, status, title = "invalid_claim", 400, "The launch carries information the tool cannot accept"


# --- signature and timing ----------------------------------------------------------------------------
class UnsupportedAlgorithm(LaunchError):
    code, status, title = "unsupported_algorithm", 401, "The launch token is not signed the way LTI requires"
    hint = "LTI 1.3 launches must be signed with the LMS's RSA key (RS256). " + ASK_ADMIN


class UnknownKey(LaunchError):
    code, status, title = "unknown_key", 401, "The launch was signed with a key the LMS does not publish"
    hint = ("The key id (kid) of the token is not in the LMS's public key set, even after fetching it "
            "again. Check the key set URL registered for this LMS.")


class KeySetUnavailable(LaunchError):
    code, status, title = "key_set_unavailable", 401, "The LMS's public keys could not be fetched"
    hint = "The tool could not read the LMS key set URL to check the signature. Check that URL and try again."


class BadSignature(LaunchError):
    code, status, title = "bad_signature", 401, "The launch signature is not valid"
    hint = "The token was not signed by this LMS's key, or was altered on the way. " + ASK_ADMIN


class Expired(LaunchError):
    code, status, title = "expired", 401, "The launch has expired"
    hint = f"Launches are valid for a few minutes only. {RELAUNCH} If it persists, check the server clocks."


class IssuedInFuture(LaunchError):
    code, status, title = "issued_in_future", 401, "The launch is dated in the future"
    hint = "The LMS clock and the tool clock disagree. The administrators should check both (NTP)."


class WrongAudience(LaunchError):
    code, status, title = "wrong_audience", 401, "The launch was meant for another tool"
    hint = "The token's audience does not include this tool's client ID. " + ASK_ADMIN


class WrongAuthorizedParty(LaunchError):
    code, status, title = "wrong_azp", 401, "The launch names another authorized party"
    hint = "The token's azp claim is not this tool's client ID. " + ASK_ADMIN


class WrongIssuer(LaunchError):
    code, status, title = "wrong_issuer", 401, "The launch comes from another LMS than the login"


# --- replay and browser binding ----------------------------------------------------------------------
class Replayed(LaunchError):
    code, status, title = "replayed", 401, "This launch has already been used"
    hint = f"A launch can be used once. {RELAUNCH}"


class NonceReused(LaunchError):
    code, status, title = "nonce_reused", 401, "This launch's one-time code has already been used"
    hint = f"A launch can be used once. {RELAUNCH}"


class NonceMismatch(LaunchError):
    code, status, title = "nonce_mismatch", 401, "The launch does not belong to this login"


class StateMismatch(LaunchError):
    code, status, title = "state_mismatch", 401, "The launch does not match the login started in this browser"
    hint = f"{RELAUNCH} Do not reuse links copied from another window."


class StateExpired(LaunchError):
    code, status, title = "state_expired", 401, "The login took too long"
    hint = RELAUNCH


class StorageUnavailable(LaunchError):
    code, status, title = "storage_unavailable", 401, "Your browser blocked what the launch needs"
    hint = ("The browser did not keep the tool's one-time login cookie (common in Safari inside a course "
            "page). Open the activity again; if your course shows an 'open in new window' option, use it, "
            "or allow cookies for this site.")


# --- after the launch ---------------------------------------------------------------------------------
class SessionExpired(LaunchError):
    code, status, title = "session_expired", 401, "Your session with the tool has ended"
    hint = f"{RELAUNCH} Sessions end after some hours, or when the link is opened outside the course."


class NotAllowed(LaunchError):
    code, status, title = "not_allowed", 403, "Your role in this course does not allow this"
    hint = "This page is for another role. If you think you should have access, ask your instructor."
