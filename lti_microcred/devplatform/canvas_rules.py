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
