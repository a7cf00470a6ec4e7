"""What signing and verification need of each institution's issuer, loaded once per process and again every
few seconds (an admin may change a profile or rotate keys in another process): the profile as credentials
embed it, the signers, and the documents that publish the keys (the did:web DID document and the same keys
under an https identifier)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.crypto_box import SecretBox
from lti_microcred.credentials.contexts import DID_V1, MULTIKEY_V1
from lti_microcred.credentials.documents.data import Address
from lti_microcred.credentials.documents.data import IssuerProfile as ProfileData
from lti_microcred.credentials.documents.openbadge import address_json
from lti_microcred.credentials.issuing.didweb import JWK_V1
from lti_microcred.credentials.issuing.issuer import issuer_did, profile_of, profile_path
from lti_microcred.credentials.models import IssuerKey, IssuerProfile
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer
from lti_microcred.lti.models import Institution, Platform


@dataclass(frozen=True)
class IssuerState:
    """A per-process snapshot of one institution's issuer."""

    did: str
    profile: ProfileData
    di_signer: Ed25519Signer
    jwt_key: Any
    jwt_kid: str
    did_document: dict[str, Any]
    https_profile: dict[str, Any]
    institution_id: int = 0
    slug: str = ""
    linkedin_organization_id: str = ""
    brand_color: str = ""  # "#RRGGBB" of the generated badge art; "" for the default


class Issuer:
    """Every institution's issuer state, each reloaded after `refresh_seconds`."""

    def __init__(self, sessions: sessionmaker[Session], box: SecretBox, base_url: str,
                 refresh_seconds: float = 10.0) -> None:
        self._sessions, self._box, self._base_url = sessions, box, base_url
        self._refresh_seconds = refresh_seconds
        self._states: dict[int, tuple[float, IssuerState]] = {}
        self._institutions: tuple[float, dict[str, int], int | None] = (-1e9, {}, None)  # slug -> id; root id
        self._private: dict[str, Any] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._states.clear()
            self._institutions = (-1e9, {}, None)

    def state(self, institution_id: int | None = None) -> IssuerState:
        """An institution's issuer; the one at the host root when none is named."""
        wanted = institution_id if institution_id is not None else self._root_id()
        cached = self._states.get(wanted)
        if cached is None or time.monotonic() - cached[0] >= self._refresh_seconds:
            with self._lock:
                cached = (time.monotonic(), self._load(wanted))
                self._states[wanted] = cached
        return cached[1]

    def for_platform(self, session: Session, platform_id: int) -> IssuerState:
        """The issuer of the institution a registration belongs to: credentials of its courses carry it."""
        institution_id = session.scalar(select(Platform.institution_id).where(Platform.id == platform_id))
        if institution_id is None:  # never fall back to another institution's issuer
            raise LookupError(f"no registration {platform_id}")
        return self.state(institution_id)

    def by_slug(self, slug: str) -> IssuerState | None:
        found = self._slugs().get(slug)
        return self.state(found) if found is not None else None

    def all(self) -> list[IssuerState]:
        """Every institution's issuer: the ones this tool vouches for when it verifies."""
        return [self.state(i) for i in sorted(self._slugs().values())]

    def _root_id(self) -> int:
        self._slugs()
        root = self._institutions[2]
        if root is None:
            raise RuntimeError("the issuer is not set up: run `microcred init`")
        return root

    def _slugs(self) -> dict[str, int]:
        loaded_at, slugs, _root = self._institutions
        if time.monotonic() - loaded_at >= self._refresh_seconds:
            with self._sessions() as session:
                rows = session.execute(select(Institution.id, Institution.slug, Institution.at_host_root)).all()
            root = next((r.id for r in rows if r.at_host_root), None)
            slugs = {r.slug: r.id for r in rows}
            self._institutions = (time.monotonic(), slugs, root)
        return slugs

    def _load(self, institution_id: int) -> IssuerState:
        with self._sessions() as session:
            institution = session.get(Institution, institution_id)
            row = profile_of(session, institution_id)
            keys = list(session.scalars(select(IssuerKey).where(
                IssuerKey.institution_id == institution_id, IssuerKey.status != "revoked").order_by(IssuerKey.id)))
            if institution is None or row is None or not keys:
                raise RuntimeError("the issuer is not set up: run `microcred init`")
            did = issuer_did(self._base_url, institution)
            current = {k.algorithm: k for k in keys if k.status == "current"}
            di_key, jwt_key = current["Ed25519"], current["ES256"]
            return IssuerState(
                did=did, profile=_profile_data(row, did),
                di_signer=Ed25519Signer(f"{did}#{di_key.fragment}", self._private_key(di_key)),
                jwt_key=self._private_key(jwt_key), jwt_kid=f"{did}#{jwt_key.fragment}",
                did_document=_controller_document(did, keys),
                https_profile=_https_profile(self._base_url.rstrip("/") + profile_path(institution), did, row, keys),
                institution_id=institution.id, slug=institution.slug,
                linkedin_organization_id=row.linkedin_organization_id,
                brand_color=row.brand_color or "",
            )

    def _private_key(self, key: IssuerKey) -> Any:
        loaded = self._private.get(key.fragment)
        if loaded is None:
            der = self._box.open(key.private_key_enc, context=key.fragment.encode())
            loaded = self._private[key.fragment] = serialization.load_der_private_key(der, password=None)
        return loaded


def _address(row: IssuerProfile) -> Address | None:
    """The stored postal address (Annex I: the issuer's country), or None when nothing is stored."""
    address = Address(country_code=row.country or None, locality=row.locality or None,
                      street_address=row.street_address or None, postal_code=row.postal_code or None)
    return address if address != Address() else None


def _profile_data(row: IssuerProfile, did: str) -> ProfileData:
    return ProfileData(id=did, name=row.name, url=row.url or None, email=row.email or None,
                       description=row.description or None, image=row.image_url or None, address=_address(row))


def _methods(controller: str, keys: list[IssuerKey]) -> list[dict[str, Any]]:
    methods = []
    for key in keys:
        if key.algorithm == "Ed25519":
            methods.append({"id": f"{controller}#{key.fragment}", "type": "Multikey", "controller": controller,
                            "publicKeyMultibase": key.public_key})
        else:
            methods.append({"id": f"{controller}#{key.fragment}", "type": "JsonWebKey", "controller": controller,
                            "publicKeyJwk": json.loads(key.public_key)})
    return methods


def _controller_document(controller: str, keys: list[IssuerKey]) -> dict[str, Any]:
    """The DID document: every published key (current and retired) may assert credentials."""
    methods = _methods(controller, keys)
    return {"@context": [DID_V1, MULTIKEY_V1, JWK_V1], "id": controller, "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods]}


def _https_profile(controller: str, did: str, row: IssuerProfile, keys: list[IssuerKey]) -> dict[str, Any]:
    """The same keys under an HTTPS identifier, with the issuer's public profile, for HTTPS-minded verifiers."""
    document = _controller_document(controller, keys)
    document.update({"name": row.name, "url": row.url or None, "email": row.email or None,
                     "description": row.description or None, "image": row.image_url or None,
                     "address": address_json(_address(row)), "alsoKnownAs": [did]})
    return {k: v for k, v in document.items() if v is not None}
