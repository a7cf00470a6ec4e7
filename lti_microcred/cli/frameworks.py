"""`microcred framework`: import and list competency frameworks (CASE 1.1 JSON, Moodle CSV)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.cli.common import command_services
from lti_microcred.core.db import transaction

if TYPE_CHECKING:
    from lti_microcred.competencies.importers import ImportReport
    from lti_microcred.lti.models import Platform

ISSUER_HELP = "Issuer of the LMS registration that owns the framework (Moodle: its wwwroot)."
CLIENT_ID_HELP = "Client id of the registration, needed when several share the issuer (hosted Canvas)."


@click.group()
def framework() -> None:
    """Competency frameworks."""


def _platforms(session: Session, issuer: str, client_id: str | None) -> list[Platform]:
    from lti_microcred.lti.models import Platform

    query = select(Platform).where(Platform.issuer == issuer).order_by(Platform.id)
    if client_id is not None:
        query = query.where(Platform.client_id == client_id)
    found = list(session.scalars(query))
    if not found:
        which = f"issuer {issuer}" + (f" and client id {client_id}" if client_id is not None else "")
        raise click.ClickException(f"no LMS registration with {which}: see `microcred platform list`")
    return found


def _one_platform(session: Session, issuer: str, client_id: str | None) -> Platform:
    """The single registration meant; several under one issuer (hosted Canvas) need --client-id."""
    found = _platforms(session, issuer, client_id)
    if len(found) > 1:
        ids = ", ".join(p.client_id for p in found)
        raise click.ClickException(f"{len(found)} registrations share the issuer {issuer} (hosted Canvas gives every "
                                   f"institution the same issuer): say which one with --client-id ({ids})")
    return found[0]


def _read(path: Path, max_bytes: int) -> bytes:
    """At most one byte over the limit, so a huge file is refused without being read whole."""
    from lti_microcred.competencies.importers import check_size

    check_size(path.stat().st_size, max_bytes)
    with path.open("rb") as fh:
        return fh.read(max_bytes + 1)


@framework.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--issuer", required=True, help=ISSUER_HELP)
@click.option("--client-id", help=CLIENT_ID_HELP)
@click.option("--format", "fmt", type=click.Choice(["case", "moodle-csv"]),
              help="File format (default: detected from the content and the file name).")
def import_command(path: Path, issuer: str, client_id: str | None, fmt: str | None) -> None:
    """Import a framework, or update it in place when its identifier is already known."""
    from lti_microcred.competencies.audit import Actor
    from lti_microcred.competencies.importers import DEFAULT_MAX_BYTES, FrameworkImportError
    from lti_microcred.competencies.operations import import_competency_framework

    services = command_services()
    try:
        data = _read(path, DEFAULT_MAX_BYTES)
        with transaction(services.sessions) as session:
            platform = _one_platform(session, issuer, client_id)
            actor = Actor(platform.id, None, None, f"command line ({_os_user()})", "admin")
            report = import_competency_framework(session, actor, data, path.name, fmt)
            lines = _report_lines(report, platform)
    except FrameworkImportError as exc:
        listed = "\n".join(f"  {problem}" for problem in exc.problems)
        raise click.ClickException(f"{path.name}: {exc}\n{listed}") from exc
    for line in lines:
        click.echo(line)


def _os_user() -> str:
    """Who ran the command, as the audit trail names them (the server account: there is no LMS user)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "unknown user"


def _report_lines(report: ImportReport, platform: Platform) -> list[str]:
    from lti_microcred.competencies.importers import FORMAT_LABELS

    fw = report.framework
    verb = "created" if report.framework_created else "imported again"
    lines = [f"framework {fw.id} “{fw.title}” {verb} from {FORMAT_LABELS[report.source]} for platform {platform.id} "
             f"({platform.issuer}, client_id {platform.client_id})",
             f"  identifier: {fw.identifier}",
             f"  competencies: {report.created} created, {report.updated} updated, {report.unchanged} unchanged"]
    if report.retained:
        shown = ", ".join(report.retained[:20]) + (" …" if len(report.retained) > 20 else "")
        lines.append(f"  kept, no longer in the file ({len(report.retained)}): {shown}")
    lines.extend(f"  warning: {warning}" for warning in report.warnings)
    return lines


@framework.command("list")
@click.option("--issuer", help="Only the frameworks of the registrations with this issuer.")
@click.option("--client-id", help="Only the registration with this client id (with --issuer).")
def list_command(issuer: str | None, client_id: str | None) -> None:
    """Show every framework with its number of competencies and the registration that owns it."""
    from lti_microcred.competencies.importers.catalogue import framework_summaries
    from lti_microcred.lti.models import Platform

    services = command_services()
    with transaction(services.read_sessions) as session:
        if issuer:
            platforms = {p.id: p for p in _platforms(session, issuer, client_id)}
        else:
            platforms = {p.id: p for p in session.scalars(select(Platform))}
        summaries = [s for s in framework_summaries(session) if s.platform_id in platforms]
    if not summaries:
        click.echo("no frameworks imported" + (f" for {issuer}" if issuer else ""))
    for s in summaries:
        p = platforms[s.platform_id]
        click.echo(f"{s.id:>4}  {s.title}  competencies={s.competency_count}  platform={p.id} ({p.issuer} "
                   f"client_id={p.client_id})  source={s.source}  identifier={s.identifier}")
