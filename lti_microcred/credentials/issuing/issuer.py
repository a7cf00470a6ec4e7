"""Each institution's issuer: its profile, its signing keys (stored encrypted) and its did:web.

The institution at the host root is did:web of the host (as every credential was before there were several);
any other is did:web:<host>:institutions:<slug>, its DID document at /institutions/<slug>/did.json.
Ed25519 signs Data Integrity proofs, P-256 (ES256) signs VC-JWTs. Rotation adds a new current key and keeps
the old one published (as retired) so credentials it signed keep verifying.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.core.crypto_box import SecretBox
from lti_microcred.core.db import utcnow
from lti_microcred.credentials.issuing.didweb import did_web, jwk_thumbprint, public_jwk
from lti_microcred.credentials.models import IssuerKey, IssuerProfile
from lti_microcred.credentials.proofs.multikey import ed25519_public_key_to_multibase
from lti_microcred.lti.models import DEFAULT_INSTITUTION_NAME, Institution, root_institution

INSTITUTIONS_PATH = "/institutions"


def issuer_did(base_url: str, institution: Institution | None = None) -> str:
    """did:web of the tool's host (a port becomes %3A), or of the institution's path below it."""
    parts = urlsplit(base_url)
    assert parts.hostname
    below = "" if institution is None or institution.at_host_root else f"{INSTITUTIONS_PATH}/{institution.slug}"
    return did_web(parts.hostname, parts.port, below)


def did_document_path(institution: Institution) -> str:
    return "/.well-known/did.json" if institution.at_host_root else f"{INSTITUTIONS_PATH}/{institution.slug}/did.json"


def profile_path(institution: Institution) -> str:
    """Where the same keys are published under an https identifier, with the issuer's public profile."""
    return "/issuer" if institution.at_host_root else f"{INSTITUTIONS_PATH}/{institution.slug}/issuer"


def _private_der(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


# The issuer profile's fields and their longest values (the columns' sizes), in the order forms show them.
PROFILE_FIELDS = {"name": 200, "url": 2048, "email": 320, "description": 2000, "street_address": 300,
                  "locality": 120, "postal_code": 40, "country": 2, "image_url": 2048, "linkedin_organization_id": 20,
                  "brand_color": 7}


def profile_form(values: Mapping[str, str | None]) -> dict[str, str]:
    """Every profile field as it is stored: trimmed, missing ones empty, the country code in capitals."""
    form = {name: (values.get(name) or "").strip() for name in PROFILE_FIELDS}
    form["country"] = form["country"].upper()
    form["brand_color"] = form["brand_color"].upper()
    return form


def profile_problems(form: dict[str, str]) -> dict[str, str]:
    """What is wrong with an issuer profile form, field by field."""
    found = {name: f"At most {limit} characters." for name, limit in PROFILE_FIELDS.items()
             if len(form[name]) > limit}
    if not form["name"]:
        found["name"] = "The issuer needs a name."
    for name in ("url", "image_url"):
        if form[name] and not form[name].startswith("https://"):
            found[name] = "Use an https:// address."
    if form["email"] and "@" not in form["email"]:
        found["email"] = "This is not an e-mail address."
    if form["country"] and not (len(form["country"]) == 2 and form["country"].isalpha()):
        found["country"] = "Use the two-letter country code (e.g. IE)."
    if form["brand_color"] and not re.fullmatch(r"#[0-9A-Fa-f]{6}", form["brand_color"]):
        found["brand_color"] = "Use a colour as #RRGGBB, e.g. #0B5CAD."
    if form["linkedin_organization_id"] and not form["linkedin_organization_id"].isdigit():
        found["linkedin_organization_id"] = "Use the number in your LinkedIn page's admin address."
    return found


def new_issuer_key(box: SecretBox, algorithm: str, institution_id: int) -> IssuerKey:
    if algorithm == "Ed25519":
        private: Any = ed25519.Ed25519PrivateKey.generate()
        public_text = ed25519_public_key_to_multibase(private.public_key())
        fragment = public_text
    elif algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        jwk = public_jwk(private.public_key())
        public_text, fragment = json.dumps(jwk, sort_keys=True), jwk_thumbprint(jwk)
    else:
        raise ValueError(f"unsupported issuer key algorithm {algorithm}")
    return IssuerKey(institution_id=institution_id, algorithm=algorithm, fragment=fragment, public_key=public_text,
                     status="current", private_key_enc=box.seal(_private_der(private), context=fragment.encode()))


def ensure_issuer(session: Session, box: SecretBox, default_name: str, institution_id: int | None = None
                  ) -> list[str]:
    """An institution's profile row and a current key of each algorithm (the root institution's when none is
    named); returns what was created."""
    institution = session.get(Institution, institution_id) if institution_id else root_institution(session)
    if institution is None:
        raise LookupError(f"no institution {institution_id}")
    created = []
    if profile_of(session, institution.id) is None:
        if institution.at_host_root and institution.name == DEFAULT_INSTITUTION_NAME:
            institution.name = default_name  # `microcred institution list` then names it as its credentials do
        session.add(IssuerProfile(institution_id=institution.id, name=institution.name))
        created.append("issuer profile" if institution.at_host_root else f"issuer profile of {institution.slug}")
    current = set(session.scalars(select(IssuerKey.algorithm).where(
        IssuerKey.institution_id == institution.id, IssuerKey.status == "current")))
    for algorithm in ("Ed25519", "ES256"):
        if algorithm not in current:
            session.add(new_issuer_key(box, algorithm, institution.id))
            created.append(f"{algorithm} issuer key")
    session.flush()
    return created


def profile_of(session: Session, institution_id: int) -> IssuerProfile | None:
    return session.scalars(select(IssuerProfile).where(IssuerProfile.institution_id == institution_id)).one_or_none()


def rotate_issuer_keys(session: Session, box: SecretBox, institution_id: int) -> list[IssuerKey]:
    """New current keys for one institution; its previous ones stay published as retired."""
    for key in session.scalars(select(IssuerKey).where(IssuerKey.institution_id == institution_id,
                                                       IssuerKey.status == "current")):
        key.status, key.retired_dt = "retired", utcnow()
    fresh = [new_issuer_key(box, algorithm, institution_id) for algorithm in ("Ed25519", "ES256")]
    session.add_all(fresh)
    session.flush()
    return fresh
