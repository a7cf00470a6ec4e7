"""Launch validation: pylti1p3's MessageLaunch plus the checks it leaves to the tool.

pylti1p3 gives us claim validators, registration lookup through our Registry, deep linking, role helpers.
We add, in this order: the signed login state (which platform, which target), the header algorithm,
`aud` containing our client_id and `azp` equal to it, the signature with a cached key object, `exp`/`iat`
with an age window, the nonce derived from the state, `target_link_uri` being ours and the login's, the
message claims, and the deployment (recorded per policy). The nonce's single use is enforced when the
launch is persisted (see persistence.record_launch).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any, cast

from pylti1p3.cookie import CookieService
from pylti1p3.exception import LtiException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.request import Request
from pylti1p3.session import SessionService

from lti_microcred.core.crypto_box import b64url_decode
from lti_microcred.core.signing import Signer
from lti_microcred.lti import claims as c
from lti_microcred.lti.errors import (
    ForeignTarget,
    InvalidClaim,
    LaunchError,
    MalformedToken,
    MissingClaim,
    MissingParameter,
    NonceMismatch,
    StateMismatch,
    UnsupportedAlgorithm,
    WrongAudience,
    WrongAuthorizedParty,
    WrongIssuer,
)
from lti_microcred.lti.jws import check_times, verify_signature
from lti_microcred.lti.platform_keys import ALLOWED_ALGS, PlatformKeyCache
from lti_microcred.lti.registry import DeploymentInfo, PlatformInfo, Registry
from lti_microcred.lti.state import LoginState, nonce_for, read_state, target_hash

MAX_ID_TOKEN_LENGTH = 64 * 1024


@dataclass(frozen=True)
class LaunchPolicy:
    """The knobs of validation, taken from settings."""

    base_url: str
    iat_max_age_seconds: int
    clock_skew_seconds: int
    state_ttl_seconds: int


class _ParamsRequest(Request):
    def __init__(self, params: dict[str, str]) -> None:
        self._params = params

    @property
    def session(self) -> dict[str, Any]:
        return {}

    def is_secure(self) -> bool:
        return True

    def get_param(self, key: str) -> str:
        return self._params.get(key, "")


class _NoCookies(CookieService):
    def get_cookie(self, name: str) -> str | None:
        return None

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        return None


def is_our_url(url: str, base_url: str) -> bool:
    """True when url is base_url or below it (same scheme, host and port)."""
    return isinstance(url, str) and (url + "/").startswith(base_url.rstrip("/") + "/")


class ToolMessageLaunch(MessageLaunch):
    """One incoming launch; validate() raises a LaunchError naming the first problem found."""

    def __init__(self, id_token: str, raw_state: str, *, registry: Registry, keys: PlatformKeyCache,
                 signer: Signer, policy: LaunchPolicy) -> None:
        request = _ParamsRequest({"id_token": id_token, "state": raw_state})
        super().__init__(request, registry, session_service=SessionService(request),
                         cookie_service=_NoCookies(), requests_session=_NO_HTTP)
        self._registry = registry
        self._keys = keys
        self._signer = signer
        self._policy = policy
        self.login_state: LoginState | None = None
        self.platform: PlatformInfo | None = None
        self.deployment: DeploymentInfo | None = None

    def _get_request_param(self, key: str) -> str:
        return self._request.get_param(key)

    def validate(self) -> ToolMessageLaunch:
        self._validated = True
        try:
            self._check_state()
            self._check_format()
            self._check_platform_and_audience()
            self._check_signature_and_times()
            self._check_nonce_and_target()
            self._check_message()
            self._check_deployment()
        except LaunchError as exc:
            self._validated = False
            if self.platform is not None:
                exc.for_platform(self.platform.issuer, self.platform.client_id)
            raise
        except Exception:
            self._validated = False
            raise
        return self

    # --- steps ---------------------------------------------------------------------------------------
    def _check_state(self) -> None:
        raw = self._get_request_param("state")
        if not raw:
            raise MissingParameter("the launch has no state parameter")
        self.login_state = read_state(self._signer, raw, self._policy.state_ttl_seconds)

    def _check_format(self) -> None:
        token = self._get_request_param("id_token")
        if not token:
            raise MissingParameter("the launch has no id_token parameter")
        if len(token) > MAX_ID_TOKEN_LENGTH:
            raise MalformedToken(f"the id_token is longer than {MAX_ID_TOKEN_LENGTH} characters")
        parts = token.split(".")
        if len(parts) != 3:
            raise MalformedToken("the id_token is not a signed JWT (it must have three parts)")
        try:
            header = json.loads(b64url_decode(parts[0]))
            body = json.loads(b64url_decode(parts[1]))
        except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested deeper than Python recurses
            raise MalformedToken("the id_token cannot be decoded (not base64url JSON, or nested too deep)") from exc
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise MalformedToken("the id_token header or body is not a JSON object")
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
            raise UnsupportedAlgorithm(f"the id_token uses alg {str(alg)[:40]!r}; LTI requires RS256")
        if not isinstance(kid, str) or not kid:
            raise MalformedToken("the id_token header has no kid naming the platform's key")
        self._jwt = {"header": header, "body": body}  # type: ignore[typeddict-item]

    def _check_platform_and_audience(self) -> None:
        assert self.login_state is not None
        platform = self._registry.platform(self.login_state.platform_id)
        if platform is None or platform.status != "active":
            raise StateMismatch("the platform this login started with is no longer registered")
        self.platform = platform
        self._registration = platform.registration()
        body = self._jwt["body"]
        if body.get("iss") != platform.issuer:
            raise WrongIssuer(f"the token's iss {body.get('iss')!r} is not {platform.issuer!r}")
        aud = body.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if platform.client_id not in audiences:
            raise WrongAudience(f"aud {aud!r} does not contain our client_id {platform.client_id!r}")
        azp = body.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != platform.client_id:
            raise WrongAuthorizedParty(f"azp {azp!r} is not our client_id {platform.client_id!r}")

    def _check_signature_and_times(self) -> None:
        assert self.platform is not None
        header = self._jwt["header"]
        key = self._keys.key_for(self.platform, header["kid"], header["alg"])
        verify_signature(self._get_request_param("id_token"), key, header["alg"])
        policy = self._policy
        check_times(self.claims, time.time(), policy.clock_skew_seconds, policy.iat_max_age_seconds)

    def _check_nonce_and_target(self) -> None:
        assert self.login_state is not None
        body = self.claims
        nonce = body.get("nonce")
        if not nonce:
            raise MissingClaim("the id_token has no nonce")
        if nonce != nonce_for(self._signer, self.login_state):
            raise NonceMismatch("the nonce is not the one issued with this login's state")
        target = body.get(c.TARGET_LINK_URI)
        if not target or not isinstance(target, str):
            raise MissingClaim("the id_token has no target_link_uri claim")
        if not is_our_url(target, self._policy.base_url):
            raise ForeignTarget(f"target_link_uri {target!r} is not under {self._policy.base_url}")
        if target_hash(target) != self.login_state.target_hash:
            raise ForeignTarget("target_link_uri differs from the one in the login request")

    def _check_message(self) -> None:
        body = self.claims
        for claim, name in ((c.MESSAGE_TYPE, "message_type"), (c.VERSION, "version"), (c.ROLES, "roles"),
                            (c.DEPLOYMENT_ID, "deployment_id")):
            if claim not in body:
                raise MissingClaim(f"the id_token has no {name} claim")
        if body[c.VERSION] != "1.3.0":
            raise InvalidClaim(f"LTI version {body[c.VERSION]!r} is not 1.3.0")
        message_type = body[c.MESSAGE_TYPE]
        if not isinstance(message_type, str) or message_type not in c.SUPPORTED_MESSAGE_TYPES:
            raise InvalidClaim(f"message type {str(message_type)[:60]!r} is not supported")
        if not isinstance(body[c.ROLES], list):
            raise InvalidClaim("roles is not a list")
        if not body.get("sub"):
            raise MissingClaim("the id_token has no sub (user) claim; anonymous launches are not supported")
        if not isinstance(body["sub"], str):
            raise InvalidClaim("sub (the user id) is not a string")
        for claim in c.OBJECT_CLAIMS:
            if claim in body and not isinstance(body[claim], dict):
                raise InvalidClaim(f"the claim {claim} is not a JSON object")
        problem = _unstorable(body)
        if problem:
            raise InvalidClaim(f"a claim holds {problem}, which no name, title or id can contain")
        try:
            self.validate_message()
        except LtiException as exc:
            raise MissingClaim(str(exc)) from exc

    def _check_deployment(self) -> None:
        assert self.platform is not None
        deployment_id = self.claims[c.DEPLOYMENT_ID]
        if not isinstance(deployment_id, str) or not deployment_id or len(deployment_id) > 255:
            raise InvalidClaim("deployment_id is empty or too long")
        self.deployment = self._registry.resolve_deployment(self.platform, deployment_id)

    # --- results -------------------------------------------------------------------------------------
    @property
    def claims(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._jwt["body"])

    @property
    def nonce(self) -> str:
        return str(self.claims["nonce"])

    @property
    def id_token_hash(self) -> str:
        return hashlib.sha256(self._get_request_param("id_token").encode()).hexdigest()


def _unstorable(claims: dict[str, Any]) -> str | None:
    """Text the database would refuse (NUL; half a UTF-16 surrogate pair, which JSON can escape), anywhere."""
    pending: list[Any] = [claims]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend([*value.keys(), *value.values()])
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and "\x00" in value:
            return "a NUL character"
        elif isinstance(value, str) and not value.isascii() and any("\ud800" <= ch <= "\udfff" for ch in value):
            return "half of a UTF-16 surrogate pair"
    return None


class _NoHTTP:
    """pylti1p3 builds a requests.Session per launch unless given one; we never let it fetch anything."""

    headers: dict[str, str] = {}

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("key sets are fetched by PlatformKeyCache, not by pylti1p3")


_NO_HTTP: Any = _NoHTTP()
