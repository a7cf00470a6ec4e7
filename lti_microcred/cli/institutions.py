"""`microcred institution`: the tenants above LMS registrations, each issuing in its own name; creating one
and moving a registration to it are server commands, never an LMS admin's page."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from lti_microcred.app.setup import issuer_for_institution
from lti_microcred.cli.common import command_services
from lti_microcred.core.db import transaction
from lti_microcred.lti.institutions import InstitutionError, attach_platform, create_institution
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
    """Move a registration to an institution: credentials its courses issue from now on carry that issuer
    (credentials already issued keep theirs, and keep verifying)."""
    services = command_services()
    try:
        with transaction(services.sessions) as session:
            click.echo(attach_platform(session, platform_id, slug))
    except InstitutionError as exc:
        raise click.ClickException(str(exc)) from exc
