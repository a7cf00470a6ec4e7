"""CLR 2.0 ClrCredential: several signed credentials for one learner, with how their achievements stack."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from lti_microcred.credentials.contexts import CLR_V2P0, OB_V3P0, VC_V2, extension_context_url
from lti_microcred.credentials.documents.data import HashedIdentity, IssuerProfile
from lti_microcred.credentials.documents.dates import format_datetime
from lti_microcred.credentials.documents.openbadge import identity_json, profile_json, pruned
from lti_microcred.credentials.errors import CredentialError

CLR_CONTEXTS: Final = (VC_V2, CLR_V2P0, OB_V3P0)
ASSOCIATION_TYPES: Final = frozenset(
    {
        "exactMatchOf",
        "isChildOf",
        "isParentOf",
        "isPartOf",
        "isPeerOf",
        "isRelatedTo",
        "precedes",
        "replacedBy",
    }
)


@dataclass(frozen=True)
class Association:
    """A relation between two achievement ids (e.g. a micro-credential isParentOf its competencies)."""

    association_type: str
    source_id: str
    target_id: str


def stacking(parent_id: str, child_ids: Iterable[str]) -> tuple[Association, ...]:
    """isParentOf / isChildOf pairs saying the children stack into the parent."""
    pairs: list[Association] = []
    for child in child_ids:
        pairs.append(Association("isParentOf", parent_id, child))
        pairs.append(Association("isChildOf", child, parent_id))
    return tuple(pairs)


def build_clr_credential(
    *,
    credential_id: str,
    issuer: IssuerProfile,
    name: str,
    credentials: Sequence[dict[str, Any]],
    valid_from: datetime,
    subject_id: str | None = None,
    identity: HashedIdentity | None = None,
    associations: Sequence[Association] = (),
    valid_until: datetime | None = None,
    partial: bool | None = None,
    extension_context: str | None = None,
) -> dict[str, Any]:
    """An unsigned ClrCredential bundling signed credentials (each keeps its own proof)."""
    _check_subject_and_associations(subject_id, identity, associations)
    subject = _clr_subject(subject_id, identity, credentials, associations)
    return pruned(
        {
            "@context": [*CLR_CONTEXTS, extension_context or extension_context_url()],
            "id": credential_id,
            "type": ["VerifiableCredential", "ClrCredential"],
            "name": name,
            "issuer": profile_json(issuer),
            "validFrom": format_datetime(valid_from),
            "validUntil": format_datetime(valid_until) if valid_until else None,
            "partial": partial,
            "credentialSubject": subject,
        }
    )


def _check_subject_and_associations(
    subject_id: str | None, identity: HashedIdentity | None, associations: Sequence[Association]
) -> None:
    """Refuse a CLR naming no learner, or relating achievements by an associationType CLR 2.0 does not know."""
    if subject_id is None and identity is None:
        raise CredentialError("A CLR needs the learner's id (DID or URL) or a hashed identity.")
    for association in associations:
        if association.association_type not in ASSOCIATION_TYPES:
            raise CredentialError(f"Unknown CLR associationType {association.association_type!r}.")


def _clr_subject(
    subject_id: str | None,
    identity: HashedIdentity | None,
    credentials: Sequence[dict[str, Any]],
    associations: Sequence[Association],
) -> dict[str, Any]:
    """The ClrSubject: the learner, the bundled credentials, their achievements and how those relate."""
    return pruned(
        {
            "id": subject_id,
            "type": ["ClrSubject"],
            "identifier": [identity_json(identity)] if identity else None,
            "verifiableCredential": list(credentials),
            "achievement": _achievements(credentials),
            "association": [_association_json(a) for a in associations],
        }
    )


def _achievements(credentials: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each distinct achievement of the bundled credentials, once."""
    seen: dict[str, dict[str, Any]] = {}
    for credential in credentials:
        subject = credential.get("credentialSubject")
        achievement = subject.get("achievement") if isinstance(subject, dict) else None
        if isinstance(achievement, dict) and isinstance(achievement.get("id"), str):
            seen.setdefault(achievement["id"], achievement)
    return list(seen.values())


def _association_json(association: Association) -> dict[str, Any]:
    return {
        "type": "Association",
        "associationType": association.association_type,
        "sourceId": association.source_id,
        "targetId": association.target_id,
    }
