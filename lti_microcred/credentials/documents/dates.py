"""XML Schema dateTime in and out, because VC dates must be exact and time-zoned to compare safely."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Final

_DATETIME: Final = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)


def format_datetime(value: datetime) -> str:
    """UTC, second precision, 'Z' suffix: the form every verifier parses."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass a timezone-aware datetime")
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: Any) -> datetime | None:
    """A timezone-aware datetime for a valid xsd:dateTimeStamp string, else None."""
    if not isinstance(value, str) or not _DATETIME.match(value):
        return None
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
