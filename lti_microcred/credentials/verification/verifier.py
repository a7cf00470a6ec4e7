"""One verifier for every credential we meet: JSON with Data Integrity proofs, or a compact VC-JWT.

Checks, each with a plain-language reason: format, JSON-LD soundness, every proof (a proof set holds only
if all its proofs do), key controller = issuer, an issuer the caller trusts, validity dates,
revocation/suspension through a status list fetched by the caller, and, for a CLR, each credential it bundles.

Whatever the input, one verification costs bounded work: at most MAX_PROOFS proofs and MAX_EMBEDDED bundled
credentials (refused before any JSON-LD work), the document canonicalized once for all its proofs, each
status list verified once, and one deadline (`limits.seconds`) for everything, bundled credentials included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lti_microcred.credentials.errors import CredentialError, KeyResolutionError, ProofError, VcJwtError
from lti_microcred.credentials.proofs.canonical import Deadline, Limits, canonicalize_with_report, check_size
from lti_microcred.credentials.proofs.controller_keys import KeyResolver, ResolvedKey
from lti_microcred.credentials.proofs.dataintegrity import UnsecuredForms, proofs_of, verify_proof
from lti_microcred.credentials.proofs.vcjwt import decode as decode_vc_jwt
from lti_microcred.credentials.proofs.vcjwt import issuer_id
from lti_microcred.credentials.verification.document_checks import format_check, trust_check, validity_check
from lti_microcred.credentials.verification.status_check import ListVerdict, status_check
from lti_microcred.credentials.verification.verdict import Check, CheckName, Outcome, Verdict

StatusListFetcher = Callable[[str], "dict[str, Any] | str"]
"""Returns the status list credential (JSON or VC-JWT) published at a URL; raises if it cannot."""

_JWT_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")  # compact JWS: three segments
MAX_PROOFS: Final = 4
MAX_EMBEDDED: Final = 100
VERIFY_LIMITS: Final = Limits(seconds=5.0)
"""Sizes as for canonicalization; `seconds` bounds the whole verification, not each step."""


@dataclass
class _Run:
    resolve_key: KeyResolver
    fetch_status_list: StatusListFetcher | None
    now: datetime
    limits: Limits
    deadline: Deadline
    lists: dict[str, Verdict]  # status lists already verified, shared by every part of one verification
    trusted: frozenset[str] | None = None  # issuer ids this verifier vouches for (None: no such check)
    depth: int = 0
    checks: list[Check] = field(default_factory=list)
    embedded: list[Verdict] = field(default_factory=list)

    def add(self, name: CheckName, outcome: Outcome, reason: str) -> None:
        self.checks.append(Check(name, outcome, reason))

    def inner(self) -> _Run:
        """A run for a status list or bundled credential: same deadline and lists, its own checks."""
        return replace(self, depth=self.depth + 1, checks=[], embedded=[])


def verify_credential(
    credential: dict[str, Any] | str,
    *,
    resolve_key: KeyResolver,
    fetch_status_list: StatusListFetcher | None = None,
    now: datetime | None = None,
    limits: Limits = VERIFY_LIMITS,
    trusted_issuers: Collection[str] | None = None,
) -> Verdict:
    """Verify a credential (dict, JSON text or compact VC-JWT) and say why it is or is not trustworthy;
    `limits.seconds` is one deadline for the whole verification, bundled credentials and status lists too.
    With `trusted_issuers`, a credential of any other issuer fails the "trusted issuer" check."""
    deadline = Deadline.after(
        limits.seconds, f"The verification took longer than {limits.seconds:g} s in all; the credential is refused.")
    trusted = frozenset(trusted_issuers) if trusted_issuers is not None else None
    run = _Run(resolve_key, fetch_status_list, now or datetime.now(UTC), limits, deadline, {}, trusted)
    try:
        return _verify(credential, run)
    except (RecursionError, UnicodeError):  # nesting deeper than Python parses, text no encoding can carry
        return Verdict((Check(CheckName.FORMAT, Outcome.FAILED,
                              "The credential nests its JSON too deep or holds characters no text can carry."),))


def _verify(credential: dict[str, Any] | str, run: _Run) -> Verdict:
    document = _read(credential, run)
    if document is None:
        return Verdict(tuple(run.checks))
    form = format_check(document)
    run.checks.append(form)
    if form.outcome is Outcome.PASSED:
        if run.trusted is not None:
            run.checks.append(trust_check(document, run.trusted))
        run.checks.append(validity_check(document, run.now))
        run.checks.append(_status(document, run))
        _embedded(document, run)
    order = list(CheckName)
    return Verdict(tuple(sorted(run.checks, key=lambda c: order.index(c.name))), document, tuple(run.embedded))


def _read(credential: dict[str, Any] | str, run: _Run) -> dict[str, Any] | None:
    """Parse the input and run the proof checks that depend on its securing mechanism."""
    if isinstance(credential, str):
        if len(credential) > 2 * run.limits.max_bytes:
            run.add(CheckName.FORMAT, Outcome.FAILED, "The credential is too large to verify.")
            return None
        text = credential.strip()
        if not text.startswith(("{", "[")) and _JWT_SHAPE.fullmatch(text):
            return _read_jwt(text, run)
        try:
            credential = json.loads(text)
        except ValueError:
            run.add(CheckName.FORMAT, Outcome.FAILED, "This is neither JSON nor a compact JWT.")
            return None
    if not isinstance(credential, dict):
        run.add(CheckName.FORMAT, Outcome.FAILED, "A credential must be a JSON object.")
        return None
    if not _within_caps(credential, run):
        return None
    _data_integrity(credential, run)
    return credential


def _within_caps(document: dict[str, Any], run: _Run) -> bool:
    """Refuse, before any JSON-LD work, what would multiply it: many proofs, a record bundling too much."""
    try:
        check_size(document, run.limits)
        proofs = proofs_of(document)
    except CredentialError as exc:
        run.add(CheckName.FORMAT, Outcome.FAILED, str(exc))
        return False
    if len(proofs) > MAX_PROOFS:
        run.add(CheckName.PROOF, Outcome.FAILED,
                f"The credential carries {len(proofs)} proofs; at most {MAX_PROOFS} are verified.")
        return False
    bundled = _bundled(document)
    if bundled is not None and len(bundled) > MAX_EMBEDDED:
        run.add(CheckName.EMBEDDED, Outcome.FAILED,
                f"The record bundles {len(bundled)} credentials; at most {MAX_EMBEDDED} are verified.")
        return False
    return True


def _read_jwt(token: str, run: _Run) -> dict[str, Any] | None:
    try:
        decoded = decode_vc_jwt(token, lambda kid: _resolve(kid, run))
    except VcJwtError as exc:
        run.add(CheckName.FORMAT, Outcome.FAILED, str(exc))
        return None
    except CredentialError as exc:
        run.add(CheckName.PROOF, Outcome.FAILED, str(exc))
        return None
    run.add(CheckName.PROOF, Outcome.PASSED, f"The VC-JWT signature holds ({decoded.header['alg']}).")
    _controller(decoded.credential, [decoded.key], run)
    if not _within_caps(decoded.credential, run):
        return None
    _json_ld_of_jwt(decoded.credential, run)
    return decoded.credential


def _json_ld_of_jwt(credential: dict[str, Any], run: _Run) -> None:
    try:
        problems = canonicalize_with_report(credential, limits=run.limits, deadline=run.deadline).problems
    except CredentialError as exc:
        run.add(CheckName.JSON_LD, Outcome.WARNING, f"JSON-LD could not be checked: {exc}")
        return
    if problems:
        run.add(CheckName.JSON_LD, Outcome.WARNING, "Not clean JSON-LD: " + "; ".join(problems))
    else:
        run.add(CheckName.JSON_LD, Outcome.PASSED, "Every term is defined by the credential's contexts.")


def _data_integrity(document: dict[str, Any], run: _Run) -> None:
    proofs = proofs_of(document)
    if not proofs:
        run.add(CheckName.PROOF, Outcome.FAILED, "The credential carries no proof: anyone could have written it.")
        return
    keys: list[ResolvedKey] = []
    problems: tuple[str, ...] | None = None
    forms = UnsecuredForms(document, limits=run.limits, deadline=run.deadline)
    for number, proof in enumerate(proofs, 1):
        label = f"Proof {number} of {len(proofs)}"
        if run.deadline.passed:
            run.add(CheckName.PROOF, Outcome.FAILED, f"{label}: {run.deadline.reason}")
            break
        try:
            key = _resolve(str(proof.get("verificationMethod")), run)
            if not isinstance(key.public_key, Ed25519PublicKey):
                raise ProofError(f"{key.id} is not an Ed25519 key, which eddsa-rdfc-2022 requires.")
            hashed = verify_proof(document, proof, key.public_key, now=run.now, limits=run.limits, forms=forms)
        except CredentialError as exc:
            run.add(CheckName.PROOF, Outcome.FAILED, f"{label}: {exc}")
            continue
        keys.append(key)
        problems = hashed.problems if problems is None else problems
        run.add(CheckName.PROOF, Outcome.PASSED, f"{label} holds (eddsa-rdfc-2022, key {key.id}).")
    _json_ld_of_proved(forms, problems, run)
    if keys:
        _controller(document, keys, run)


def _resolve(method_id: str, run: _Run) -> ResolvedKey:
    """The caller's resolver, any failure of it reported as an unusable key rather than a crash."""
    try:
        return run.resolve_key(method_id)
    except KeyResolutionError as exc:
        raise KeyResolutionError(f"The signing key {method_id} cannot be used: {exc}") from exc
    except Exception as exc:  # the resolver is the caller's code
        raise KeyResolutionError(f"The signing key {method_id} could not be resolved ({exc!r}).") from exc


