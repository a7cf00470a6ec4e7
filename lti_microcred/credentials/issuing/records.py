"""A learner's Comprehensive Learner Record (CLR 2.0): every current credential from this institution (not
revoked, suspended or expired: a verifier fails a record that bundles one), with the stacking of pathways
over their components as associations."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import MicroCredential, PathwayComponent
from lti_microcred.core.db import utcnow
from lti_microcred.credentials.documents.clr import Association, build_clr_credential, stacking
from lti_microcred.credentials.issuing.credential_status import learner_credentials
from lti_microcred.credentials.issuing.issuance import hashed_identity
from lti_microcred.credentials.issuing.issuer_state import IssuerState
from lti_microcred.credentials.issuing.urls import Urls
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.credentials.proofs.dataintegrity import sign
from lti_microcred.lti.models import User


def _associations(session: Session, urls: Urls, held: list[MicroCredential]) -> tuple[Association, ...]:
    """isParentOf/isChildOf between a held pathway and the held components that count towards it."""
    held_ids = {c.id for c in held}
    pathways = [c for c in held if c.kind == "pathway"]
    pairs: list[Association] = []
    for pathway in pathways:
        components = session.scalars(select(MicroCredential).join(
            PathwayComponent, PathwayComponent.component_id == MicroCredential.id)
            .where(PathwayComponent.pathway_id == pathway.id)).all()
        children = [urls.achievement(c.key) for c in components if c.id in held_ids]
        pairs += stacking(urls.achievement(pathway.key), children)
    return tuple(pairs)


def _current(row: IssuedCredential, now: dt.datetime) -> bool:
    """Active and not expired: what a verifier accepts today."""
    return row.status == "active" and (row.valid_until is None or row.valid_until > now)


def learner_record(session: Session, issuer: IssuerState, urls: Urls, platform_id: int, learner_id: int
                   ) -> dict[str, Any] | None:
    """The signed CLR, or None when the learner holds no current credential."""
    now = utcnow()
    rows = [(row, c) for row, c in learner_credentials(session, platform_id, learner_id) if _current(row, now)]
    if not rows:
        return None
    learner = session.get(User, learner_id)
    assert learner is not None
    clr = build_clr_credential(
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issuer=issuer.profile, name=f"Learner record from {issuer.profile.name}",
        credentials=[json.loads(row.signed_json) for row, _ in rows], valid_from=now,
        identity=hashed_identity(learner), associations=_associations(session, urls, [c for _, c in rows]),
        extension_context=urls.extension_context,
    )
    return sign(clr, issuer.di_signer)
