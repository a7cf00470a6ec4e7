"""How one process talks to LMSs: pooled HTTP, shared access tokens, the service client, gradebook columns
and the product of each course. Roster sync, grade read-back and the delivery handlers take this; the runtime
that schedules and runs them is built on top of it and never imported back."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.outbound import OutboundHTTP
from lti_microcred.lms.access import ServiceClient
from lti_microcred.lms.course import product_of
from lti_microcred.lms.http import PlatformHTTP
from lti_microcred.lms.lineitems import Columns
from lti_microcred.lms.token import TokenCache, TokenStore
from lti_microcred.lti.keys import ToolKeyRing
from lti_microcred.lti.models import Platform
from lti_microcred.lti.registry import Registry

FAMILY_CACHE_SECONDS = 300.0


class LmsConnection:
    def __init__(self, sessions: sessionmaker[Session], read_sessions: sessionmaker[Session], outbound: OutboundHTTP,
                 registry: Registry, tool_keys: ToolKeyRing, token_store: TokenStore) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.http = PlatformHTTP(outbound)
        self.tokens = TokenCache(outbound, tool_keys, token_store)
        self.client = ServiceClient(self.http, self.tokens, registry, read_sessions)
        self.columns = Columns(self.client, sessions, read_sessions, self.family)
        self._families: dict[int, tuple[float, str | None]] = {}

    def family(self, context_id: int) -> str | None:
        """The LMS product of a course (moodle, canvas, …) for its quirks; from launches or the registration."""
        cached = self._families.get(context_id)
        if cached and time.monotonic() - cached[0] < FAMILY_CACHE_SECONDS:
            return cached[1]
        with self.read_sessions() as session:  # from launches too, before the scheduler noted them
            course = product_of(session, context_id)
            platform = session.get(Platform, course[0]) if course is not None else None
        family = None
        if course is not None and platform is not None:
            family = (course[1] or platform.product_family_code
                      or ("canvas" if "instructure.com" in platform.issuer else "")).lower() or None
        self._families[context_id] = (time.monotonic(), family)
        return family
