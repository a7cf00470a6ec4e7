"""The structured answer of the verifier: every check, its outcome, and a reason a person can read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class CheckName(StrEnum):
    """What was checked, in the order a verdict lists them."""

    FORMAT = "format"
    JSON_LD = "json-ld"
    PROOF = "proof"
    ISSUER = "issuer"
    TRUSTED_ISSUER = "trusted issuer"
    VALIDITY = "validity"
    STATUS = "status"
    EMBEDDED = "embedded credentials"


class Outcome(StrEnum):
    """How a check came out; only FAILED makes a credential unverified."""

    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    """One check and what it found."""

    name: CheckName
    outcome: Outcome
    reason: str


@dataclass(frozen=True)
class Verdict:
    """All checks of one credential; it is verified when none failed."""

    checks: tuple[Check, ...]
    credential: dict[str, Any] | None = None
    embedded: tuple[Verdict, ...] = ()  # a record's bundled credentials, each verified on its own

    @property
    def verified(self) -> bool:
        """True when no check failed."""
        return not any(c.outcome is Outcome.FAILED for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        """The failed checks, in order."""
        return tuple(c for c in self.checks if c.outcome is Outcome.FAILED)

    def check(self, name: CheckName) -> Check | None:
        """The check of that name, if it ran."""
        return next((c for c in self.checks if c.name is name), None)

    def failed(self, name: CheckName) -> bool:
        """Whether the check of that name ran and failed."""
        check = self.check(name)
        return check is not None and check.outcome is Outcome.FAILED

    def summary(self) -> str:
        """One sentence for a person: verified, or the first reason it is not."""
        if not self.verified:
            return self.failures[0].reason
        status = self.check(CheckName.STATUS)
        if status is not None and status.outcome is Outcome.PASSED:
            return "This credential is authentic, current, and neither revoked nor suspended."
        return "This credential is authentic and current" + (f" ({status.reason})" if status else ".")
