"""Fixtures for issuing tests that change the one issuer profile the whole session shares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lti_microcred.core.db import transaction
from lti_microcred.credentials.issuing.issuer import profile_of
from tests.support.issuer import issuer_restored

ADDRESS = {"street_address": "College Green 1", "postal_code": "D02 PN40", "locality": "Dublin", "country": "IE"}


@pytest.fixture
def issuer_address(services: Any) -> Iterator[dict[str, str]]:
    """The issuer profile with a full postal address for the test, as it was afterwards."""
    with issuer_restored(services):
        with transaction(services.sessions) as session:
            profile = profile_of(session, services.issuer.state().institution_id)
            for name, value in ADDRESS.items():
                setattr(profile, name, value)
        services.issuer.invalidate()
        yield ADDRESS


@pytest.fixture
def keys_restored(services: Any) -> Iterator[None]:
    """For tests that rotate the issuer's keys."""
    with issuer_restored(services):
        yield
