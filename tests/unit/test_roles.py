"""LTI roles to the tool's roles; context roles win over institution roles."""

from __future__ import annotations

import pytest

from lti_microcred.lti.roles import map_roles

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize("roles, expected", [
    ([LIS + "membership#Learner"], "learner"),
    ([LIS + "membership#Instructor"], "instructor"),
    ([LIS + "membership#Instructor", LIS + "membership/Instructor#TeachingAssistant"], "assessor"),
    ([LIS + "membership#TeachingAssistant"], "assessor"),
    ([LIS + "membership#ContentDeveloper"], "instructor"),
    ([LIS + "membership#Administrator"], "instructor"),
    ([LIS + "membership#Mentor"], "observer"),
    # Canvas: an account admin enrolled as a student is a learner here.
    ([LIS + "institution/person#Administrator", LIS + "institution/person#Instructor",
      LIS + "membership#Learner", LIS + "system/person#User"], "learner"),
    # Moodle: a site admin teaching the course.
    ([LIS + "institution/person#Administrator", LIS + "membership#Instructor",
      LIS + "system/person#Administrator"], "instructor"),
    # No context role: institution/system roles decide (account-level launches).
    ([LIS + "system/person#Administrator"], "admin"),
    ([LIS + "institution/person#Instructor"], "instructor"),
    ([LIS + "institution/person#Student"], "learner"),
    (["Learner"], "learner"),  # deprecated simple names are context roles
    (["Instructor"], "instructor"),
    ([], "guest"),
    (["http://example.com/custom#Thing"], "guest"),
])
def test_role_mapping(roles: list[str], expected: str) -> None:
    assert map_roles(roles) == expected


def test_non_string_roles_are_ignored() -> None:
    assert map_roles([None, 3, LIS + "membership#Learner"]) == "learner"  # type: ignore[list-item]