def _json_ld_of_proved(forms: UnsecuredForms, problems: tuple[str, ...] | None, run: _Run) -> None:
    if problems is None:
        try:
            problems = forms.canonical().problems
        except CredentialError as exc:
            run.add(CheckName.JSON_LD, Outcome.FAILED, str(exc))
            return
    if problems:
        run.add(
            CheckName.JSON_LD,
            Outcome.FAILED,
            "Part of the credential is not covered by its signature: " + "; ".join(problems),
        )
    else:
        run.add(
            CheckName.JSON_LD,
            Outcome.PASSED,
            "Every term is defined, so the signature covers everything shown.",
        )


def _controller(document: dict[str, Any], keys: list[ResolvedKey], run: _Run) -> None:
    issuer = issuer_id(document)
    strangers = [k for k in keys if k.controller != issuer]
    if strangers:
        run.add(
            CheckName.ISSUER,
            Outcome.FAILED,
            f"The credential says it was issued by {issuer}, "
            f"but it was signed with a key of {strangers[0].controller}.",
        )
    else:
        run.add(CheckName.ISSUER, Outcome.PASSED, f"Signed with a key controlled by the issuer {issuer}.")


def _bundled(document: dict[str, Any]) -> list[Any] | None:
    """The credentials a CLR bundles (None for anything else)."""
    subject = document.get("credentialSubject")
    inner = subject.get("verifiableCredential") if isinstance(subject, dict) else None
    types = document.get("type")
    return inner if isinstance(types, list) and "ClrCredential" in types and isinstance(inner, list) else None


