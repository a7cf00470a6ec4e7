"""Signed login state, derived nonce, per-purpose keys."""

from __future__ import annotations

import pytest

from lti_microcred.core.signing import BadToken, Signer
from lti_microcred.lti.errors import StateExpired, StateMismatch
from lti_microcred.lti.state import issue_state, nonce_for, read_state

SIGNER = Signer("unit-test-secret")


def test_state_round_trip_carries_platform_target_and_storage() -> None:
    state = issue_state(SIGNER, 7, "https://tool/lti/launch", "post_message_forwarding")
    back = read_state(SIGNER, state.raw, 600)
    assert (back.platform_id, back.storage_target, back.binding) == (7, "post_message_forwarding", state.binding)
    assert back.cookie_name.startswith("lmc_state_")
    assert nonce_for(SIGNER, back) == nonce_for(SIGNER, state)


def test_each_state_has_its_own_nonce() -> None:
    a, b = (issue_state(SIGNER, 1, "https://tool/lti/launch", None) for _ in range(2))
    assert a.raw != b.raw and nonce_for(SIGNER, a) != nonce_for(SIGNER, b)


@pytest.mark.parametrize("raw", ["", "x" * 2000, "garbage", "eyJwIjoxfQ.AAAA"])
def test_bad_states_are_mismatches(raw: str) -> None:
    with pytest.raises(StateMismatch):
        read_state(SIGNER, raw, 600)


def test_state_of_another_secret_is_refused() -> None:
    state = issue_state(Signer("other-secret"), 1, "https://tool/lti/launch", None)
    with pytest.raises(StateMismatch):
        read_state(SIGNER, state.raw, 600)


def test_old_state_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    state = issue_state(SIGNER, 1, "https://tool/lti/launch", None)
    monkeypatch.setattr("lti_microcred.core.signing.time.time", lambda: 10**10)
    with pytest.raises(StateExpired):
        read_state(SIGNER, state.raw, 600)


def test_token_of_one_purpose_is_not_valid_for_another() -> None:
    token = SIGNER.dumps("registration-invite", {})
    assert SIGNER.loads("registration-invite", token, 60)["iat"]
    with pytest.raises(BadToken):
        SIGNER.loads("oidc-state", token, 60)
