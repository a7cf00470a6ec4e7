"""Tool key set: stored encrypted, published as JWKS, rotated without breaking tokens in flight."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.crypto_box import SecretBox, SecretBoxError
from lti_microcred.core.db import Base, make_engine, make_sessionmaker
from lti_microcred.lti.keys import ToolKeyRing, ensure_keys, published_keys, rotate_keys
from lti_microcred.lti.models import ToolKey

BOX = SecretBox("unit-secret")


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.sqlite3'}")
    Base.metadata.create_all(engine, tables=[ToolKey.__table__])
    yield make_sessionmaker(engine, write=True)
    engine.dispose()


def ring(sessions: sessionmaker[Session], retired_seconds: int = 3600) -> ToolKeyRing:
    return ToolKeyRing(sessions, BOX, retired_seconds, refresh_seconds=0)


def test_init_creates_current_and_next_and_never_stores_private_keys_in_clear(sessions) -> None:
    with sessions.begin() as s:
        created = ensure_keys(s, BOX)
        assert sorted(k.status for k in created) == ["current", "next"]
        assert ensure_keys(s, BOX) == []  # idempotent
        for key in s.query(ToolKey):
            assert b"PRIVATE" not in key.private_key_enc and b"\x30\x82" not in key.private_key_enc[:20]


def test_jwks_publishes_current_and_next_with_kids(sessions) -> None:
    with sessions.begin() as s:
        ensure_keys(s, BOX)
    keys = ring(sessions).jwks()["keys"]
    assert len(keys) == 2
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" and k["kid"] for k in keys)
    assert all("d" not in k for k in keys)


def test_signatures_verify_against_the_published_key(sessions) -> None:
    with sessions.begin() as s:
        ensure_keys(s, BOX)
    r = ring(sessions)
    token = r.signing_key().sign({"hello": "world"})
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in r.jwks()["keys"] if k["kid"] == kid)
    assert jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"]) == {"hello": "world"}


def test_rotation_promotes_next_and_keeps_the_old_key_published(sessions) -> None:
    with sessions.begin() as s:
        ensure_keys(s, BOX)
    r = ring(sessions)
    old_token = r.signing_key().sign({"n": 1})
    with sessions() as s:
        next_kid = next(k.kid for k in published_keys(s, 3600) if k.status == "next")
    with sessions.begin() as s:
        current, _retired = rotate_keys(s, BOX)
    assert current.kid == next_kid  # the key platforms already cached now signs
    kids = {k["kid"] for k in r.jwks()["keys"]}
    assert jwt.get_unverified_header(old_token)["kid"] in kids  # tokens in flight still verify
    assert r.signing_key().kid == next_kid
    assert len(kids) == 3  # retired + current + a new next


def test_retired_key_disappears_after_its_window(sessions) -> None:
    with sessions.begin() as s:
        ensure_keys(s, BOX)
        _, retired = rotate_keys(s, BOX)
        assert retired is not None
        retired.retired_dt = retired.retired_dt - dt.timedelta(hours=2)
        retired_kid = retired.kid
    assert retired_kid not in {k["kid"] for k in ring(sessions, retired_seconds=3600).jwks()["keys"]}


def test_wrong_encryption_key_is_a_clear_error(sessions) -> None:
    with sessions.begin() as s:
        ensure_keys(s, BOX)
    with pytest.raises(SecretBoxError, match="KEY_ENCRYPTION_KEY"):
        ToolKeyRing(sessions, SecretBox("another-secret"), 3600, refresh_seconds=0).signing_key()


def test_sealed_data_is_bound_to_its_kid() -> None:
    sealed = BOX.seal(b"secret", context=b"kid-a")
    assert BOX.open(sealed, context=b"kid-a") == b"secret"
    with pytest.raises(SecretBoxError):
        BOX.open(sealed, context=b"kid-b")
