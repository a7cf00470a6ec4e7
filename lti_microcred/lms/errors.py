"""How a call to a platform service went wrong, classified once so the worker knows whether to retry."""

from __future__ import annotations

TRANSIENT, PERMANENT, AUTH = "transient", "permanent", "auth"


class ServiceError(Exception):
    """A platform service call failed; `kind` says what the worker does about it.

    transient: retry later (5xx, 408, 429, timeouts, dropped connections), after `retry_after` if the
    platform said so; permanent: a retry cannot help (other 4xx), show it to the instructor;
    auth: 401, refresh the access token once and try again. `detail` is what the platform itself said.
    """

    def __init__(self, message: str, kind: str = TRANSIENT, status: int | None = None,
                 retry_after: float | None = None, detail: str = "", throttled: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.detail = detail
        self.throttled = throttled  # the platform limits our rate: every call to it waits, not only this one

    @property
    def is_permanent(self) -> bool:
        return self.kind == PERMANENT


class ScopeNotGranted(ServiceError):
    """The LMS did not grant the scope an operation needs: an LMS admin must allow the service."""

    def __init__(self, scope: str, granted: frozenset[str]) -> None:
        name = scope.rsplit("/", 1)[-1]
        super().__init__(f"the LMS did not grant the {name!r} scope (granted: "
                         f"{', '.join(sorted(s.rsplit('/', 1)[-1] for s in granted)) or 'none'}); "
                         "ask the LMS administrator to allow it for this tool", PERMANENT)
        self.scope = scope


class UnexpectedError(ServiceError):
    """A bug in the tool's own delivery code: retried like a transient failure, shown by its class name only
    (the message may hold anything); the traceback is in the worker's log."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(f"unexpected error in the tool ({exc.__class__.__name__}); the delivery worker's log "
                         "has the details", TRANSIENT)


class NotReady(Exception):
    """The work cannot start yet (no gradebook column, no service URL known): try again later, not an error."""

    def __init__(self, message: str, delay_seconds: float = 300.0) -> None:
        super().__init__(message)
        self.delay_seconds = delay_seconds
