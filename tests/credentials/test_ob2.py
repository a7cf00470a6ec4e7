"""Open Badges 2.0 hosted documents read back from the OB 3.0 credential as signed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lti_microcred.credentials.documents import ob2

ShapeMap = dict[str, Callable[[], dict[str, Any]]]


def test_an_assertion_says_what_the_credential_says(shapes: ShapeMap) -> None:
    credential = shapes["full"]()
    assertion = ob2.build_ob2_assertion(ob2.award_of(credential), assertion_url="https://x.example/a/1",
                                        badge_class_url="https://x.example/b/1")
    identity = credential["credentialSubject"]["identifier"][0]
    assert assertion["recipient"] == {"type": "email", "hashed": True, "salt": identity["salt"],
                                      "identity": identity["identityHash"]}
    assert (assertion["issuedOn"], assertion["expires"]) == (credential["awardedDate"], credential["validUntil"])
    assert assertion["evidence"] == [
        {"id": "https://lms.example.edu/ev/1", "name": "Portfolio", "narrative": "Three analyses, reviewed."},
        {"narrative": "Exam passed with 78%.", "genre": "Exam"},
    ]


def test_suspension_shows_as_revocation_while_it_lasts() -> None:
    assert ob2.revocation_reason("active", None) is None
    assert ob2.revocation_reason("suspended", "Under review.") == "Suspended: Under review."
    assert ob2.revocation_reason("revoked", None) == "Revoked"
