"""The issuer's postal address, as stored, in every credential's issuer Profile (OB 3.0 Address) and in the
HTTPS issuer profile; such a credential still verifies."""

from __future__ import annotations

from typing import Any

import requests

from tests.issuing.test_public_urls import api, issued

EXPECTED = {"type": ["Address"], "streetAddress": "College Green 1", "postalCode": "D02 PN40",
            "addressLocality": "Dublin", "addressCountryCode": "IE"}


def test_the_stored_address_is_in_the_credential_and_the_issuer_profile(
        services: Any, live_tool: str, issuer_address: dict[str, str]) -> None:
    one = issued(services)
    response = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10)
    assert response.json()["issuer"]["address"] == EXPECTED
    assert requests.get(live_tool + "/issuer", timeout=10).json()["address"] == EXPECTED
    verdict = api(live_tool, response.text)
    assert verdict["verified"] is True, verdict["summary"]
