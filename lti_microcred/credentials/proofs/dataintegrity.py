"""Data Integrity proofs with the eddsa-rdfc-2022 cryptosuite (W3C vc-di-eddsa 1.0, section 3.3).

hashData = SHA-256(RDFC-1.0(proof config, with the document's @context)) || SHA-256(RDFC-1.0(document));
the Ed25519 signature over it is the base58btc multibase proofValue.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lti_microcred.credentials.documents.dates import format_datetime, parse_datetime
from lti_microcred.credentials.errors import CredentialError, ProofError, UndefinedTermError
from lti_microcred.credentials.proofs.canonical import (
    DEFAULT_LIMITS,
    Canonical,
    Deadline,
    Limits,
    canonicalize_with_report,
)
from lti_microcred.credentials.proofs.jsonld_values import as_list, without_proof
from lti_microcred.credentials.proofs.multikey import from_multibase_base58btc, multibase_base58btc

PROOF_TYPE: Final = "DataIntegrityProof"
CRYPTOSUITE: Final = "eddsa-rdfc-2022"
ASSERTION_METHOD: Final = "assertionMethod"


@dataclass(frozen=True)
class Ed25519Signer:
    """An Ed25519 private key and the verification method id that publishes its public half."""

    verification_method: str
    private_key: Ed25519PrivateKey


@dataclass(frozen=True)
class HashData:
    """The canonical forms a proof covers, and what JSON-LD processing lost on the way."""

    canonical_document: str
    canonical_proof_config: str
    problems: tuple[str, ...] = ()

    @property
    def document_hash(self) -> bytes:
        """SHA-256 of the canonical document."""
        return hashlib.sha256(self.canonical_document.encode("utf-8")).digest()

    @property
    def proof_config_hash(self) -> bytes:
        """SHA-256 of the canonical proof configuration."""
        return hashlib.sha256(self.canonical_proof_config.encode("utf-8")).digest()

    @property
    def data(self) -> bytes:
        """What is signed: proof-config hash then document hash."""
        return self.proof_config_hash + self.document_hash


def proofs_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's proofs as a list (a proof set may be one object or an array)."""
    proof = document.get("proof")
    items = as_list(proof)
    if not all(isinstance(item, dict) for item in items):
        raise ProofError("Every proof must be a JSON object.")
    return items


def hash_data(unsecured: dict[str, Any], proof_options: dict[str, Any], *, limits: Limits = DEFAULT_LIMITS,
              deadline: Deadline | None = None, document: Canonical | None = None) -> HashData:
    """Canonicalize document and proof configuration, the shared core of creating and verifying; a caller
    that already holds the document's canonical form passes it."""
    config = {k: v for k, v in proof_options.items() if k != "proofValue"}
    config["@context"] = unsecured.get("@context")
    if document is None:
        document = canonicalize_with_report(unsecured, limits=limits, deadline=deadline)
    proof_nquads, proof_problems = _canonical_config(json.dumps(config, sort_keys=True), limits, deadline)
    return HashData(document.nquads, proof_nquads, document.problems + proof_problems)


_CONFIGS_KEPT = 256
_configs: dict[tuple[str, Limits], tuple[str, tuple[str, ...]]] = {}


def _canonical_config(config_json: str, limits: Limits, deadline: Deadline | None) -> tuple[str, tuple[str, ...]]:
    """Proof configurations repeat (same key, purpose, context; `created` to the second): canonicalize once.
    A plain dict, emptied when full: each step is atomic, and a miss is canonicalized under the caller's deadline."""
    key = (config_json, limits)
    cached = _configs.get(key)
    if cached is None:
        result = canonicalize_with_report(json.loads(config_json), limits=limits, deadline=deadline)
        cached = (result.nquads, result.problems)
        if len(_configs) >= _CONFIGS_KEPT:
            _configs.clear()
        _configs[key] = cached
    return cached


