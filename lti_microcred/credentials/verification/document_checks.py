"""Checks that read the credential alone, without keys or status lists: is it a VC 2.0 document, is it within
its validity dates, and is its issuer one this service knows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from lti_microcred.credentials.contexts import VC_V2
from lti_microcred.credentials.documents.dates import parse_datetime
from lti_microcred.credentials.proofs.vcjwt import issuer_id
from lti_microcred.credentials.verification.verdict import Check, CheckName, Outcome


def format_check(document: dict[str, Any]) -> Check:
    """A W3C VC 2.0 document with an issuer id and a subject, or why not."""
    contexts = document.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    types = document.get("type")
    if first != VC_V2 or not isinstance(types, list) or "VerifiableCredential" not in types:
        return Check(CheckName.FORMAT, Outcome.FAILED, "This is not a W3C Verifiable Credential 2.0 document.")
    if issuer_id(document) is None or not isinstance(document.get("credentialSubject"), dict | list):
        return Check(CheckName.FORMAT, Outcome.FAILED, "The credential lacks an issuer id or a credentialSubject.")
    return Check(CheckName.FORMAT, Outcome.PASSED, f"A {', '.join(map(str, types))}.")


def validity_check(document: dict[str, Any], now: datetime) -> Check:
    """Within validFrom..validUntil at `now`, or why not."""
    valid_from, valid_until = parse_datetime(document.get("validFrom")), parse_datetime(document.get("validUntil"))
    if valid_from is None or ("validUntil" in document and valid_until is None):
        return Check(CheckName.VALIDITY, Outcome.FAILED, "validFrom/validUntil are missing or not valid date-times.")
    if now < valid_from:
        return Check(CheckName.VALIDITY, Outcome.FAILED,
                     f"The credential is not valid yet: it starts on {document['validFrom']}.")
    if valid_until is not None and now > valid_until:
        return Check(CheckName.VALIDITY, Outcome.FAILED, f"The credential expired on {document['validUntil']}.")
    return Check(CheckName.VALIDITY, Outcome.PASSED, "The credential is within its validity period.")


def trust_check(document: dict[str, Any], trusted: Collection[str]) -> Check:
    """Whether the issuer is one this service vouches for: anyone can make a key (did:key) and sign a
    credential naming any institution, so a sound signature alone says nothing about who the issuer is."""
    issuer = issuer_id(document)
    if issuer in trusted:
        return Check(CheckName.TRUSTED_ISSUER, Outcome.PASSED, f"Issued by this service's own issuer, {issuer}.")
    profile = document.get("issuer")
    name = profile.get("name") if isinstance(profile, dict) else None
    claim = f', not that it comes from "{name}" as it says' if isinstance(name, str) and name else ""
    return Check(CheckName.TRUSTED_ISSUER, Outcome.FAILED,
                 f"Issued by {issuer}, an issuer this service does not know. The signature only proves who holds "
                 f"the key of {issuer}{claim}.")
