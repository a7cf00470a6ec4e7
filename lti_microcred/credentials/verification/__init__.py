"""Verification, with one entry point: `verify` checks any credential the way this tool vouches for it (our
issuer's keys and status lists from the database, nothing fetched). It runs `verify_credential`, the engine,
which callers with their own key resolver and status-list fetcher (tests, benchmarks) may use directly."""

from lti_microcred.credentials.verification.our_issuer import MAX_UPLOAD_BYTES, verify
from lti_microcred.credentials.verification.verdict import Check, CheckName, Outcome, Verdict
from lti_microcred.credentials.verification.verifier import verify_credential

__all__ = ["MAX_UPLOAD_BYTES", "Check", "CheckName", "Outcome", "Verdict", "verify", "verify_credential"]