def _embedded(document: dict[str, Any], run: _Run) -> None:
    """A CLR is only as good as the credentials it bundles: verify each one too, once the record holds."""
    inner = _bundled(document)
    if inner is None or run.depth:
        return
    if any(c.outcome is Outcome.FAILED for c in run.checks):
        run.add(CheckName.EMBEDDED, Outcome.SKIPPED,
                "The bundled credentials were not checked: the record itself does not verify.")
        return
    failures = []
    for credential in inner:
        if run.deadline.passed:
            failures.append(run.deadline.reason)
            break
        verdict = _verify(credential, run.inner())
        run.embedded.append(verdict)
        if not verdict.verified:
            name = credential.get("id") if isinstance(credential, dict) else "?"
            failures.append(f"{name}: {verdict.summary()}")
    if failures:
        run.add(CheckName.EMBEDDED, Outcome.FAILED, "A bundled credential does not verify: " + "; ".join(failures))
    else:
        run.add(CheckName.EMBEDDED, Outcome.PASSED, f"All {len(inner)} bundled credentials verify.")


def _status(document: dict[str, Any], run: _Run) -> Check:
    if run.deadline.passed:
        return Check(CheckName.STATUS, Outcome.FAILED, run.deadline.reason)
    return status_check(document, _list_verdict(run) if run.fetch_status_list else None)


def _list_verdict(run: _Run) -> ListVerdict:
    """Each status list verified once per verification (a CLR's credentials share a few lists)."""
    fetch = run.fetch_status_list
    assert fetch is not None

    def verdict(url: str) -> Verdict:
        if url not in run.lists:
            run.lists[url] = _verify(fetch(url), replace(run.inner(), fetch_status_list=None))
        return run.lists[url]

    return verdict
