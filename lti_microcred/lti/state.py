"""OIDC login state: a signed token that carries what the launch must match, so login writes nothing.

The nonce is derived from the state, and the state is bound to the browser by a cookie or by the
platform's postMessage storage. The launch then accepts each nonce once (see persistence).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from lti_microcred.core.crypto_box import b64url
from lti_microcred.core.signing import BadToken, Signer, TokenExpired
from lti_microcred.lti.errors import StateExpired, StateMismatch

STATE_PURPOSE = "oidc-state"
NONCE_PURPOSE = "oidc-nonce"
STATE_COOKIE_PREFIX = "lmc_state_"
MAX_STATE_LENGTH = 1024


@dataclass(frozen=True)
class LoginState:
    raw: str
    platform_id: int
    target_hash: str
    storage_target: str | None
    binding: str  # random; the browser keeps it (cookie or platform storage) to prove it started the login

    @property
    def cookie_name(self) -> str:
        return STATE_COOKIE_PREFIX + self.binding[:16]

    @property
    def storage_key(self) -> str:
        return "state_" + self.binding


def target_hash(target_link_uri: str) -> str:
    return b64url(hashlib.sha256(target_link_uri.encode("utf-8")).digest()[:9])


def issue_state(signer: Signer, platform_id: int, target_link_uri: str, storage_target: str | None) -> LoginState:
    digest, binding = target_hash(target_link_uri), secrets.token_urlsafe(16)
    payload: dict[str, object] = {"p": platform_id, "h": digest, "b": binding}
    if storage_target:
        payload["s"] = storage_target
    raw = signer.dumps(STATE_PURPOSE, payload)
    return LoginState(raw, platform_id, digest, storage_target, binding)


def read_state(signer: Signer, raw: str, max_age: float) -> LoginState:
    if not raw or len(raw) > MAX_STATE_LENGTH:
        raise StateMismatch("the launch carries no usable state")
    try:
        payload = signer.loads(STATE_PURPOSE, raw, max_age)
    except TokenExpired as exc:
        raise StateExpired(f"the login state is older than {int(max_age)} seconds") from exc
    except BadToken as exc:
        raise StateMismatch("the state was not issued by this tool") from exc
    try:
        return LoginState(raw, int(payload["p"]), str(payload["h"]), payload.get("s"), str(payload["b"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise StateMismatch("the state is incomplete") from exc


def nonce_for(signer: Signer, state: LoginState) -> str:
    return signer.mac(NONCE_PURPOSE, state.raw, 24)