class UnsecuredForms:
    """The document without its proofs, canonicalized once per @context its proofs sign (one, normally), so
    a proof set costs one document canonicalization, not one per proof."""

    def __init__(self, document: dict[str, Any], *, limits: Limits = DEFAULT_LIMITS,
                 deadline: Deadline | None = None) -> None:
        self._unsecured = without_proof(document)
        self.limits, self.deadline = limits, deadline
        self._canonical: dict[str, Canonical | CredentialError] = {}

    def for_proof(self, proof: dict[str, Any]) -> tuple[dict[str, Any], Canonical]:
        """The document as this proof signed it, and its canonical form."""
        unsecured = _unsecured_for(self._unsecured, proof)
        return unsecured, self._canonical_of(unsecured)

    def canonical(self) -> Canonical:
        """The document's canonical form under its own @context (what JSON-LD processing kept of it)."""
        return self._canonical_of(self._unsecured)

    def _canonical_of(self, unsecured: dict[str, Any]) -> Canonical:
        key = json.dumps(unsecured.get("@context"), sort_keys=True)
        if key not in self._canonical:
            try:
                self._canonical[key] = canonicalize_with_report(unsecured, limits=self.limits, deadline=self.deadline)
            except CredentialError as exc:  # refused once, refused for every proof: never worked through twice
                self._canonical[key] = exc
        found = self._canonical[key]
        if isinstance(found, CredentialError):
            raise found
        return found


def create_proof(
    document: dict[str, Any],
    signer: Ed25519Signer,
    *,
    created: datetime | None = None,
    purpose: str = ASSERTION_METHOD,
    limits: Limits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """A new proof over the document (any existing proofs excluded: proof-set semantics)."""
    options = {
        "type": PROOF_TYPE,
        "created": format_datetime(created or datetime.now(UTC)),
        "verificationMethod": signer.verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": purpose,
    }
    hashed = hash_data(without_proof(document), options, limits=limits)
    if hashed.problems:
        raise UndefinedTermError(hashed.problems)
    return {**options, "proofValue": multibase_base58btc(signer.private_key.sign(hashed.data))}


def sign(document: dict[str, Any], signer: Ed25519Signer, **options: Any) -> dict[str, Any]:
    """A copy of the document carrying a new proof (added to its proof set if it already has one)."""
    proof = create_proof(document, signer, **options)
    signed = copy.deepcopy(document)
    existing = proofs_of(document)
    signed["proof"] = [*existing, proof] if existing else proof
    return signed


def verify_proof(
    document: dict[str, Any],
    proof: dict[str, Any],
    public_key: Ed25519PublicKey,
    *,
    purpose: str = ASSERTION_METHOD,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
    forms: UnsecuredForms | None = None,
) -> HashData:
    """Check one proof of the document; ProofError with a plain reason when it does not hold. The proofs of
    one proof set share `forms`, so the document is canonicalized once for all of them."""
    signature = _check_proof_options(proof, purpose, now or datetime.now(UTC))
    forms = forms or UnsecuredForms(document, limits=limits)
    unsecured, canonical = forms.for_proof(proof)
    hashed = hash_data(unsecured, proof, limits=limits, deadline=forms.deadline, document=canonical)
    try:
        public_key.verify(signature, hashed.data)
    except InvalidSignature as exc:
        raise ProofError(
            "The signature does not match: the credential was changed after signing, "
            "or it was signed with a different key."
        ) from exc
    return hashed


def _check_proof_options(proof: dict[str, Any], purpose: str, now: datetime) -> bytes:
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(
            f"Unsupported proof {proof.get('type')!r}/{proof.get('cryptosuite')!r}; "
            f"only {PROOF_TYPE} with {CRYPTOSUITE} is accepted."
        )
    if proof.get("proofPurpose") != purpose:
        raise ProofError(f"The proof is for {proof.get('proofPurpose')!r}, not {purpose!r}.")
    for field in ("created", "expires"):
        if field in proof and parse_datetime(proof[field]) is None:
            raise ProofError(f"The proof's {field} {proof[field]!r} is not a valid date-time.")
    expires = parse_datetime(proof["expires"]) if "expires" in proof else None
    if expires is not None and expires < now:
        raise ProofError(f"The proof expired on {proof['expires']}.")
    try:
        signature = from_multibase_base58btc(proof.get("proofValue", ""))
    except ValueError as exc:
        raise ProofError(f"proofValue is not base58btc multibase: {exc}") from exc
    if len(signature) != 64:
        raise ProofError("proofValue is not a 64-byte Ed25519 signature.")
    return signature


def _unsecured_for(unsecured: dict[str, Any], proof: dict[str, Any]) -> dict[str, Any]:
    """The document as this proof signed it (a proof set member signs the document without any proof)."""
    if "previousProof" in proof:
        raise ProofError("Proof chains (previousProof) are not supported; only independent proof sets are.")
    if "@context" not in proof:
        return unsecured
    expected = as_list(proof["@context"])
    if as_list(unsecured.get("@context"))[: len(expected)] != expected:
        raise ProofError("The proof's @context is not a prefix of the document's @context.")
    return {**unsecured, "@context": proof["@context"]}
