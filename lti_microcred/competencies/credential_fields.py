"""The form of a micro-credential (EU Annex I fields): its checks and columns, apart from the verbs that save it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lti_microcred.competencies.errors import DomainError
from lti_microcred.competencies.models import MicroCredential

PARTICIPATION_FORMS = {
    "online": "Online", "onsite": "On-site", "blended": "Blended (online and on-site)",
    "work_based": "Work-based learning", "volunteering": "Volunteering",
}
REQUIRED_TEXTS = {"assessment_type": "the type of assessment", "quality_assurance": "the type of quality assurance",
                  "awarding_body": "the awarding body"}
PATHWAY_RULES = {"all": "All of the components", "k_of_n": "A number of the components",
                 "credits": "A total of ECTS credits"}


class DefinitionError(DomainError):
    """A micro-credential definition that cannot be saved, naming every field at fault."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = dict(problems)


@dataclass
class CredentialFields:
    """The form of a micro-credential, as strings from a form or values from code."""

    title: str = ""
    description: str = ""
    learning_outcomes: list[str] = field(default_factory=list)
    workload_hours: float | None = None
    ects_credits: float | None = None
    eqf_level: int | None = None
    national_level: str = ""
    assessment_type: str = ""
    participation_form: str = "online"
    quality_assurance: str = ""
    awarding_body: str = ""
    country: str = ""
    prerequisites: str = ""
    supervision: str = ""
    validity_months: int | None = None
    stackable: bool = False
    gradebook_column: bool = True  # awards go to a credential column of the LMS gradebook
    kind: str = "standard"
    pathway_rule: str | None = None
    pathway_k: int | None = None
    pathway_credits: float | None = None

    def problems(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if not 1 <= len(self.title.strip()) <= 200:
            found["title"] = "Give a title of 1 to 200 characters."
        if not [o for o in self.learning_outcomes if o.strip()]:
            found["learning_outcomes"] = "State at least one learning outcome."
        if len(self.learning_outcomes) > 50 or any(len(o) > 1000 for o in self.learning_outcomes):
            found["learning_outcomes"] = "At most 50 outcomes of 1,000 characters each."
        if self.workload_hours is not None and not 0 < self.workload_hours <= 10_000:
            found["workload_hours"] = "Notional workload is between 0 and 10,000 hours."
        if self.ects_credits is not None and not 0 < self.ects_credits <= 180:
            found["ects_credits"] = "ECTS credits are between 0 and 180."
        if self.workload_hours is None and self.ects_credits is None:
            found["workload_hours"] = "Give the workload in hours, in ECTS credits, or both."
        if self.eqf_level is not None and not 1 <= self.eqf_level <= 8:
            found["eqf_level"] = "The EQF level is 1 to 8."
        if self.participation_form not in PARTICIPATION_FORMS:
            found["participation_form"] = "Choose a form of participation."
        for name, what in REQUIRED_TEXTS.items():
            if not getattr(self, name).strip():
                found[name] = f"Give {what}."  # each is required by the EU definition (Annex I)
        if len(self.country) != 2 or not self.country.isalpha():
            found["country"] = "Give the awarding country as a two-letter code (e.g. IE, DE, GB)."
        if self.validity_months is not None and not 1 <= self.validity_months <= 600:
            found["validity_months"] = "Validity is 1 to 600 months, or empty for no expiry."
        if self.kind == "pathway":
            found.update(self._pathway_problems())
        return found

    def _pathway_problems(self) -> dict[str, str]:
        if self.pathway_rule not in PATHWAY_RULES:
            return {"pathway_rule": "Choose how the pathway is earned."}
        if self.pathway_rule == "k_of_n" and not (self.pathway_k and self.pathway_k >= 1):
            return {"pathway_k": "Say how many components are needed."}
        if self.pathway_rule == "credits" and not (self.pathway_credits and self.pathway_credits > 0):
            return {"pathway_credits": "Say how many ECTS credits are needed."}
        return {}

    def columns(self) -> dict[str, Any]:
        return {
            "title": self.title.strip(), "description": self.description.strip()[:20_000],
            "learning_outcomes": json.dumps([o.strip() for o in self.learning_outcomes if o.strip()]),
            "workload_hours": self.workload_hours, "ects_credits": self.ects_credits, "eqf_level": self.eqf_level,
            "national_level": self.national_level.strip()[:100] or None,
            "assessment_type": self.assessment_type.strip()[:200],
            "participation_form": self.participation_form, "quality_assurance": self.quality_assurance.strip()[:300],
            "awarding_body": self.awarding_body.strip()[:200], "country": self.country.strip().upper(),
            "prerequisites": self.prerequisites.strip()[:5000], "supervision": self.supervision.strip()[:5000],
            "validity_months": self.validity_months, "stackable": self.stackable, "kind": self.kind,
            "gradebook_column": self.gradebook_column,
            "pathway_rule": self.pathway_rule if self.kind == "pathway" else None,
            "pathway_k": self.pathway_k if self.kind == "pathway" else None,
            "pathway_credits": self.pathway_credits if self.kind == "pathway" else None,
        }

    @classmethod
    def of(cls, credential: MicroCredential) -> CredentialFields:
        names = [f for f in cls.__dataclass_fields__ if f != "learning_outcomes"]
        values = {n: getattr(credential, n) for n in names}
        values = {k: ("" if v is None and isinstance(getattr(cls(), k), str) else v) for k, v in values.items()}
        return cls(learning_outcomes=json.loads(credential.learning_outcomes), **values)
