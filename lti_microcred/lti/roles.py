"""LTI role URIs -> the one role the tool acts on.

Context (membership) roles win: Canvas sends institution roles such as Administrator or Instructor for a
person who is only a Learner in this course. Institution and system roles count only when a launch has no
context role at all (account-level launches).
Spec: https://www.imsglobal.org/spec/lti/v1p3/#role-vocabularies
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Role = Literal["instructor", "assessor", "learner", "observer", "admin", "guest"]
INSTRUCTOR: Role = "instructor"
ASSESSOR: Role = "assessor"
LEARNER: Role = "learner"
OBSERVER: Role = "observer"
ADMIN: Role = "admin"
GUEST: Role = "guest"

STAFF_ROLES = frozenset({INSTRUCTOR, ASSESSOR, ADMIN})
ROLE_LABELS: dict[str, str] = {
    INSTRUCTOR: "Instructor",
    ASSESSOR: "Assessor",
    LEARNER: "Learner",
    OBSERVER: "Observer",
    ADMIN: "Administrator",
    GUEST: "Guest",
}

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
CONTEXT, INSTITUTION, SYSTEM = "membership", "institution", "system"


def parse_role(uri: str) -> tuple[str, str, str | None]:
    """(kind, principal, sub_role) of a role URI; simple names count as context roles."""
    if not uri.startswith(LIS):
        return CONTEXT, uri.rsplit("#", 1)[-1], None
    rest = uri[len(LIS):]
    if rest.startswith("membership/"):  # .../membership/Instructor#TeachingAssistant
        principal, _, sub = rest[len("membership/"):].partition("#")
        return CONTEXT, principal, sub or None
    if rest.startswith("membership#"):
        return CONTEXT, rest[len("membership#"):], None
    if rest.startswith("institution/person#"):
        return INSTITUTION, rest.split("#", 1)[1], None
    if rest.startswith("system/person#"):
        return SYSTEM, rest.split("#", 1)[1], None
    return CONTEXT, rest.rsplit("#", 1)[-1], None


def map_roles(lti_roles: Iterable[str]) -> Role:
    parsed = [parse_role(r) for r in lti_roles if isinstance(r, str)]
    context = [(p, s) for kind, p, s in parsed if kind == CONTEXT]
    if context:
        return _context_role(context)
    names = {p for kind, p, _ in parsed}
    if names & {"Administrator", "SysAdmin"}:
        return ADMIN
    if names & {"Instructor", "Faculty"}:
        return INSTRUCTOR
    if names & {"Student", "Learner"}:
        return LEARNER
    if "Mentor" in names:
        return OBSERVER
    return GUEST


def _context_role(roles: list[tuple[str, str | None]]) -> Role:
    principals = {p for p, _ in roles}
    subs = {s for _, s in roles if s}
    if principals & {"Administrator", "ContentDeveloper"}:
        return INSTRUCTOR
    if subs & {"TeachingAssistant", "Grader", "TeachingAssistantSection", "TeachingAssistantOffering"}:
        return ASSESSOR
    if "TeachingAssistant" in principals:
        return ASSESSOR
    if "Instructor" in principals:
        return INSTRUCTOR
    if "Learner" in principals or "Member" in principals:
        return LEARNER
    if "Mentor" in principals:
        return OBSERVER
    return GUEST
