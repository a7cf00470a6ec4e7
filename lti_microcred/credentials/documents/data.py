"""Plain data the credential builders read: no ORM, so any caller (domain, CLI, tests) can fill them in."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Address:
    """Where an organisation is (Annex I: the issuer's country/region)."""

    country: str | None = None
    country_code: str | None = None  # ISO 3166-1 alpha-2
    region: str | None = None
    locality: str | None = None
    street_address: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True)
class IssuerProfile:
    """An OB 3.0 Profile: the issuer, or an awarding body named separately."""

    id: str
    name: str
    url: str | None = None
    email: str | None = None
    description: str | None = None
    image: str | None = None  # URL or data: URI
    address: Address | None = None


@dataclass(frozen=True)
class Alignment:
    """A link from an achievement to a framework item (e.g. a CASE CFItem)."""

    target_name: str
    target_url: str
    target_type: str | None = None  # e.g. "CFItem", "ext:SkillsFramework"
    target_code: str | None = None
    target_description: str | None = None
    target_framework: str | None = None


@dataclass(frozen=True)
class ResultDescription:
    """A kind of result an achievement can carry (a grade scale, a pass/fail status)."""

    id: str
    name: str
    result_type: str  # e.g. "LetterGrade", "Percent", "Status"
    allowed_values: tuple[str, ...] = ()
    required_value: str | None = None
    value_min: str | None = None
    value_max: str | None = None


@dataclass(frozen=True)
class EuMicrocredentialInfo:
    """EU Council Recommendation (2022) Annex I elements that Open Badges 3.0 has no term for."""

    ects_credits: float | int | None = None
    notional_workload_hours: float | int | None = None
    eqf_level: int | None = None
    qualification_framework: str | None = None  # e.g. "FHEQ", "RQF", "SCQF"
    qualification_framework_level: str | None = None
    assessment_type: str | None = None
    participation_form: str | None = None  # online / onsite / blended / work-based ...
    quality_assurance_type: str | None = None
    awarding_body: IssuerProfile | None = None
    awarding_country: str | None = None  # ISO 3166-1 alpha-2
    prerequisites: tuple[str, ...] = ()
    integration_stackability: str | None = None
    stacks_into: tuple[str, ...] = ()  # ids of achievements this one counts towards
    supervision_and_identity_verification: str | None = None


@dataclass(frozen=True)
class Achievement:
    """What was achieved: an OB 3.0 Achievement (a micro-credential or a competency)."""

    id: str
    name: str
    description: str
    criteria_narrative: str | None = None
    criteria_id: str | None = None
    achievement_type: str = "MicroCredential"
    learning_outcomes: tuple[str, ...] = ()
    alignments: tuple[Alignment, ...] = ()
    result_descriptions: tuple[ResultDescription, ...] = ()
    image: str | None = None
    credits_available: float | int | None = None
    field_of_study: str | None = None
    human_code: str | None = None
    tags: tuple[str, ...] = ()
    eu: EuMicrocredentialInfo | None = None


@dataclass(frozen=True)
class HashedIdentity:
    """An OB 3.0 IdentityObject: a salted hash of, typically, the learner's email address."""

    identity_hash: str  # "sha256$<hex>"
    salt: str
    identity_type: str = "emailAddress"

    @classmethod
    def of(cls, identity: str, salt: str | None = None, identity_type: str = "emailAddress") -> HashedIdentity:
        """Hash an identity (emails are compared lower-cased) with a fresh salt unless one is given."""
        salt = salt if salt is not None else secrets.token_hex(16)
        value = identity.strip().lower() if identity_type == "emailAddress" else identity
        digest = hashlib.sha256((value + salt).encode("utf-8")).hexdigest()
        return cls(identity_hash=f"sha256${digest}", salt=salt, identity_type=identity_type)

    def matches(self, identity: str) -> bool:
        """Whether a claimed identity is the hashed one (for a verifier who knows the email)."""
        return HashedIdentity.of(identity, self.salt, self.identity_type).identity_hash == self.identity_hash


@dataclass(frozen=True)
class Result:
    """A result the learner got, against one of the achievement's result descriptions."""

    result_description: str | None = None  # a ResultDescription id
    value: str | None = None
    status: str | None = None  # e.g. "Completed"
    achieved_level: str | None = None


@dataclass(frozen=True)
class Evidence:
    """Something that shows the learner met the criteria."""

    name: str | None = None
    narrative: str | None = None
    id: str | None = None
    description: str | None = None
    genre: str | None = None


@dataclass(frozen=True)
class StatusEntry:
    """A slot in a BitstringStatusList that can revoke or suspend this credential."""

    list_credential: str
    index: int
    purpose: str = "revocation"  # or "suspension"


@dataclass(frozen=True)
class Award:
    """One learner's award of one achievement: what varies per credential."""

    credential_id: str
    awarded: datetime
    valid_from: datetime
    subject_id: str | None = None  # a DID or URL for the learner
    identity: HashedIdentity | None = None
    valid_until: datetime | None = None
    name: str | None = None  # defaults to the achievement's name
    results: tuple[Result, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    status: tuple[StatusEntry, ...] = field(default=())
    credits_earned: float | int | None = None
