"""The status part of verification: is the credential revoked or suspended, by a list we can trust?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from lti_microcred.credentials.errors import CredentialError
from lti_microcred.credentials.proofs.jsonld_values import as_list
from lti_microcred.credentials.proofs.vcjwt import issuer_id
from lti_microcred.credentials.status.bitstring import read_status
from lti_microcred.credentials.verification.verdict import Check, CheckName, Outcome, Verdict

MAX_STATUS_ENTRIES: Final = 8
ListVerdict = Callable[[str], Verdict]
"""The verdict on the status list published at a URL; raises when the list cannot be fetched."""

_SET_BIT_MEANS = {
    "revocation": "The issuer has revoked this credential.",
    "suspension": "The issuer has suspended this credential for now.",
}


def status_check(document: dict[str, Any], list_verdict: ListVerdict | None) -> Check:
    """Look up every BitstringStatusListEntry; the list itself must verify and come from the same issuer."""
    entries = as_list(document.get("credentialStatus"))
    if not entries:
        return Check(CheckName.STATUS, Outcome.SKIPPED, "The credential has no status entry (it cannot be revoked).")
    if list_verdict is None:
        return Check(CheckName.STATUS, Outcome.WARNING, "Revocation was not checked (no status list fetcher).")
    if len(entries) > MAX_STATUS_ENTRIES:
        return Check(CheckName.STATUS, Outcome.FAILED, f"The credential has {len(entries)} status entries; "
                                                       f"at most {MAX_STATUS_ENTRIES} are checked.")
    for entry in entries:
        failure = _entry_failure(document, entry, list_verdict)
        if failure:
            return Check(CheckName.STATUS, Outcome.FAILED, failure)
    return Check(CheckName.STATUS, Outcome.PASSED, "The credential is neither revoked nor suspended.")


def _entry_failure(document: dict[str, Any], entry: Any, list_verdict: ListVerdict) -> str | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("statusListCredential"), str):
        return "A credentialStatus entry is malformed."
    url = entry["statusListCredential"]
    try:
        verdict = list_verdict(url)
    except Exception as exc:  # the fetcher is the caller's code: any failure means "status unknown"
        return f"The status list {url} could not be fetched ({exc}); revocation status is unknown."
    if not verdict.verified or verdict.credential is None:
        return f"The status list {url} cannot be trusted: {verdict.summary()}"
    if issuer_id(verdict.credential) != issuer_id(document):
        return f"The status list {url} was not issued by the credential's issuer."
    try:
        is_set = read_status(verdict.credential, entry)
    except CredentialError as exc:
        return f"The status entry cannot be read: {exc}"
    return (
        _SET_BIT_MEANS.get(str(entry.get("statusPurpose")), "The status list flags this credential.")
        if is_set
        else None
    )
