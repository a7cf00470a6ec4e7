"""Deep Linking responses: ltiResourceLink items with a lineItem, signed with our current key.

https://www.imsglobal.org/spec/lti-dl/v2p0#deep-linking-response-message
Moodle turns each item into an activity (and a grade item from lineItem); Canvas creates an
assignment column from lineItem in assignment/module placements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from lti_microcred.lti import claims as c
from lti_microcred.lti.errors import MissingClaim
from lti_microcred.lti.keys import SigningKey
from lti_microcred.lti.registry import PlatformInfo


@dataclass(frozen=True)
class PlacedItem:
    """One thing the instructor places in the course."""

    title: str
    url: str
    custom: dict[str, str] = field(default_factory=dict)
    score_maximum: float | None = None
    resource_id: str | None = None
    tag: str | None = None

    def resource(self) -> DeepLinkResource:
        resource = DeepLinkResource().set_title(self.title).set_url(self.url).set_custom_params(self.custom)
        if self.score_maximum is not None:
            line_item = LineItem().set_score_maximum(self.score_maximum).set_label(self.title)
            if self.resource_id:
                line_item.set_resource_id(self.resource_id)
            if self.tag:
                line_item.set_tag(self.tag)
            resource.set_lineitem(line_item)
        return resource


@dataclass(frozen=True)
class DeepLinkingResponse:
    return_url: str
    jwt: str


def settings_of(claims: dict[str, Any]) -> dict[str, Any]:
    dl_settings = claims.get(c.DL_SETTINGS)
    if not isinstance(dl_settings, dict) or not dl_settings.get("deep_link_return_url"):
        raise MissingClaim("this session was not started by a Deep Linking request")
    return dl_settings


def build_response(platform: PlatformInfo, lti_deployment_id: str, claims: dict[str, Any],
                   items: list[PlacedItem], key: SigningKey) -> DeepLinkingResponse:
    dl_settings = settings_of(claims)
    deep_link = DeepLink(platform.registration(), lti_deployment_id, dl_settings)  # type: ignore[arg-type]
    message = deep_link.get_message_jwt([item.resource() for item in items])
    if message.get(c.DL_DATA) is None:
        message.pop(c.DL_DATA, None)  # echo data only when the platform sent some
    if items:
        message[c.DL_MSG] = f"Added {len(items)} item(s)."
    return DeepLinkingResponse(dl_settings["deep_link_return_url"], key.sign(message))
