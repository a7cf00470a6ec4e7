"""The issuer's profile and keys outlive each test (keys are slow to make, the profile is one row): a test
that changes them puts them back as they were."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from lti_microcred.core.db import transaction
from lti_microcred.credentials.issuing.issuer import PROFILE_FIELDS, profile_of
from lti_microcred.credentials.models import IssuerKey


@contextmanager
def issuer_restored(services: Any) -> Iterator[None]:
    """Whatever happens to the issuer profile and keys inside, they are as before afterwards."""
    with services.read_sessions() as session:
        profile = profile_of(session, services.issuer.state().institution_id)
        fields = {name: getattr(profile, name) for name in PROFILE_FIELDS}
        keys = {k.id: (k.status, k.retired_dt) for k in session.scalars(select(IssuerKey))}
    try:
        yield
    finally:
        with transaction(services.sessions) as session:
            row = profile_of(session, services.issuer.state().institution_id)
            for name, value in fields.items():
                setattr(row, name, value)
            for key in session.scalars(select(IssuerKey)):
                if key.id in keys:
                    key.status, key.retired_dt = keys[key.id]
                else:
                    session.delete(key)
        services.issuer.invalidate()
