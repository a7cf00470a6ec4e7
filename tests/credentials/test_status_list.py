"""BitstringStatusList: bit order, encoding, bounds, entries, and the list credential round trip."""

from __future__ import annotations

import base64
import gzip
from datetime import timedelta

import pytest

from lti_microcred.credentials.errors import StatusListError
from lti_microcred.credentials.proofs.controller_keys import KeyResolver
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer, sign
from lti_microcred.credentials.status import bitstring as status_list
from lti_microcred.credentials.status.bitstring import (
    MIN_ENTRIES,
    StatusList,
    allocate_index,
    build_status_entry,
    build_status_list_credential,
    read_status,
)
from lti_microcred.credentials.verification.verifier import verify_credential

from .conftest import ISSUER, NOW, STATUS_URL


def test_bit_zero_is_the_leftmost_bit_of_the_first_byte() -> None:
    status_list = StatusList()
    status_list.set(0)
    status_list.set(9)
    raw = gzip.decompress(base64.urlsafe_b64decode(status_list.encode()[1:] + "=="))
    assert len(raw) == MIN_ENTRIES // 8 == 16 * 1024
    assert raw[:2] == bytes([0b1000_0000, 0b0100_0000])


def test_encode_decode_round_trip_and_determinism() -> None:
    status_list = StatusList()
    for index in (0, 7, 8, 94567, MIN_ENTRIES - 1):
        status_list.set(index)
    encoded = status_list.encode()
    assert encoded.startswith("u") and "=" not in encoded
    assert encoded == StatusList.decode(encoded).encode()
    decoded = StatusList.decode(encoded)
    assert [decoded.get(i) for i in (0, 1, 7, 8, 94567, MIN_ENTRIES - 1)] == [True, False, True, True, True, True]
    decoded.set(94567, False)
    assert not decoded.get(94567)


def test_an_empty_list_compresses_small() -> None:
    assert len(StatusList().encode()) < 100


@pytest.mark.parametrize(
    ("encoded", "reason"),
    [
        ("zabc", "starting with 'u'"),
        ("u!!!!", "not GZIP"),
        ("u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * 100)).decode(), "at least 131072"),
        ("u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * (17 * 1024 * 1024))).decode(), "beyond"),
    ],
    ids=["wrong-multibase", "garbage", "too-short", "zip-bomb"],
)
def test_bad_lists_are_refused(encoded: str, reason: str) -> None:
    with pytest.raises(StatusListError, match=reason):
        StatusList.decode(encoded)


def test_indexes_outside_the_list_are_refused() -> None:
    for index in (-1, MIN_ENTRIES):
        with pytest.raises(StatusListError, match="outside"):
            StatusList().get(index)
    with pytest.raises(StatusListError):
        StatusList(1000)


def test_allocation_probes_a_few_random_indexes_then_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(range(MIN_ENTRIES))
    monkeypatch.setattr(status_list.secrets, "randbelow", lambda n: next(draws))
    asked: list[int] = []

    def taken(index: int) -> bool:
        asked.append(index)
        return index != 100  # one free slot, which only a scan of the list would find

    with pytest.raises(StatusListError, match="crowded"):
        allocate_index(taken, attempts=8)
    assert asked == list(range(8))  # eight random draws, never a walk along the list
    assert allocate_index(lambda i: i < 10, attempts=8) == 10  # the first free draw
    monkeypatch.undo()
    assert allocate_index(lambda i: False) in range(MIN_ENTRIES)


def test_entries_and_list_credentials(signer: Ed25519Signer, resolver: KeyResolver) -> None:
    status_list = StatusList()
    status_list.set(31)
    list_credential = build_status_list_credential(
        credential_id=STATUS_URL,
        issuer=ISSUER,
        status_list=status_list,
        purpose="revocation",
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=1),
    )
    assert list_credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert verify_credential(sign(list_credential, signer, created=NOW), resolve_key=resolver, now=NOW).verified
    assert read_status(list_credential, build_status_entry(STATUS_URL, 31))
    assert not read_status(list_credential, build_status_entry(STATUS_URL, 30))
    with pytest.raises(StatusListError, match="purpose"):
        read_status(list_credential, build_status_entry(STATUS_URL, 31, "suspension"))
    with pytest.raises(StatusListError, match="not the one"):
        read_status(list_credential, build_status_entry("https://elsewhere.example/list", 31))
    entry = build_status_entry(STATUS_URL, 31)
    assert entry == {
        "id": f"{STATUS_URL}#31",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "31",
        "statusListCredential": STATUS_URL,
    }
    with pytest.raises(StatusListError, match="purpose"):
        build_status_entry(STATUS_URL, 1, "refresh")
