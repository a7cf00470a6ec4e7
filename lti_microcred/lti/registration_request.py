"""The registration we POST to an LMS in Dynamic Registration: pylti1p3 shapes the body, we supply our URLs,
scopes, claims and messages (https://www.imsglobal.org/spec/lti-dr/v1p0#tool-configuration)."""

from __future__ import annotations

from typing import Any

from pylti1p3.dynamic_registration import DynamicRegistration

from lti_microcred.core.config import Settings
from lti_microcred.lti import claims as c
from lti_microcred.lti.scopes import TOOL_SCOPES

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_PRIVACY = "https://canvas.instructure.com/lti/privacy_level"


class ToolRegistrationRequest(DynamicRegistration):
    """pylti1p3 shapes the registration body; we supply our URLs, scopes and messages."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client_name = settings.tool_name
        self.description = "Assessed, stackable micro-credentials with verifiable Open Badges 3.0 credentials."

    def get_initiate_login_uri(self) -> str:
        return self.settings.url("/lti/login")

    def get_jwks_uri(self) -> str:
        return self.settings.url("/lti/jwks")

    def get_redirect_uris(self) -> list[str]:
        return [self.settings.url("/lti/launch")]

    def get_target_link_uri(self) -> str:
        return self.settings.url("/lti/launch")

    def get_scopes(self) -> list[str]:
        return list(TOOL_SCOPES)

    def get_domain(self) -> str:
        return self.settings.base_host

    def get_logo_uri(self) -> str:
        return self.settings.url("/static/icon.svg")

    def get_claims(self) -> list[str]:
        return ["iss", "sub", "name", "given_name", "family_name", "email"]

    def get_messages(self) -> list[dict[str, Any]]:
        launch, label = self.get_target_link_uri(), self.settings.tool_name
        return [
            {"type": c.DEEP_LINKING_REQUEST, "target_link_uri": launch, "label": label,
             "placements": ["link_selection", "assignment_selection"]},
            {"type": c.RESOURCE_LINK_REQUEST, "target_link_uri": launch, "label": label,
             "placements": ["course_navigation"]},
        ]

    def lti_registration_data(self) -> dict[str, Any]:
        data = super().lti_registration_data()
        data[TOOL_CONFIGURATION][CANVAS_PRIVACY] = "public"
        return data
