"""The loopback LMS's implementations of lti1p3platform's abstract classes: its platform configuration,
its OIDC login, and its launch with the claims a Moodle 4.5 or hosted Canvas launch carries.

A launch gets what it needs from the platform as a LaunchSubject, so this module does not know DevPlatform
(the platform imports it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest

from lti_microcred.devplatform.data import DevLink, DevPlatformSetup, DevUser
from lti_microcred.devplatform.urls import lineitems_url, memberships_url, site_url

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
ROLE_URIS = {
    "learner": [LIS + "membership#Learner"],
    "instructor": [LIS + "membership#Instructor"],
    "ta": [LIS + "membership#Instructor", LIS + "membership/Instructor#TeachingAssistant"],
    "admin": [LIS + "system/person#Administrator", LIS + "institution/person#Administrator"],
}
CANVAS_EXTRA_ROLES = {
    "learner": [LIS + "institution/person#Student", LIS + "system/person#User"],
    "instructor": [LIS + "institution/person#Instructor", LIS + "system/person#User"],
}


class PlatformRefusal(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        assert self._registration is not None
        return self._registration


class NoRequest(Request):
    def build_metadata(self, request: Any) -> TRequest:
        return {"method": "GET", "form_data": {}, "get_data": {}, "headers": {}, "content_type": None, "path": "/",
                "json": None}

    def __init__(self) -> None:
        self.request = self.build_metadata(None)


class PreflightRequest(NoRequest):
    def __init__(self, params: dict[str, str]) -> None:
        super().__init__()
        self.request["get_data"] = dict(params)


class Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


@dataclass
class LaunchSubject:
    """What the platform tells one launch: who launches, from which link, and its test hooks' claims."""

    setup: DevPlatformSetup
    user: DevUser
    deep_link: bool
    link: DevLink  # ignored by a Deep Linking launch
    extra_claims: dict[str, Any]
    drop_claims: set[str]


class Launch(LTIAdvantageMessageLaunchAbstract):
    """lti1p3platform's launch, with the claims a Moodle 4.5 or hosted Canvas launch carries."""

    subject: LaunchSubject

    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        subject = self.subject
        setup, user = subject.setup, subject.user
        roles = list(ROLE_URIS.get(user.role, []))
        if setup.flavour == "canvas":
            roles += CANVAS_EXTRA_ROLES.get(user.role, [])
        self.set_user_data(user.id, roles, user.name, user.email)
        assert self.lti_claim_user_data is not None
        self.lti_claim_user_data.update(given_name=user.given_name, family_name=user.family_name)
        self.set_launch_context_claim(setup.course_id, [LIS + "course#CourseOffering"], setup.course_title,
                                      setup.course_id)
        self.set_launch_presentation_claim("iframe", site_url(setup, "/"))
        self.set_nrps(memberships_url(subject))
        if subject.deep_link:
            self.set_dl(site_url(setup, "/deep_link_return"), title="Add content", accept_types={"ltiResourceLink"},
                        extra_data={"session": secrets.token_hex(4)})
            self.set_ags(lineitems_url(subject))
        else:
            self.set_resource_link_claim(subject.link.id, title=subject.link.title)
            if subject.link.custom:
                self.set_custom_parameters_claim(subject.link.custom)
            line_item_url = subject.link.line_item["id"] if subject.link.line_item else None
            self.set_ags(lineitems_url(subject), line_item_url)
        self.set_extra_claims({"https://purl.imsglobal.org/spec/lti/claim/tool_platform": _platform_claim(setup)})
        self.set_extra_claims(subject.extra_claims)
        self._drop = set(subject.drop_claims)
        self.set_id_token_expiration(300)

    def get_launch_message(self, include_extra_claims: bool = True) -> dict[str, Any]:
        message = super().get_launch_message(include_extra_claims)
        for claim in getattr(self, "_drop", set()):
            message.pop(claim, None)
        return message

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> Any:
        return launch_data


def _platform_claim(setup: DevPlatformSetup) -> dict[str, str]:
    family = "moodle" if setup.flavour == "moodle" else "canvas"
    return {"guid": site_url(setup, "/"), "name": f"Demo {family.capitalize()}",
            "version": "4.5.1" if family == "moodle" else "cloud", "product_family_code": family}
