"""Whatever a stranger pastes into the verify page, the verifier answers with a verdict, never a crash."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lti_microcred.credentials.contexts import OB_V3P0, VC_V2
from lti_microcred.credentials.errors import CredentialError
from lti_microcred.credentials.proofs.canonical import canonicalize_with_report
from lti_microcred.credentials.proofs.controller_keys import KeyResolver
from lti_microcred.credentials.verification.verdict import Verdict
from lti_microcred.credentials.verification.verifier import verify_credential

from .conftest import NOW

KEYS = [
    "@context",
    "@id",
    "@type",
    "@value",
    "@list",
    "@graph",
    "@language",
    "@included",
    "@nest",
    "@reverse",
    "id",
    "type",
    "issuer",
    "credentialSubject",
    "proof",
    "validFrom",
    "validUntil",
    "name",
    "achievement",
    "credentialStatus",
    "verificationMethod",
    "proofValue",
    "cryptosuite",
    "proofPurpose",
    "statusListIndex",
    "verifiableCredential",
    "undefinedTerm",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            VC_V2,
            OB_V3P0,
            "VerifiableCredential",
            "DataIntegrityProof",
            "eddsa-rdfc-2022",
            "_:b0",
            "assertionMethod",
            "2024-01-01T00:00:00Z",
            "did:web:x#k",
            "zabc",
            "relative",
            "@id",
            "@json",
            "RS256",
            "ES256",
            "none",
            "HS256",
            "JWT",
        ]
    ),
    st.text(max_size=8),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.dictionaries(st.sampled_from(KEYS), JSON, max_size=8))
def test_any_json_object_gets_a_verdict(document: dict[str, Any], resolver: KeyResolver) -> None:
    verdict = verify_credential(document, resolve_key=resolver, now=NOW)
    assert isinstance(verdict, Verdict) and verdict.checks


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60))
def test_any_text_gets_a_verdict(text: str, resolver: KeyResolver) -> None:
    assert not verify_credential(text, resolve_key=resolver, now=NOW).verified


@settings(max_examples=400, deadline=None)
@given(document=st.dictionaries(st.sampled_from(KEYS), JSON, max_size=8))
def test_canonicalization_fails_only_with_our_errors(document: dict[str, Any]) -> None:
    with contextlib.suppress(CredentialError):
        canonicalize_with_report(document)


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.dictionaries(st.sampled_from(["alg", "typ", "kid", "jwk", "crit", "b64"]), JSON, max_size=4),
    payload=st.dictionaries(st.sampled_from([*KEYS, "iss", "sub", "nbf", "exp", "jti", "vc"]), JSON, max_size=6),
)
def test_any_jwt_shaped_text_gets_a_verdict(
    header: dict[str, Any], payload: dict[str, Any], resolver: KeyResolver
) -> None:
    token = f"{_b64(header)}.{_b64(payload)}.c2lnbmF0dXJl"
    assert not verify_credential(token, resolve_key=resolver, now=NOW).verified
