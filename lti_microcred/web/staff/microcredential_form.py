"""The micro-credential form: its fields (EU Annex I), parsed from strings, with a message per field at fault."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lti_microcred.competencies.credential_fields import CredentialFields
from lti_microcred.competencies.models import MicroCredential
from lti_microcred.web.common.views_support import decimal, whole

TEXTS = ("title", "description", "national_level", "assessment_type", "quality_assurance", "awarding_body",
         "country", "prerequisites", "supervision", "participation_form")
DECIMALS = ("workload_hours", "ects_credits", "pathway_credits")
WHOLES = ("eqf_level", "validity_months", "pathway_k")
NUMBER_NAMES = {"workload_hours": "the workload in hours", "ects_credits": "the ECTS credits",
                "pathway_credits": "the ECTS credits needed", "eqf_level": "the EQF level",
                "validity_months": "the validity in months", "pathway_k": "the number of components needed"}
LIMITS = {"description": 20_000, "prerequisites": 5000, "supervision": 5000}


@dataclass(frozen=True)
class ParsedForm:
    fields: CredentialFields
    problems: dict[str, str]
    values: dict[str, str]  # what the person typed, to show again


def parse(form: Mapping[str, str], kind: str) -> ParsedForm:
    """Strings -> CredentialFields; numbers that do not parse are reported like the domain's problems."""
    values = {name: str(form.get(name, ""))[:LIMITS.get(name, 1000)] for name in (*TEXTS, *DECIMALS, *WHOLES)}
    values.update(learning_outcomes=str(form.get("learning_outcomes", ""))[:60_000],
                  stackable="yes" if form.get("stackable") == "yes" else "", kind=kind,
                  pathway_rule=str(form.get("pathway_rule", ""))[:16],
                  # a form without the box (one from before it existed) keeps the default: a column
                  gradebook_column="yes" if form.get("gradebook_column") == "yes"
                  or "gradebook_column_shown" not in form else "")
    problems: dict[str, str] = {}
    numbers: dict[str, float | int | None] = {}
    for name in (*DECIMALS, *WHOLES):
        try:
            numbers[name] = whole(values[name]) if name in WHOLES else decimal(values[name])
        except ValueError:
            numbers[name] = None
            kind = "whole number" if name in WHOLES else "number, e.g. 2.5"
            problems[name] = f"Give {NUMBER_NAMES[name]} as a {kind}."
    outcomes = [line.strip() for line in values["learning_outcomes"].splitlines() if line.strip()]
    arguments: dict[str, Any] = {**{name: values[name] for name in TEXTS}, **numbers}
    fields = CredentialFields(**arguments, learning_outcomes=outcomes, stackable=bool(values["stackable"]), kind=kind,
                              pathway_rule=values["pathway_rule"] or None,
                              gradebook_column=bool(values["gradebook_column"]))
    return ParsedForm(fields, {**fields.problems(), **problems}, values)


def values_of(credential: MicroCredential | None) -> dict[str, str]:
    """The form's strings for an existing credential, or the defaults for a new one."""
    fields = CredentialFields.of(credential) if credential else CredentialFields()
    values = {name: _as_text(getattr(fields, name)) for name in (*TEXTS, *DECIMALS, *WHOLES)}
    outcomes = json.loads(credential.learning_outcomes) if credential else []
    values.update(learning_outcomes="\n".join(outcomes), stackable="yes" if fields.stackable else "",
                  kind=fields.kind, pathway_rule=fields.pathway_rule or "",
                  gradebook_column="yes" if fields.gradebook_column else "")
    return values


def _as_text(value: object) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)
