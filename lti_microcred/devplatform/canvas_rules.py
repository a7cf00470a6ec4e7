"""Rules of Canvas that the Canvas-shaped loopback LMS enforces, each citing the Canvas source it models
(instructure/canvas-lms)."""

from __future__ import annotations

import jwt
from flask import Response


def canvas_audience_problem(assertion: str, token_url: str) -> str | None:
    """Canvas's check of a client assertion's `aud`: a string must equal the token URL of the host that was
    asked, a list must contain it (lib/canvas/security/jwt_validator.rb `aud`, with expected_aud built in
    lib/canvas/oauth/client_credentials_provider.rb from `oauth2_token_url(host:)`). The signature is checked
    afterwards by the platform library."""
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "the JWT is malformed"
    aud = claims.get("aud")
    if aud == token_url or (isinstance(aud, list) and token_url in aud):
        return None
    return "the 'aud' is invalid"


def canvas_rate_limit_exceeded() -> Response:
    """What Canvas answers a client whose leaky bucket is full: 403, a plain-text body and no Retry-After
    (app/middleware/request_throttle.rb, `rate_limit_exceeded`)."""
    return Response("403 Forbidden (Rate Limit Exceeded)\n", status=403, content_type="text/plain; charset=utf-8",
                    headers={"X-Rate-Limit-Remaining": "0.0"})


# Placements from which Canvas's Deep Linking turns an item with a lineItem into an assignment, under a flag
# (app/controllers/lti/ims/concerns/deep_linking_modules.rb: ALLOW_LINE_ITEM_PLACEMENTS, allow_line_items?).
LINE_ITEM_PLACEMENTS = ("course_assignments_menu", "module_index_menu_modal", "link_selection", "module_menu_modal")
LINE_ITEMS_FLAG = "lti_deep_linking_line_items"


def deep_linking_placement(features: dict[str, bool], placement: str) -> str:
    """What Canvas makes of a Deep Linking item that carries a lineItem: `assignment` from the new-assignment page
    (assignment_selection: the teacher's own assignment form saves and publishes it; deep_linking_controller.rb
    returns the item to that page), `unpublished` from a module or the assignments menu when the
    `lti_deep_linking_line_items` flag is on (deep_linking_modules.rb `create_update_assignment!` creates it with
    `workflow_state: "unpublished"`), else `link`: a module item without a gradebook column."""
    if placement == "assignment_selection":
        return "assignment"
    if features.get(LINE_ITEMS_FLAG) and placement in LINE_ITEM_PLACEMENTS:
        return "unpublished"
    return "link"
