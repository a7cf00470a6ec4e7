"""Canvas developer-key JSON (LTI 1.3): what `tool.json` holds and /lti/config.json serves.

https://canvas.instructure.com/doc/api/file.lti_dev_key_config.html
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from lti_microcred.lti.scopes import TOOL_SCOPES

TEMPLATE_BASE_URL = "https://{{TOOL_HOST}}"


def canvas_config(base_url: str, title: str = "Micro-credentials") -> dict[str, Any]:
    base = base_url.rstrip("/")
    launch = f"{base}/lti/launch"

    def placement(name: str, message_type: str, **extra: Any) -> dict[str, Any]:
        return {"placement": name, "message_type": message_type, "target_link_uri": launch, "text": title, **extra}

    return {
        "title": title,
        "description": "Assessed, stackable micro-credentials with verifiable Open Badges 3.0 credentials.",
        "oidc_initiation_url": f"{base}/lti/login",
        "target_link_uri": launch,
        "public_jwk_url": f"{base}/lti/jwks",
        # Canvas sends launches only to a redirect URI of the developer key (its "Redirect URIs" field).
        "redirect_uris": [launch],
        "scopes": list(TOOL_SCOPES),
        "extensions": [{
            "platform": "canvas.instructure.com",
            "domain": urlsplit(base).netloc,
            "tool_id": "lti-microcred",
            "privacy_level": "public",
            "settings": {
                "text": title,
                "icon_url": f"{base}/static/icon.svg",
                "placements": [
                    placement("course_navigation", "LtiResourceLinkRequest", default="enabled"),
                    placement("link_selection", "LtiDeepLinkingRequest"),
                    placement("assignment_selection", "LtiDeepLinkingRequest"),
                ],
            },
        }],
        "custom_fields": {},
    }
