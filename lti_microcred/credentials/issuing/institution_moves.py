"""Moving a registration to another institution, and merging one institution into another (server commands).

What goes where: a registration takes its courses, people and competency frameworks with it (a framework belongs
to its registration); credentials its courses issue from then on carry the new institution's issuer. Credentials
already issued keep the issuer that signed them: its did:web document, keys and status lists stay published, so
they keep verifying and can still be revoked, suspended or reinstated. A merge removes the source institution, and
with it that issuer, only when it signed no credential; otherwise it is refused unless forced, and the forced merge
keeps the source's issuer published, with no registration left.
"""

from __future__ import annotations

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import Framework
from lti_microcred.credentials.issuing.issuer import issuer_did, profile_of
from lti_microcred.credentials.models import IssuedCredential, StatusList, StatusSlot
from lti_microcred.lti.models import SHARED_ISSUERS, Institution, Platform


class ChangeRefused(Exception):
    """A move or merge that is not done, with what to do instead. Nothing was changed."""


def _institution(session: Session, slug: str) -> Institution:
    found = session.scalars(select(Institution).where(Institution.slug == slug)).one_or_none()
    if found is None:
        raise ChangeRefused(f"no institution {slug!r} (see `microcred institution list`)")
    if profile_of(session, found.id) is None:
        raise ChangeRefused(f"institution {slug!r} has no issuer profile yet: run `microcred init`")
    return found


def _signed_under(session: Session, institution_id: int, platform_ids: list[int] | None = None) -> int:
    """Credentials signed by the institution's issuer (each holds entries in its status lists), optionally
    only those of some registrations' courses."""
    query = (select(func.count(distinct(StatusSlot.issued_credential_id)))
             .join(StatusList, StatusSlot.status_list_id == StatusList.id)
             .where(StatusList.institution_id == institution_id))
    if platform_ids is not None:
        query = query.join(IssuedCredential, IssuedCredential.id == StatusSlot.issued_credential_id).where(
            IssuedCredential.platform_id.in_(platform_ids))
    return int(session.scalar(query) or 0)


def _frameworks(session: Session, platform_ids: list[int]) -> int:
    return int(session.scalar(select(func.count()).select_from(Framework)
                              .where(Framework.platform_id.in_(platform_ids))) or 0)


def _named(institution: Institution) -> str:
    return f"{institution.slug} ({institution.name})"


def move_platform(session: Session, platform_id: int, slug: str, base_url: str) -> list[str]:
    """Move one registration to the institution `slug`; the lines say what happened to what."""
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise ChangeRefused(f"no platform {platform_id} (see `microcred platform list`)")
    target = _institution(session, slug)
    source = session.get(Institution, platform.institution_id)
    assert source is not None
    if source.id == target.id:
        raise ChangeRefused(f"platform {platform_id} already belongs to {_named(target)}")
    issued = _signed_under(session, source.id, [platform.id])
    platform.institution_id = target.id
    session.flush()
    lines = [f"platform {platform.id} ({platform.name}) now belongs to {_named(target)}, moved from {_named(source)}",
             f"its {_frameworks(session, [platform.id])} framework(s), courses and people go with it",
             f"credentials its courses issue from now on name {target.name} ({issuer_did(base_url, target)})"]
    if issued:
        lines.append(f"its {issued} credential(s) already issued keep {source.name} as issuer and keep verifying; "
                     f"revoking or suspending them still works; re-issuing one gives a credential in {target.name}'s "
                     "name")
    return lines + _left_behind(session, platform, source)


def _left_behind(session: Session, platform: Platform, source: Institution) -> list[str]:
    """Registrations of the same LMS that stay where they were (never on hosted Canvas: its issuer is shared)."""
    if platform.issuer in SHARED_ISSUERS:
        return []
    others = session.scalars(select(Platform.id).where(Platform.issuer == platform.issuer,
                                                       Platform.institution_id == source.id)).all()
    return [f"note: platform {other} is the same LMS ({platform.issuer}) and stays in {source.slug}: move it too, "
            f"or merge the institutions" for other in others]


def merge_institutions(session: Session, source_slug: str, target_slug: str, base_url: str,
                       force: bool = False) -> list[str]:
    """Move every registration of `source_slug` into `target_slug`, then remove the source if it signed no
    credential. Refused (nothing changed) for the institution at the host root, and, unless forced, for one
    whose issuer signed credentials."""
    source, target = _institution(session, source_slug), _institution(session, target_slug)
    if source.id == target.id:
        raise ChangeRefused(f"{source_slug} and {target_slug} are the same institution")
    if source.at_host_root:
        raise ChangeRefused(f"{_named(source)} is the institution at the host root ({issuer_did(base_url, source)}): "
                            f"its issuer stays; merge the other way: `microcred institution merge {target_slug} "
                            f"{source_slug}`")
    issued = _signed_under(session, source.id)
    if issued and not force:
        raise ChangeRefused(_refusal(source, target, issued, base_url))
    platform_ids = list(session.scalars(select(Platform.id).where(Platform.institution_id == source.id)))
    for platform in session.scalars(select(Platform).where(Platform.id.in_(platform_ids))):
        platform.institution_id = target.id
    session.flush()
    lines = [f"{len(platform_ids)} registration(s) moved from {_named(source)} to {_named(target)}: "
             f"{', '.join(map(str, platform_ids)) or 'none'}",
             f"their {_frameworks(session, platform_ids)} framework(s), courses and people go with them; their "
             f"courses issue new credentials in {target.name}'s name ({issuer_did(base_url, target)})"]
    return lines + (_kept(source, issued, base_url) if issued else _removed(session, source, base_url))


def _refusal(source: Institution, target: Institution, issued: int, base_url: str) -> str:
    return (f"{_named(source)} has issued {issued} credential(s) under its own issuer, {issuer_did(base_url, source)}: "
            f"they name {source.name} and are signed with its keys. Merging moves its registrations to "
            f"{_named(target)}, whose issuer then signs what their courses issue. With --force, {source.slug} stays "
            f"as an issuer without registrations: its DID document, keys and status lists stay published, so those "
            f"credentials keep verifying and can still be revoked or suspended; re-issuing one gives a credential "
            f"in {target.name}'s name. Nothing was changed.")


def _kept(source: Institution, issued: int, base_url: str) -> list[str]:
    did = issuer_did(base_url, source)
    return [f"{source.slug} keeps publishing its issuer ({did}) for the {issued} credential(s) it signed, with no "
            "registration left (`microcred institution list` shows it)"]


def _removed(session: Session, source: Institution, base_url: str) -> list[str]:
    did = issuer_did(base_url, source)
    session.delete(source)  # its issuer profile, keys and (empty) status lists go with it
    session.flush()
    return [f"{source.slug} issued no credential: it is removed, and its issuer {did} with it"]
