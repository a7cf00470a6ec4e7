"""Shared homes for access tokens: the database (always there) or Redis (when configured).

Tokens are bearer secrets, so they are stored sealed with the same key-encryption key as our private keys.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.crypto_box import SecretBox, SecretBoxError
from lti_microcred.core.db import dialect_insert, transaction
from lti_microcred.lms.models import AccessTokenRow
from lti_microcred.lms.token import AccessToken

PURPOSE = b"lms-access-token"


def _when(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


class DbTokenStore:
    """One row per (platform, scope set); a newer token simply replaces the row."""

    def __init__(self, sessions: sessionmaker[Session], box: SecretBox) -> None:
        self._sessions = sessions
        self._box = box

    def get(self, platform_id: int, key: str) -> AccessToken | None:
        with self._sessions() as session:
            row = session.execute(select(AccessTokenRow).where(
                AccessTokenRow.platform_id == platform_id, AccessTokenRow.scope_key == key)).scalar_one_or_none()
            if row is None:
                return None
            try:
                value = self._box.open(row.token_enc, PURPOSE + key.encode()).decode()
            except SecretBoxError:
                return None
            return AccessToken(value, frozenset(row.granted_scope.split()), row.expires_dt.timestamp(),
                               row.refresh_dt.timestamp())

    def put(self, platform_id: int, key: str, token: AccessToken) -> None:
        values = {"token_enc": self._box.seal(token.value.encode(), PURPOSE + key.encode()),
                  "granted_scope": " ".join(sorted(token.scopes)), "expires_dt": _when(token.expires_at),
                  "refresh_dt": _when(token.refresh_at)}
        with transaction(self._sessions) as session:
            stmt = dialect_insert(session, AccessTokenRow.__table__).values(platform_id=platform_id, scope_key=key,
                                                                            **values)
            session.execute(stmt.on_conflict_do_update(index_elements=["platform_id", "scope_key"], set_=values))

    def discard(self, platform_id: int, key: str, value: str) -> None:
        current = self.get(platform_id, key)
        if current is not None and current.value == value:
            with transaction(self._sessions) as session:
                session.execute(delete(AccessTokenRow).where(AccessTokenRow.platform_id == platform_id,
                                                             AccessTokenRow.scope_key == key))


class RedisTokenStore:
    """Tokens under `microcred:lms-token:<platform>:<scopes>`, expiring with the token itself."""

    def __init__(self, url: str, box: SecretBox, client: Any = None) -> None:
        if client is None:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._redis = client
        self._box = box

    @staticmethod
    def _name(platform_id: int, key: str) -> str:
        return f"microcred:lms-token:{platform_id}:{key}"

    def get(self, platform_id: int, key: str) -> AccessToken | None:
        raw = self._redis.get(self._name(platform_id, key))
        if not raw:
            return None
        try:
            data = json.loads(self._box.open(raw, PURPOSE + key.encode()))
        except (SecretBoxError, ValueError):
            return None
        return AccessToken(data["v"], frozenset(data["s"]), data["e"], data["r"])

    def put(self, platform_id: int, key: str, token: AccessToken) -> None:
        data = json.dumps({"v": token.value, "s": sorted(token.scopes), "e": token.expires_at, "r": token.refresh_at})
        ttl = max(1, int(token.expires_at - dt.datetime.now(dt.UTC).timestamp()))
        self._redis.set(self._name(platform_id, key), self._box.seal(data.encode(), PURPOSE + key.encode()), ex=ttl)

    def discard(self, platform_id: int, key: str, value: str) -> None:
        current = self.get(platform_id, key)
        if current is not None and current.value == value:
            self._redis.delete(self._name(platform_id, key))
