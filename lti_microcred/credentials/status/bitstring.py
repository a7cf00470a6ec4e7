"""W3C Bitstring Status List v1.0: revocation and suspension bits published in one signed list credential.

Index 0 is the left-most (most significant) bit of the first byte; the list is GZIP-compressed, then
base64url (no padding) with the multibase 'u' prefix. Lists hold at least 131,072 entries (16 KB) so one
learner's credential hides in the crowd.
"""

from __future__ import annotations

import base64
import gzip
import secrets
import zlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from lti_microcred.credentials.contexts import VC_V2
from lti_microcred.credentials.documents.dates import format_datetime
from lti_microcred.credentials.errors import StatusListError

MIN_ENTRIES: Final = 131_072
MAX_BYTES: Final = 16 * 1024 * 1024  # 134 million entries: far beyond need, well short of a zip bomb
PURPOSES: Final = ("revocation", "suspension")


class StatusList:
    """A fixed-length list of status bits."""

    def __init__(self, length: int = MIN_ENTRIES) -> None:
        if length < MIN_ENTRIES or length % 8:
            raise StatusListError(f"A status list needs at least {MIN_ENTRIES} entries, in whole bytes.")
        self._bits = bytearray(length // 8)

    @property
    def length(self) -> int:
        """Number of entries."""
        return len(self._bits) * 8

    def get(self, index: int) -> bool:
        """Whether the bit at `index` is set."""
        byte, mask = self._locate(index)
        return bool(self._bits[byte] & mask)

    def set(self, index: int, value: bool = True) -> None:
        """Set (or clear) the bit at `index`."""
        byte, mask = self._locate(index)
        self._bits[byte] = self._bits[byte] | mask if value else self._bits[byte] & ~mask

    @classmethod
    def from_bytes(cls, data: bytes) -> StatusList:
        """A list over stored raw bits (as kept in the database)."""
        status_list = cls(len(data) * 8)
        status_list._bits = bytearray(data)
        return status_list

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    def encode(self) -> str:
        """The encodedList value: 'u' + base64url(gzip(bits)), deterministic for equal bits."""
        compressed = gzip.compress(bytes(self._bits), compresslevel=9, mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded: str) -> StatusList:
        """Read an encodedList, refusing anything too short, too big or not GZIP."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusListError("encodedList must be a multibase base64url string starting with 'u'.")
        if len(encoded) > MAX_BYTES:
            raise StatusListError("encodedList is too large.")
        try:
            padded = encoded[1:] + "=" * (-len(encoded[1:]) % 4)
            compressed = base64.b64decode(padded, altchars=b"-_", validate=True)
            bits = _gunzip_bounded(compressed)
        except (ValueError, zlib.error, EOFError) as exc:
            raise StatusListError(f"encodedList is not GZIP-compressed base64url: {exc}") from exc
        status_list = cls()
        if len(bits) < MIN_ENTRIES // 8:
            raise StatusListError(f"The status list has {len(bits) * 8} entries; at least {MIN_ENTRIES} required.")
        status_list._bits = bytearray(bits)
        return status_list

    def _locate(self, index: int) -> tuple[int, int]:
        if not isinstance(index, int) or not 0 <= index < self.length:
            raise StatusListError(f"Status index {index!r} is outside the list (0..{self.length - 1}).")
        return index // 8, 0x80 >> (index % 8)


def _gunzip_bounded(data: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)  # gzip container only
    bits = inflater.decompress(data, MAX_BYTES + 1)
    if len(bits) > MAX_BYTES or inflater.unconsumed_tail:
        raise StatusListError("The status list expands beyond the accepted size.")
    if not inflater.eof:
        raise StatusListError("The status list's GZIP stream is truncated.")
    return bits


def allocate_index(is_taken: Callable[[int], bool], length: int = MIN_ENTRIES, *, attempts: int = 8) -> int:
    """A random free index (random, so neighbouring indexes don't reveal issue order). Only random draws: a
    list where `attempts` of them all hit taken indexes is crowded (well over half full), and the caller
    starts a new list rather than walking this one, which would fill it in order."""
    for _ in range(attempts):
        index = secrets.randbelow(length)
        if not is_taken(index):
            return index
    raise StatusListError(f"The status list is crowded ({attempts} random draws were all taken); start a new one.")


def build_status_entry(list_credential: str, index: int, purpose: str = "revocation") -> dict[str, Any]:
    """A BitstringStatusListEntry for a credential's credentialStatus."""
    _check_purpose(purpose)
    return {
        "id": f"{list_credential}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_credential,
    }


def build_status_list_credential(
    *,
    credential_id: str,
    issuer: str | dict[str, Any],
    status_list: StatusList,
    purpose: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """An unsigned BitstringStatusListCredential (sign it with dataintegrity.sign)."""
    _check_purpose(purpose)
    credential: dict[str, Any] = {
        "@context": [VC_V2],
        "id": credential_id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": format_datetime(valid_from),
        "credentialSubject": {
            "id": f"{credential_id}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": status_list.encode(),
        },
    }
    if valid_until is not None:
        credential["validUntil"] = format_datetime(valid_until)
    return credential


def read_status(list_credential: dict[str, Any], entry: dict[str, Any]) -> bool:
    """The bit a BitstringStatusListEntry points at, after checking entry and list agree."""
    if entry.get("type") != "BitstringStatusListEntry":
        raise StatusListError(f"Unsupported credentialStatus type {entry.get('type')!r}.")
    if entry.get("statusListCredential") != list_credential.get("id"):
        raise StatusListError("The status list credential is not the one the entry names.")
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("type") != "BitstringStatusList":
        raise StatusListError("The status list credential has no BitstringStatusList subject.")
    purposes = subject.get("statusPurpose")
    if entry.get("statusPurpose") not in (purposes if isinstance(purposes, list) else [purposes]):
        raise StatusListError("The status entry's purpose differs from the list's purpose.")
    if entry.get("statusSize", 1) not in (1, "1"):
        raise StatusListError("Only 1-bit statuses (revocation, suspension) are supported.")
    index = entry.get("statusListIndex")
    if not isinstance(index, str) or not index.isdigit():
        raise StatusListError(f"statusListIndex {index!r} is not a non-negative integer string.")
    return StatusList.decode(subject.get("encodedList", "")).get(int(index))


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise StatusListError(f"Status purpose must be one of {PURPOSES}, not {purpose!r}.")
