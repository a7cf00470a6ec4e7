"""Which picture stands for a micro-credential, and for a credential issued from it: the image its staff uploaded,
else the generated design (title, issuer, EQF level, the institution's colour). A credential's art names what
the credential says (its title and issuer as issued); the picture itself is the micro-credential's today.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import MicroCredential
from lti_microcred.credentials.images.badge import badge_png, badge_svg
from lti_microcred.credentials.images.text_fit import plain
from lti_microcred.credentials.images.uploads import PNG, BadgeImage
from lti_microcred.credentials.issuing.issuer_state import IssuerState
from lti_microcred.credentials.models import BadgeArt

_QUOTES = {'"': "&#34;", "'": "&#39;"}


@dataclass(frozen=True)
class Design:
    """What the generated design shows."""

    title: str
    issuer: str
    eqf_level: int | None
    colour: str


@dataclass(frozen=True)
class Art:
    """The picture in both forms, and whether it is the micro-credential's own upload."""

    svg: bytes
    png: bytes
    uploaded: bool

    @property
    def version(self) -> str:
        """Changes whenever the picture does (for ETags)."""
        return hashlib.sha256(self.svg + self.png).hexdigest()[:16]


def uploaded(session: Session, micro_credential_id: int) -> BadgeArt | None:
    return session.scalars(select(BadgeArt).where(BadgeArt.micro_credential_id == micro_credential_id)).one_or_none()


def design_of(credential: MicroCredential, issuer: IssuerState) -> Design:
    return Design(credential.title, issuer.profile.name, credential.eqf_level, issuer.brand_color)


def design_of_document(document: dict[str, Any], issuers: Sequence[IssuerState]) -> Design:
    """The design from what a signed credential says (its name, issuer and level as issued); the colour is its
    issuer's today, when the issuer is one of ours."""
    issuer, subject = _object(document.get("issuer")), _object(document.get("credentialSubject"))
    achievement = _object(subject.get("achievement"))
    level = achievement.get("eqfLevel")
    ours = next((i for i in issuers if i.did == issuer.get("id")), None)
    return Design(str(document.get("name") or achievement.get("name") or "Micro-credential"),
                  str(issuer.get("name") or ""), level if isinstance(level, int) else None,
                  ours.brand_color if ours else "")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def art(design: Design, own: BadgeArt | None) -> Art:
    """The uploaded picture when there is one (an SVG without a PNG copy keeps the generated PNG), else the
    generated design."""
    generated = (design.title, design.issuer, design.eqf_level, design.colour or None)
    if own is None:
        return Art(badge_svg(*generated), badge_png(*generated), uploaded=False)
    if own.media_type == PNG:
        return Art(png_in_svg(own.content, _label(design)), own.content, uploaded=True)
    return Art(own.content, own.png_copy or badge_png(*generated), uploaded=True)


def stored(image: BadgeImage, png_copy: bytes | None) -> dict[str, Any]:
    """The columns of a BadgeArt row for an accepted upload."""
    return {"media_type": image.media_type, "content": image.content, "png_copy": png_copy,
            "sha256": hashlib.sha256(image.content).hexdigest()}


def png_in_svg(png: bytes, label: str) -> bytes:
    """An uploaded PNG as an SVG badge (to bake a credential into it): the picture as a data: image."""
    width, height = struct.unpack(">II", png[16:24])  # IHDR, right after the signature
    text = escape(plain(label), _QUOTES)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{text}">'
        f'<title>{text}</title><image width="{width}" height="{height}" '
        f'xlink:href="data:image/png;base64,{base64.b64encode(png).decode()}"/></svg>'
    ).encode()


def _label(design: Design) -> str:
    return f"{design.title}, issued by {design.issuer}" if design.issuer else design.title
