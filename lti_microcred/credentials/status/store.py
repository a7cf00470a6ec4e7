"""Status lists in the database: random slots for new credentials, bits set on revocation or suspension, and
the signed list credential (re-signed only when its bits changed)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_microcred.core.db import utcnow
from lti_microcred.credentials.errors import StatusListError
from lti_microcred.credentials.models import StatusList, StatusSlot
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer, sign
from lti_microcred.credentials.status.bitstring import MIN_ENTRIES, allocate_index, build_status_list_credential
from lti_microcred.credentials.status.bitstring import StatusList as Bits


def status_list_url(base_url: str, public_id: str) -> str:
    return f"{base_url.rstrip('/')}/status/{public_id}"


class OpenList(NamedTuple):
    id: int
    public_id: str
    size: int


ListOpener = Callable[[int, str, int], OpenList]  # (institution, purpose, newer than this list id) -> open list


def open_list(session: Session, institution_id: int, purpose: str, after: int = 0) -> OpenList:
    """The institution's newest list of this purpose (newer than `after`), created when there is none."""
    current = session.scalars(
        select(StatusList).where(StatusList.institution_id == institution_id, StatusList.purpose == purpose,
                                 StatusList.id > after)
        .order_by(StatusList.id.desc()).limit(1)
    ).first()
    if current is None:
        current = StatusList(institution_id=institution_id, public_id=secrets.token_hex(8), purpose=purpose,
                             size=MIN_ENTRIES, bits=bytes(MIN_ENTRIES // 8), version=0, updated_dt=utcnow())
        session.add(current)
        session.flush()
    return OpenList(current.id, current.public_id, current.size)


@dataclass(frozen=True)
class Choice:
    list_id: int
    list_public_id: str
    position: int
    purpose: str


_open_lists: dict[tuple[int, str], OpenList] = {}  # (institution, purpose) -> where slots are drawn: memo
_LISTS_TRIED = 3  # a fresh list is empty: a second crowded one in a row only happens under a burst of workers


def choose(session: Session, institution_id: int, purpose: str, opener: ListOpener | None = None) -> Choice:
    """A random unused position (herd privacy: neighbours in a list reveal nothing about issue order); a list
    where random probing keeps hitting taken slots (well over half full) gets a successor, so no list is ever
    filled in order. Reads only, but for a list it may have to create (in `session`, or through `opener`): the
    slot is claimed when the credential is stored, where a unique index refuses a slot another worker claimed
    meanwhile (the issuer then chooses again)."""
    def opened(after: int) -> OpenList:
        if opener is not None:
            return opener(institution_id, purpose, after)
        return open_list(session, institution_id, purpose, after)

    key = (institution_id, purpose)
    memo = _open_lists.get(key)
    if memo is None:
        memo = _open_lists[key] = opened(0)
    for _ in range(_LISTS_TRIED):
        try:
            return Choice(memo.id, memo.public_id, allocate_index(_taken_in(session, memo.id), memo.size), purpose)
        except StatusListError:
            memo = _open_lists[key] = opened(memo.id)
    raise StatusListError(f"No {purpose} status list has room: {_LISTS_TRIED} lists in a row were crowded.")


def _taken_in(session: Session, list_id: int) -> Callable[[int], bool]:
    return lambda position: session.scalar(select(StatusSlot.id).where(
        StatusSlot.status_list_id == list_id, StatusSlot.position == position)) is not None


def claim(session: Session, choice: Choice, issued_credential_id: int) -> None:
    session.add(StatusSlot(status_list_id=choice.list_id, position=choice.position,
                           issued_credential_id=issued_credential_id))


def forget_open_lists() -> None:
    """After the database was reset (tests), or when lists were removed."""
    _open_lists.clear()


def set_bit(session: Session, issued_credential_id: int, purpose: str, value: bool) -> bool:
    """Flip this credential's bit in its list of that purpose; returns whether anything changed."""
    row = session.execute(
        select(StatusList.id, StatusSlot.position).join(StatusSlot, StatusSlot.status_list_id == StatusList.id)
        .where(StatusSlot.issued_credential_id == issued_credential_id, StatusList.purpose == purpose)
    ).first()
    if row is None:
        return False
    # Lock the list row: concurrent revocations must not overwrite each other's bits.
    locked = session.execute(select(StatusList).where(StatusList.id == row.id).with_for_update()).scalar_one()
    bits = Bits.from_bytes(locked.bits)
    if bits.get(row.position) == value:
        return False
    bits.set(row.position, value)
    session.execute(update(StatusList).where(StatusList.id == locked.id).values(
        bits=bits.to_bytes(), version=locked.version + 1, updated_dt=utcnow()))
    return True


class SignedLists:
    """Per-process cache of signed list credentials, keyed by (list, version)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, public_id: str, base_url: str,
            signer_of: Callable[[int], tuple[str | dict[str, Any], Ed25519Signer]]) -> dict[str, Any] | None:
        """The list signed by its institution's issuer: `signer_of(institution id)` gives (issuer, signer)."""
        row = session.scalars(select(StatusList).where(StatusList.public_id == public_id)).one_or_none()
        if row is None:
            return None
        cached = self._cache.get(public_id)
        if cached is not None and cached[0] == row.version:
            return cached[1]
        issuer, signer = signer_of(row.institution_id)
        unsigned = build_status_list_credential(
            credential_id=status_list_url(base_url, public_id), issuer=issuer,
            status_list=Bits.from_bytes(row.bits), purpose=row.purpose, valid_from=row.updated_dt)
        signed = sign(unsigned, signer)
        with self._lock:
            self._cache[public_id] = (row.version, signed)
        return signed
