"""Sharing a credential: LinkedIn's add-to-profile URL, filled in from the credential."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.services import Services

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def linkedin_url(row: IssuedCredential, services: Services) -> str:
    """https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=…&organizationName=…&…"""
    data = json.loads(row.signed_json)
    awarded = (data.get("awardedDate") or data.get("validFrom") or "")[:7]  # YYYY-MM
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": data.get("name", "Micro-credential"),
        "organizationName": services.issuer.state().profile.name,
        "issueYear": awarded[:4], "issueMonth": str(int(awarded[5:7])) if len(awarded) == 7 else "",
        "certUrl": services.credential_urls.verify(row.public_id),
        "certId": row.public_id,
    }
    if row.valid_until is not None:
        params.update(expirationYear=str(row.valid_until.year), expirationMonth=str(row.valid_until.month))
    return LINKEDIN_ADD + "?" + urlencode({k: v for k, v in params.items() if v})
