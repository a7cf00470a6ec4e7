"""Verification as this tool offers it to anyone: keys and status lists of our institutions' issuers come from
the database (fresh, so a revocation shows within seconds); did:key is resolved from the identifier itself,
so its signatures are checked, but only our institutions are vouched for; nothing is fetched from the network."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from lti_microcred.core.metrics import count_verification
from lti_microcred.credentials.errors import KeyResolutionError
from lti_microcred.credentials.issuing.issuer_state import IssuerState
from lti_microcred.credentials.proofs.controller_keys import ResolvedKey, document_resolver
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer
from lti_microcred.credentials.proofs.multikey import ed25519_public_key_from_multibase
from lti_microcred.credentials.status.store import SignedLists
from lti_microcred.credentials.verification.verdict import Verdict
from lti_microcred.credentials.verification.verifier import verify_credential

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def did_key_resolver(method_id: str) -> ResolvedKey:
    """did:key:z6Mk… (Ed25519): the public key is the identifier."""
    did = method_id.split("#", 1)[0]
    if not did.startswith("did:key:z6Mk"):
        raise KeyResolutionError(f"{method_id} cannot be resolved here (only our own issuer and did:key).")
    try:
        key = ed25519_public_key_from_multibase(did[len("did:key:"):])
    except ValueError as exc:
        raise KeyResolutionError(f"{did} is not a valid Ed25519 did:key") from exc
    return ResolvedKey(id=method_id, controller=did, public_key=key)


def resolver_for(issuers: Sequence[IssuerState]) -> Callable[[str], ResolvedKey]:
    ours = document_resolver([d for i in issuers for d in (i.did_document, i.https_profile)])

    def resolve(method_id: str) -> ResolvedKey:
        if method_id.startswith("did:key:"):
            return did_key_resolver(method_id)
        return ours(method_id)

    return resolve


def signer_of(issuers: Sequence[IssuerState]) -> Callable[[int], tuple[str, Ed25519Signer]]:
    """Who signs an institution's status lists: its own issuer."""
    by_institution = {i.institution_id: i for i in issuers}

    def signer(institution_id: int) -> tuple[str, Ed25519Signer]:
        issuer = by_institution[institution_id]
        return issuer.did, issuer.di_signer

    return signer


def status_fetcher(session: Session, issuers: Sequence[IssuerState], lists: SignedLists, base_url: str
                   ) -> Callable[[str], dict[str, Any]]:
    prefix = base_url.rstrip("/") + "/status/"

    def fetch(url: str) -> dict[str, Any]:
        if not url.startswith(prefix):
            raise LookupError("status lists of other issuers are not fetched (this verifier works offline)")
        signed = lists.get(session, url[len(prefix):], base_url, signer_of(issuers))
        if signed is None:
            raise LookupError("no such status list")
        return signed

    return fetch


def verify(session: Session, issuers: Sequence[IssuerState], lists: SignedLists, base_url: str,
           credential: dict[str, Any] | str) -> Verdict:
    """Our verdict for the public: a credential of any issuer but our institutions' is not called verified,
    whatever its signature, since a did:key anyone made may name any institution."""
    trusted = {name for i in issuers for name in (i.did, i.https_profile["id"])}
    verdict = verify_credential(credential, resolve_key=resolver_for(issuers),
                                fetch_status_list=status_fetcher(session, issuers, lists, base_url),
                                trusted_issuers=trusted)
    failures = verdict.failures
    count_verification(not failures, failures[0].name.value if failures else "")
    return verdict
