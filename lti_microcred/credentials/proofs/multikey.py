"""Multibase base58btc and Ed25519 Multikey encodings, the key format Data Integrity proofs name."""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX: Final = {char: i for i, char in enumerate(_ALPHABET)}
_MAX_ENCODED: Final = 512  # base58 decoding is quadratic: refuse absurd input before doing it
ED25519_PUB_HEADER: Final = b"\xed\x01"  # multicodec ed25519-pub (0xed), varint-encoded
ED25519_PRIV_HEADER: Final = b"\x80\x26"  # multicodec ed25519-priv (0x1300), varint-encoded


def base58btc_encode(data: bytes) -> str:
    """Bitcoin-alphabet base58, keeping leading zero bytes as '1's."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_ALPHABET[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Inverse of base58btc_encode; ValueError on a character outside the alphabet."""
    if len(text) > _MAX_ENCODED:
        raise ValueError("base58 value is too long")
    number = 0
    for char in text:
        if char not in _INDEX:
            raise ValueError(f"{char!r} is not a base58btc character")
        number = number * 58 + _INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_base58btc(data: bytes) -> str:
    """Multibase form ('z' prefix) used by proofValue and publicKeyMultibase."""
    return "z" + base58btc_encode(data)


def from_multibase_base58btc(value: str) -> bytes:
    """Bytes of a 'z'-prefixed multibase value; ValueError for any other base."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise ValueError("expected a multibase base58btc value starting with 'z'")
    return base58btc_decode(value[1:])


def ed25519_public_key_to_multibase(key: Ed25519PublicKey) -> str:
    """publicKeyMultibase of an Ed25519 key ('z6Mk...')."""
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return multibase_base58btc(ED25519_PUB_HEADER + raw)


def ed25519_public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """Ed25519 key of a publicKeyMultibase; ValueError when it is not one."""
    data = from_multibase_base58btc(value)
    if not data.startswith(ED25519_PUB_HEADER) or len(data) != 34:
        raise ValueError("publicKeyMultibase is not an Ed25519 Multikey (multicodec 0xed01, 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(data[2:])


def ed25519_private_key_to_multibase(key: Ed25519PrivateKey) -> str:
    """secretKeyMultibase (seed + public key, as Digital Bazaar's Multikey library writes it)."""
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return multibase_base58btc(ED25519_PRIV_HEADER + seed + public)


def ed25519_private_key_from_multibase(value: str) -> Ed25519PrivateKey:
    """Ed25519 key of a secretKeyMultibase (a 32-byte seed, or seed + public key as Digital Bazaar has it)."""
    data = from_multibase_base58btc(value)
    if not data.startswith(ED25519_PRIV_HEADER) or len(data) not in (34, 66):
        raise ValueError("secretKeyMultibase is not an Ed25519 Multikey (multicodec 0x8026)")
    key = Ed25519PrivateKey.from_private_bytes(data[2:34])
    if len(data) == 66 and key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) != data[34:]:
        raise ValueError("secretKeyMultibase carries a public key that does not match its seed")
    return key
