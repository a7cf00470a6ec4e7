"""When a waiting delivery is tried again, in words that stay true after the page was loaded."""

from __future__ import annotations

import datetime as dt

from lti_microcred.core.db import utcnow


def next_try(when: dt.datetime, now: dt.datetime | None = None) -> str:
    """"next try in 3 min (14:05 UTC)", or "being tried again now" once that time has come."""
    now = now or utcnow()
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    left = (when - now).total_seconds()
    if left <= 5:
        return "being tried again now"
    if left < 90:
        return f"next try in {round(left)} s"
    if left < 90 * 60:
        return f"next try in {round(left / 60)} min ({when:%H:%M} UTC)"
    return f"next try {when:%Y-%m-%d %H:%M} UTC"
