"""The LMS services' long-lived objects of one process (token cache, HTTP client, column cache, handlers,
worker), built once per `Services` and reached with `runtime_of(services)`."""

from __future__ import annotations

import threading
import time

from lti_microcred.lms.access import ServiceClient
from lti_microcred.lms.course import product_of
from lti_microcred.lms.delivery.handlers import AwardComment, register_gradebook_handlers
from lti_microcred.lms.delivery.jobs import HandlerRegistry
from lti_microcred.lms.delivery.worker import Worker, WorkerOptions
from lti_microcred.lms.http import PlatformHTTP
from lti_microcred.lms.lineitems import Columns
from lti_microcred.lms.scheduler import GRADE_READBACK, ROSTER_SYNC, Scheduler, readback_job, roster_job
from lti_microcred.lms.token import TokenCache, TokenStore
from lti_microcred.lms.token_store import DbTokenStore, RedisTokenStore
from lti_microcred.lti.models import Platform
from lti_microcred.outbound import OutboundHTTP
from lti_microcred.services import Services

FAMILY_CACHE_SECONDS = 300.0
_ATTRIBUTE = "_lms_runtime"
_lock = threading.Lock()


class LmsRuntime:
    def __init__(self, services: Services, outbound: OutboundHTTP | None = None,
                 token_store: TokenStore | None = None) -> None:
        self.services = services
        settings = services.settings
        outbound = outbound or services.http
        if token_store is None:
            token_store = (RedisTokenStore(settings.redis_url, services.box) if settings.redis_url
                           else DbTokenStore(services.sessions, services.box))
        self.http = PlatformHTTP(outbound)
        self.tokens = TokenCache(outbound, services.tool_keys, token_store)
        self.client = ServiceClient(self.http, self.tokens, services.registry, services.read_sessions)
        self.columns = Columns(self.client, services.sessions, services.read_sessions)
        self.handlers = HandlerRegistry()
        register_gradebook_handlers(self.handlers)
        self.handlers.register(ROSTER_SYNC, roster_job, coalesce=True)
        self.handlers.register(GRADE_READBACK, readback_job, coalesce=True)
        self.scheduler = Scheduler(self)
        self._families: dict[int, tuple[float, str | None]] = {}
        self._worker: Worker | None = None

    def set_award_comment(self, award_comment: AwardComment) -> None:
        """The credentials package's comment for award columns (with the verification link)."""
        register_gradebook_handlers(self.handlers, award_comment)

    def options(self) -> WorkerOptions:
        s = self.services.settings
        return WorkerOptions(poll_seconds=s.worker_poll_seconds, backoff_seconds=s.delivery_backoff_seconds,
                             backoff_max_seconds=s.delivery_backoff_max_seconds)

    def worker(self, options: WorkerOptions | None = None) -> Worker:
        """This process's delivery worker (one per runtime unless options are given)."""
        if options is not None:
            return Worker(self.services, self, self.handlers, options)
        with _lock:
            if self._worker is None:
                self._worker = Worker(self.services, self, self.handlers, self.options())
            return self._worker

    def wake(self) -> None:
        """New work was queued in this process: do not wait for the next poll."""
        if self._worker is not None:
            self._worker.wake()

    def family(self, context_id: int) -> str | None:
        """The LMS product of a course (moodle, canvas, …) for its quirks; from launches or the registration."""
        cached = self._families.get(context_id)
        if cached and time.monotonic() - cached[0] < FAMILY_CACHE_SECONDS:
            return cached[1]
        with self.services.read_sessions() as session:  # from launches too, before the scheduler noted them
            course = product_of(session, context_id)
            platform = session.get(Platform, course[0]) if course is not None else None
        family = None
        if course is not None and platform is not None:
            family = (course[1] or platform.product_family_code
                      or ("canvas" if "instructure.com" in platform.issuer else "")).lower() or None
        self._families[context_id] = (time.monotonic(), family)
        return family


def runtime_of(services: Services) -> LmsRuntime:
    """The runtime of this Services (made on first use); tests may install their own with `use_runtime`."""
    runtime = services.__dict__.get(_ATTRIBUTE)
    if runtime is None:
        with _lock:
            runtime = services.__dict__.get(_ATTRIBUTE)
            if runtime is None:
                runtime = services.__dict__[_ATTRIBUTE] = LmsRuntime(services)
    return runtime


def use_runtime(services: Services, runtime: LmsRuntime | None) -> None:
    """Replace (or with None, forget) the runtime of a Services."""
    if runtime is None:
        services.__dict__.pop(_ATTRIBUTE, None)
    else:
        services.__dict__[_ATTRIBUTE] = runtime
