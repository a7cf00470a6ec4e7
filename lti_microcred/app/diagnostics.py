"""`microcred doctor`'s checks of the settings, the database and the keys: each gives one Check (ok, warn, fail,
or skip when what it needs is missing). The calls out (the tool's /health, the LMSs' endpoints) are in
`reachability`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import make_url, select

from lti_microcred.core.config import ConfigError, Settings, load_settings
from lti_microcred.core.crypto_box import SecretBox, SecretBoxError
from lti_microcred.core.migrate import DatabaseState, head_revision, inspect_database
from lti_microcred.credentials.models import IssuerKey, IssuerProfile
from lti_microcred.lti.models import Institution, ToolKey
from lti_microcred.services import Services

ISSUER_ALGORITHMS = ("Ed25519", "ES256")


@dataclass(frozen=True)
class Check:
    outcome: str  # ok | warn | fail | skip
    name: str
    detail: str


def settings_check(overrides: Mapping[str, Any] | None = None) -> tuple[Check, Settings | None]:
    """The settings as every command reads them, validated as `microcred run` does (production requirements
    included)."""
    try:
        settings = load_settings(overrides)
    except ConfigError as exc:
        return Check("fail", "settings", str(exc)), None
    if settings.is_production:
        return Check("ok", "settings", f"production mode, base URL {settings.base_url}"), settings
    missing = "" if settings.secret_key else "; no secret_key set (the built-in development secret is used)"
    return Check("warn", "settings", f"{settings.env} mode, base URL {settings.base_url}: not for production "
                                     f"(LTI_MICROCRED_ENV=production needs https and a real secret){missing}"), settings


def database_check(settings: Settings) -> tuple[Check, DatabaseState]:
    shown = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    found = inspect_database(settings.resolved_database_url)
    if found.state == "current":
        return Check("ok", "database", f"{shown} at schema {found.revision} (this version's)"), found
    if found.state == "ahead":
        return Check("warn", "database", f"{shown} at schema {found.revision}, newer than this version's "
                                         f"{head_revision()}: finish the upgrade"), found
    if found.state == "behind":
        return Check("fail", "database", f"{shown} is not migrated (schema {found.revision or 'empty'}, this "
                                         f"version needs {head_revision()}): run `microcred init`"), found
    if found.state == "missing":
        return Check("fail", "database", f"{shown}: no such file: run `microcred init` with these settings"), found
    return Check("fail", "database", f"{shown}: cannot be reached: {found.detail}"), found


def tool_keys_check(services: Services) -> Check:
    """The tool's LTI keys: a current one, and every one still in use opens with the configured secret."""
    with services.read_sessions() as session:
        keys = list(session.scalars(select(ToolKey).where(ToolKey.status.in_(("current", "next")))))
    if not any(k.status == "current" for k in keys):
        return Check("fail", "tool keys", "no current signing key: run `microcred init`")
    broken = [k.kid for k in keys if not _opens(services.box, k.private_key_enc, k.kid)]
    if broken:
        return Check("fail", "tool keys", f"{len(broken)} key(s) cannot be decrypted with the configured "
                                          "LTI_MICROCRED_KEY_ENCRYPTION_KEY (else SECRET_KEY): it is not the one "
                                          "they were stored with")
    return Check("ok", "tool keys", ", ".join(f"{k.status} {k.kid[:8]}…" for k in keys) + " decrypt")


def issuer_keys_check(services: Services) -> Check:
    """Every institution has an issuer profile and a current key of each algorithm, and they open."""
    problems, names = [], []
    with services.read_sessions() as session:
        profiles = set(session.scalars(select(IssuerProfile.institution_id)))
        for institution in session.scalars(select(Institution).order_by(Institution.id)):
            names.append(institution.slug)
            keys = list(session.scalars(select(IssuerKey).where(IssuerKey.institution_id == institution.id,
                                                                IssuerKey.status == "current")))
            missing = [a for a in ISSUER_ALGORITHMS if a not in {k.algorithm for k in keys}]
            if institution.id not in profiles or missing:
                problems.append(f"{institution.slug} has no issuer profile or no current {', '.join(missing)} key "
                                "(`microcred init` creates what is missing)")
            elif not all(_opens(services.box, k.private_key_enc, k.fragment) for k in keys):
                problems.append(f"{institution.slug}'s keys cannot be decrypted with the configured secret")
    if not names:
        return Check("fail", "issuer keys", "no institution: run `microcred init`")
    if problems:
        return Check("fail", "issuer keys", "; ".join(problems))
    return Check("ok", "issuer keys", f"{len(names)} institution(s): {', '.join(names)}: Ed25519 and ES256 keys "
                                      "decrypt")


def _opens(box: SecretBox, sealed: bytes, context: str) -> bool:
    try:
        box.open(sealed, context=context.encode())
    except SecretBoxError:
        return False
    return True
