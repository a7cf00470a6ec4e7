"""A micro-credential as an OB Achievement, built from the database (EU fields, criteria, alignments) and cached."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import (
    Competency,
    Framework,
    MicroCredential,
    PathwayComponent,
    Requirement,
)
from lti_microcred.credentials.documents import data as m
from lti_microcred.credentials.issuing.issuer_state import IssuerState
from lti_microcred.credentials.issuing.urls import Urls

PARTICIPATION_LABELS = {"online": "Online", "onsite": "On-site", "blended": "Blended",
                        "work_based": "Work-based learning", "volunteering": "Volunteering"}

_ACHIEVEMENTS: dict[tuple[Any, ...], m.Achievement] = {}


def achievement(session: Session, issuer: IssuerState, urls: Urls, credential: MicroCredential) -> m.Achievement:
    """The micro-credential as an OB Achievement; the same for every learner, so kept per process until the
    micro-credential (or the issuer's profile) changes."""
    key = (credential.id, credential.updated_dt, issuer.profile, urls.base_url)
    cached = _ACHIEVEMENTS.get(key)
    if cached is None:
        if len(_ACHIEVEMENTS) > 1000:
            _ACHIEVEMENTS.clear()
        cached = _ACHIEVEMENTS[key] = _achievement(session, issuer, urls, credential)
    return cached


def _achievement(session: Session, issuer: IssuerState, urls: Urls, credential: MicroCredential) -> m.Achievement:
    outcomes = tuple(json.loads(credential.learning_outcomes))
    awarding_body = issuer.profile if not credential.awarding_body or credential.awarding_body == issuer.profile.name \
        else m.IssuerProfile(id=urls.achievement(credential.key) + "#awarding-body", name=credential.awarding_body)
    national = (credential.national_level or "").split(" ", 1)
    eu = m.EuMicrocredentialInfo(
        ects_credits=credential.ects_credits, notional_workload_hours=credential.workload_hours,
        eqf_level=credential.eqf_level,
        qualification_framework=national[0] if len(national) == 2 else None,
        qualification_framework_level=national[1] if len(national) == 2 else (credential.national_level or None),
        assessment_type=credential.assessment_type or None,
        participation_form=PARTICIPATION_LABELS.get(credential.participation_form, credential.participation_form),
        quality_assurance_type=credential.quality_assurance or None, awarding_body=awarding_body,
        awarding_country=credential.country or None,
        prerequisites=(credential.prerequisites,) if credential.prerequisites else (),
        integration_stackability="Stackable into larger awards" if credential.stackable else None,
        stacks_into=tuple(urls.achievement(k) for k in _pathways_of(session, credential.id)),
        supervision_and_identity_verification=credential.supervision or None,
    )
    return m.Achievement(
        id=urls.achievement(credential.key), name=credential.title,
        description=credential.description or credential.title,
        criteria_narrative=_criteria(session, credential), achievement_type="MicroCredential",
        learning_outcomes=outcomes, alignments=_alignments(session, credential.id),
        result_descriptions=(m.ResultDescription(id=urls.achievement(credential.key) + "#result", name="Outcome",
                                                 result_type="Status"),),
        credits_available=credential.ects_credits, eu=eu, image=urls.badge_image(credential.key),
    )


def _criteria(session: Session, credential: MicroCredential) -> str:
    if credential.kind == "pathway":
        if credential.pathway_rule == "k_of_n":
            return f"Earn {credential.pathway_k} of the component micro-credentials."
        if credential.pathway_rule == "credits":
            return f"Earn component micro-credentials worth {credential.pathway_credits or 0:g} ECTS credits."
        return "Earn every component micro-credential."
    names = session.scalars(select(Competency.short_name).join(
        Requirement, Requirement.competency_id == Competency.id)
        .where(Requirement.micro_credential_id == credential.id).distinct().order_by(Competency.short_name)).all()
    return "Assessed evidence of each competency: " + "; ".join(names) + "." if names else credential.title


def _alignments(session: Session, credential_id: int) -> tuple[m.Alignment, ...]:
    rows = session.execute(
        select(Competency.short_name, Competency.uri, Competency.code, Competency.description, Framework.title,
               Framework.source, Competency.identifier).distinct()
        .join(Requirement, Requirement.competency_id == Competency.id)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Requirement.micro_credential_id == credential_id).order_by(Competency.short_name)
    ).all()
    return tuple(
        m.Alignment(target_name=r.short_name, target_url=r.uri or f"urn:lti-microcred:competency:{r.identifier}",
                    target_type="CFItem" if r.source == "case" else "ceasn:Competency", target_code=r.code,
                    target_description=(r.description or None) and r.description[:1000], target_framework=r.title)
        for r in rows
    )


def _pathways_of(session: Session, credential_id: int) -> list[str]:
    return list(session.scalars(select(MicroCredential.key).join(
        PathwayComponent, PathwayComponent.pathway_id == MicroCredential.id)
        .where(PathwayComponent.component_id == credential_id).order_by(MicroCredential.key)))
