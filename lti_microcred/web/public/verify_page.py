"""What the public verifier reads (an upload, pasted text, a JSON body) and how it shows its verdict."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, make_response, render_template, url_for
from sqlalchemy import select

from lti_microcred.competencies.models import Award
from lti_microcred.credentials.documents.data import HashedIdentity
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.credentials.verification import CheckName, Verdict, verify
from lti_microcred.lti.models import User
from lti_microcred.web.common.context import db, services
from lti_microcred.web.common.credential_summary import summarize
from lti_microcred.web.public import verify_story as story

# The app's policy (web/__init__.py), with the issuer's logo host allowed as an image source on this page only.
PAGE_POLICY = "default-src 'self'; img-src 'self' data: {logo}; object-src 'none'; base-uri 'none'"
_ORIGIN = re.compile(r"https://[A-Za-z0-9.-]+(?::\d{1,5})?")
_UNSIGNED = (CheckName.FORMAT, CheckName.PROOF, CheckName.JSON_LD, CheckName.ISSUER, CheckName.TRUSTED_ISSUER)


def verdict_of(credential: dict[str, Any] | str) -> Verdict:
    s = services()
    return verify(db(), s.issuer.all(), s.signed_status_lists, s.settings.base_url, credential)


def ours(document: dict[str, Any] | None) -> IssuedCredential | None:
    """The stored credential a document is, by its id (only ever asked of a document our issuer signed)."""
    prefix = services().settings.base_url.rstrip("/") + "/credentials/"
    found = document.get("id") if isinstance(document, dict) else None
    if not isinstance(found, str) or not found.startswith(prefix):
        return None
    return db().scalars(select(IssuedCredential).where(
        IssuedCredential.public_id == found[len(prefix):][:40])).one_or_none()


def standing(row: IssuedCredential | None) -> story.Standing | None:
    """What our records say: the state, the reason and date of a revocation, and the holder's name."""
    if row is None:
        return None
    holder = db().get(User, row.learner_id)
    award = db().get(Award, row.award_id)
    since = row.superseded_dt or (award.revoked_dt if award is not None and row.status == "revoked" else None)
    return story.Standing(row.status, row.status_reason, since, holder.display_name if holder else None)


def signed_by_us(verdict: Verdict) -> bool:
    return verdict.credential is not None and not any(verdict.failed(n) for n in _UNSIGNED)


def render_verdict(credential: dict[str, Any] | str, stored: IssuedCredential | None = None,
                   email: str | None = None, status: int = 200) -> Response:
    verdict = verdict_of(credential)
    response = make_response(render_template("public/verify_result.html", **page_of(verdict, stored, email)), status)
    logo = _ORIGIN.match(_logo(verdict) or "")
    if logo:
        response.headers["Content-Security-Policy"] = PAGE_POLICY.format(logo=logo.group())
    return response


def page_of(verdict: Verdict, stored: IssuedCredential | None, email: str | None) -> dict[str, Any]:
    """Everything the page shows, in the order an employer wants it."""
    summary = summarize(verdict.credential) if verdict.credential else None
    row = stored or (ours(verdict.credential) if signed_by_us(verdict) else None)
    items = [_item(v) for v in verdict.embedded] or [_item(None, c) for c in story.bundled(verdict.credential)]
    known = standing(row) or _record_holder(verdict, items)
    identity = story.identity_of(verdict.credential)
    return {
        "verdict": verdict, "summary": summary, "stored": row, "items": items, "genuine": verdict.verified,
        "stranger": summary is not None and verdict.failed(CheckName.TRUSTED_ISSUER),
        "sentence": story.sentence(verdict, summary, known), "holder": known.holder if known else None,
        "identity": identity, "email": email, "email_matches": _matches(identity, email),
        "badge": _badge(row, verdict), "logo": _logo(verdict),
        "issuer_url": web_link(_issuer(verdict).get("url")) if verdict.verified else None,
        "facts": story.facts(summary) if summary else ([], []), "told": story.checks_told(verdict),
        "day": story.day, "check_labels": story.CHECK_LABELS, "web_link": web_link,
        "share_url": services().credential_urls.verify(row.public_id) if row else None,
    }


def _record_holder(verdict: Verdict, items: list[dict[str, Any]]) -> story.Standing | None:
    """A record signed by us whose credentials all name one holder in our records: that holder."""
    holders = {i["standing"].holder for i in items if i["standing"]}
    if not signed_by_us(verdict) or len(holders) != 1 or not all(i["standing"] for i in items):
        return None
    return story.Standing("active", holder=holders.pop())


def _item(verdict: Verdict | None, credential: Any = None) -> dict[str, Any]:
    """One credential a record bundles: what it says and, when it was checked, its own verdict."""
    document = verdict.credential if verdict else credential if isinstance(credential, dict) else None
    summary = summarize(document) if document else None
    row = ours(document) if verdict and signed_by_us(verdict) else None
    known = standing(row)
    return {"summary": summary, "checked": verdict is not None, "genuine": bool(verdict and verdict.verified),
            "sentence": story.sentence(verdict, summary, known) if verdict else "Not checked: the record itself "
            "does not verify.", "standing": known,
            "link": url_for("credentials_public.verify_page", public_id=row.public_id) if row else None,
            "badge": url_for("credentials_public.credential_svg", public_id=row.public_id) if row else None}


def _issuer(verdict: Verdict) -> dict[str, Any]:
    issuer = verdict.credential.get("issuer") if verdict.credential else None
    return issuer if isinstance(issuer, dict) else {}


def _logo(verdict: Verdict) -> str | None:
    """The issuer's logo, as it signed it, for a genuine credential only (never a claim's)."""
    image = _issuer(verdict).get("image")
    url = image.get("id") if isinstance(image, dict) else image
    return url if verdict.verified and isinstance(url, str) and _ORIGIN.match(url) and '"' not in url else None


def _badge(row: IssuedCredential | None, verdict: Verdict) -> str | None:
    """The credential's picture on our own site: its baked badge, else the achievement image it names."""
    if row is not None:
        return url_for("credentials_public.credential_svg", public_id=row.public_id)
    subject = verdict.credential.get("credentialSubject") if verdict.credential else None
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    image = achievement.get("image") if isinstance(achievement, dict) else None
    url = image.get("id") if isinstance(image, dict) else None
    base = services().settings.base_url.rstrip("/")
    if isinstance(url, str) and re.fullmatch(re.escape(base) + r"/achievements/[0-9A-Za-z_-]{1,32}/badge\.png", url):
        return url[len(base):]
    return None


def _matches(identity: story.Identity | None, email: str | None) -> bool | None:
    """Whether an e-mail address is the one the credential's identity hash protects (None: not asked)."""
    if identity is None or not email or not email.strip():
        return None
    hashed = HashedIdentity(identity.identity_hash, identity.salt, identity.identity_type)
    return hashed.matches(email) or hashed.matches(email.strip())  # as issued here, and as typed


def web_link(value: Any) -> str | None:
    """A URL of the credential that may become a link: http(s) only; anything else (javascript:, data:, a
    relative or scheme-less address) is shown as text."""
    return value if isinstance(value, str) and value[:8].lower().startswith(("http://", "https://")) else None
