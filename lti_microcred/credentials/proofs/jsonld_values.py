"""Small readers of JSON-LD documents that proofs, key resolution and verification share."""

from __future__ import annotations

from typing import Any


def as_list(value: Any) -> list[Any]:
    """A JSON-LD value that may be one item, an array, or absent, as a list."""
    return value if isinstance(value, list) else [] if value is None else [value]


def without_proof(document: dict[str, Any]) -> dict[str, Any]:
    """The document as it was signed: everything but its proof (set)."""
    return {k: v for k, v in document.items() if k != "proof"}
