"""Sharing a credential: LinkedIn's add-to-profile URL, filled in from the credential."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.services import Services

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def linkedin_url(row: IssuedCredential, services: Services) -> str:
    """https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=…&organizationName=…&…

    The organisation is the one that issued this credential, as it was named then: another institution's
    profile, or a later rename of this one, never changes what a learner's profile shows."""
    data = json.loads(row.signed_json)
    awarded = (data.get("awardedDate") or data.get("validFrom") or "")[:7]  # YYYY-MM
    issuer = data.get("issuer") if isinstance(data.get("issuer"), dict) else {}
    organization = next((i for i in services.issuer.all() if i.did == issuer.get("id")), None)
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": data.get("name", "Micro-credential"),
        "organizationName": issuer.get("name", ""),
        "organizationId": organization.linkedin_organization_id if organization else "",
        "issueYear": awarded[:4], "issueMonth": str(int(awarded[5:7])) if len(awarded) == 7 else "",
        "certUrl": services.credential_urls.verify(row.public_id),
        "certId": row.public_id,
    }
    if row.valid_until is not None:
        params.update(expirationYear=str(row.valid_until.year), expirationMonth=str(row.valid_until.month))
    return LINKEDIN_ADD + "?" + urlencode({k: v for k, v in params.items() if v})
