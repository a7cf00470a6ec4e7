"""The Gradebook's "next try" stays true after the page was loaded: a time in the past reads as now."""

from __future__ import annotations

import datetime as dt

import pytest

from lti_microcred.web.common.next_try import next_try

NOW = dt.datetime(2026, 12, 8, 14, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("seconds, said", [
    (-600, "being tried again now"),
    (3, "being tried again now"),
    (40, "next try in 40 s"),
    (180, "next try in 3 min (14:03 UTC)"),
    (7200, "next try 2026-12-08 16:00 UTC"),
])
def test_next_try_in_words(seconds: int, said: str) -> None:
    assert next_try(NOW + dt.timedelta(seconds=seconds), NOW) == said
