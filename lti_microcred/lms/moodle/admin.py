"""What an administrator does with competency ratings: turn them on with a token, off, check the token, send the
failed ratings again. The command line (`microcred moodle-ratings`) is a thin face over these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_microcred.core.config import Settings
from lti_microcred.core.crypto_box import SecretBox, SecretBoxError
from lti_microcred.core.db import utcnow
from lti_microcred.core.outbound import OutboundHTTP
from lti_microcred.lms.delivery.state import requeue_failed
from lti_microcred.lms.errors import PERMANENT, ServiceError
from lti_microcred.lms.models import Delivery
from lti_microcred.lms.moodle.models import SUBJECT, MoodleRatingSettings
from lti_microcred.lms.moodle.webservice import NEEDED_FUNCTIONS, SITE_INFO, MoodleWebService
from lti_microcred.lti.models import Platform

PURPOSE = b"lti-microcred/moodle-web-service-token"
MAX_TOKEN_CHARS = 256


class RatingsAdminError(Exception):
    """An administrator's request that cannot be done as asked (unknown registration, unusable token or URL)."""


def token_box(settings: Settings) -> SecretBox:
    """The box that seals Moodle tokens: the key-encryption key, with a purpose of its own."""
    return SecretBox(settings.key_encryption_key or settings.resolved_secret_key, purpose=PURPOSE)


def _context(platform_id: int) -> bytes:
    return f"platform:{platform_id}".encode()  # a sealed token opens only for its own registration


def open_token(box: SecretBox, row: MoodleRatingSettings) -> str:
    if row.token_enc is None:
        raise ServiceError("no web-service token is stored: run `microcred moodle-ratings enable`", PERMANENT)
    try:
        return box.open(row.token_enc, _context(row.platform_id)).decode()
    except SecretBoxError as exc:
        raise ServiceError("the stored web-service token cannot be opened (the key-encryption key changed): run "
                           "`microcred moodle-ratings enable` with the token again", PERMANENT) from exc


def settings_of(session: Session, platform_id: int) -> MoodleRatingSettings | None:
    return session.scalars(select(MoodleRatingSettings).where(
        MoodleRatingSettings.platform_id == platform_id)).one_or_none()


def clean_token(text: str) -> str:
    token = text.strip()
    if not token or len(token) > MAX_TOKEN_CHARS or any(ch.isspace() or not ch.isprintable() for ch in token):
        raise RatingsAdminError("the token file must hold the token alone, on one line (Moodle shows it under "
                                "Site administration > Server > Web services > Manage tokens)")
    return token


def enable(session: Session, box: SecretBox, platform_id: int, token: str, moodle_url: str | None = None,
           https_only: bool = False) -> MoodleRatingSettings:
    """Store the token (sealed) and the site's address (the issuer unless given), and turn ratings on."""
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise RatingsAdminError(f"no platform {platform_id} (see `microcred platform list`)")
    base_url = (moodle_url or platform.issuer).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise RatingsAdminError(f"not a Moodle address: {base_url!r} (give its wwwroot, e.g. https://moodle.example.edu)")
    if https_only and parts.scheme != "https":
        raise RatingsAdminError("in production the token only travels over https: give Moodle's https address")
    row = settings_of(session, platform_id) or MoodleRatingSettings(platform_id=platform_id)
    row.base_url = base_url
    row.token_enc = box.seal(clean_token(token).encode(), _context(platform_id))
    row.enabled = True
    row.last_error = row.last_error_dt = row.checked_dt = None
    session.add(row)
    session.flush()
    return row


def disable(session: Session, platform_id: int, forget_token: bool = False) -> MoodleRatingSettings:
    """Stop rating (rows queued meanwhile are dropped unsent); optionally erase the stored token."""
    row = settings_of(session, platform_id)
    if row is None:
        raise RatingsAdminError(f"competency ratings were never enabled for platform {platform_id}")
    row.enabled = False
    if forget_token:
        row.token_enc = None
    session.flush()
    return row


def record_problem(session: Session, platform_id: int, problem: str | None) -> None:
    """Keep (or, with None, clear) the problem an administrator must fix: a refused token, a missing function."""
    values: dict[str, Any] = {"last_error": problem[:2000] if problem else None,
                              "last_error_dt": utcnow() if problem else None}
    if problem is None:
        values["checked_dt"] = utcnow()
    session.execute(update(MoodleRatingSettings).where(MoodleRatingSettings.platform_id == platform_id)
                    .values(**values))


def retry_failed(session: Session, platform_id: int) -> int:
    """Queue again the last rating of every failed learner and competency of the registration."""
    keys = session.execute(select(Delivery.ordering_key).where(
        Delivery.platform_id == platform_id, Delivery.subject_kind == SUBJECT, Delivery.state == "failed")).scalars()
    return requeue_failed(session, keys)


@dataclass
class CheckReport:
    """What core_webservice_get_site_info says of the token: whose it is and which needed functions it allows."""

    site: str
    release: str
    user: str
    user_id: int
    allowed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def check(outbound: OutboundHTTP, box: SecretBox, row: MoodleRatingSettings) -> CheckReport:
    """Prove the token works (ServiceError if not) and list the needed functions its service lacks."""
    info = MoodleWebService(outbound, row.base_url, open_token(box, row)).call(SITE_INFO)
    if not isinstance(info, dict):
        raise ServiceError(f"{SITE_INFO} answered {type(info).__name__}, not a site description", PERMANENT)
    offered = {str(f.get("name")) for f in info.get("functions") or [] if isinstance(f, dict)}
    return CheckReport(str(info.get("sitename") or ""), str(info.get("release") or ""),
                       str(info.get("fullname") or info.get("username") or ""), int(info.get("userid") or 0),
                       [f for f in NEEDED_FUNCTIONS if f in offered], [f for f in NEEDED_FUNCTIONS if f not in offered])
