"""`microcred institution`: the tenants above LMS registrations, each issuing in its own name; creating one
and moving a registration to it are server commands, never an LMS admin's page."""

from __future__ import annotations

from collections.abc import Callable

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_microcred.app.setup import issuer_for_institution
from lti_microcred.cli.common import command_services
from lti_microcred.core.db import transaction
from lti_microcred.credentials.issuing.institution_moves import ChangeRefused, merge_institutions, move_platform
from lti_microcred.lti.institutions import InstitutionError, create_institution
from lti_microcred.lti.models import Institution, Platform


@click.group()
def institution() -> None:
    """Institutions: their issuer identity, and which LMS registrations belong to them."""


@institution.command("create")
@click.option("--slug", required=True, help="Lower-case letters, digits, hyphens: its did:web path.")
@click.option("--name", required=True, help="The name its credentials carry (`microcred issuer set` changes it).")
def institution_create(slug: str, name: str) -> None:
    """A new institution with its own issuer profile and signing keys."""
    services = command_services()
    try:
        with transaction(services.sessions) as session:
            row = create_institution(session, slug, name)
            issuer_for_institution(services, session, row.id)
    except InstitutionError as exc:
        raise click.ClickException(str(exc)) from exc
    services.issuer.invalidate()
    click.echo(f"institution {slug} created; its issuer is {services.issuer.state(row.id).did}")


@institution.command("list")
def institution_list() -> None:
    services = command_services()
    with transaction(services.sessions) as session:
        counts = dict(session.execute(select(Platform.institution_id, func.count(Platform.id))
                                      .group_by(Platform.institution_id)).tuples().all())
        for row in session.scalars(select(Institution).order_by(Institution.id)):
            click.echo(f"{row.slug:<24} {row.name}  ({counts.get(row.id, 0)} registration(s))"
                       + ("  [host root]" if row.at_host_root else ""))


@institution.command("attach")
@click.argument("platform_id", type=int)
@click.argument("slug")
def institution_attach(platform_id: int, slug: str) -> None:
    """Move a registration to an institution (as `microcred platform move ID --institution SLUG`)."""
    _changed(lambda session, base_url: move_platform(session, platform_id, slug, base_url))


@institution.command("merge")
@click.argument("source")
@click.argument("into")
@click.option("--force", is_flag=True, help="Merge even though SOURCE has issued credentials: SOURCE then stays as "
                                            "an issuer without registrations, so they keep verifying.")
def institution_merge(source: str, into: str, force: bool) -> None:
    """Move every registration of SOURCE into INTO, with their frameworks, courses and people, and remove SOURCE.
    Refused when SOURCE is the institution at the host root, or (unless --force) when it has issued credentials."""
    _changed(lambda session, base_url: merge_institutions(session, source, into, base_url, force=force))


def _changed(change: Callable[[Session, str], list[str]]) -> None:
    """One transaction: all of it or nothing, a refusal as a message (exit code 1)."""
    services = command_services()
    try:
        with transaction(services.sessions) as session:
            lines = change(session, services.settings.base_url)
    except ChangeRefused as exc:
        raise click.ClickException(str(exc)) from exc
    services.issuer.invalidate()
    for line in lines:
        click.echo(line)
