"""`microcred platform`: register, list, activate, remove LMS platforms; invite Dynamic Registrations."""

from __future__ import annotations

import click

from lti_microcred.cli.common import command_services
from lti_microcred.core.db import transaction
from lti_microcred.credentials.issuing.institution_moves import ChangeRefused, move_platform
from lti_microcred.lti.institutions import InstitutionError, attach_platform, find_institution, institution_line


@click.group()
def platform() -> None:
    """Register, list, activate and remove LMS platforms."""


@platform.command("add")
@click.option("--issuer", required=True, help="The LMS issuer (Moodle: its wwwroot; Canvas: https://canvas.instructure.com).")
@click.option("--client-id", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, help="Known deployment ids (repeatable).")
@click.option("--auth-login-url", required=True, help="The LMS OIDC authorization endpoint.")
@click.option("--auth-token-url", required=True, help="The LMS OAuth2 token endpoint.")
@click.option("--key-set-url", required=True, help="The LMS public keyset (JWKS) URL.")
@click.option("--name", help="A name for admins (default: the issuer's host).")
@click.option("--audience", help="Token audience, when the LMS wants one other than the token URL.")
@click.option("--institution", "slug", help="The institution it belongs to (default: that of the same LMS, else the "
                                           "one at the host root).")
@click.option("--deployment-policy", type=click.Choice(["hold", "accept"]), default=None,
              help="What an unseen deployment gets (default: settings, normally hold).")
def platform_add(issuer: str, client_id: str, deployment_ids: tuple[str, ...], auth_login_url: str,
                 auth_token_url: str, key_set_url: str, name: str | None, audience: str | None,
                 deployment_policy: str | None, slug: str | None) -> None:
    """Register an LMS by hand (Moodle manual settings, Canvas developer key)."""
    from lti_microcred.lti.admin import AdminError, PlatformSpec, add_platform

    services = command_services()
    spec = PlatformSpec(issuer, client_id, auth_login_url, auth_token_url, key_set_url=key_set_url, name=name,
                        auth_audience=audience,
                        deployment_policy=deployment_policy or services.settings.default_deployment_policy)
    try:
        with transaction(services.sessions) as session:
            row = add_platform(session, spec, list(deployment_ids))
            if slug is not None:
                attach_platform(session, row.id, slug)
            click.echo(f"platform {row.id}: {row.issuer} client_id {row.client_id} ({row.status}); "
                       f"deployments: {', '.join(deployment_ids) or 'none yet'}; "
                       f"unseen deployments: {row.deployment_policy}")
            click.echo(institution_line(session, row))
    except (AdminError, InstitutionError) as exc:
        raise click.ClickException(str(exc)) from exc


@platform.command("list")
def platform_list() -> None:
    """Show every registration and its deployments."""
    from sqlalchemy import select

    from lti_microcred.lti.admin import list_platforms
    from lti_microcred.lti.models import Institution

    services = command_services()
    with transaction(services.sessions) as session:
        rows = list_platforms(session)
        slugs = dict(session.execute(select(Institution.id, Institution.slug)).tuples().all())
        if not rows:
            click.echo("no platforms registered")
        for p, deployments in rows:
            click.echo(f"{p.id:>4}  {p.status:<8} {p.name}  issuer={p.issuer}  client_id={p.client_id}  "
                       f"source={p.source}  unseen-deployments={p.deployment_policy}  "
                       f"institution={slugs.get(p.institution_id, p.institution_id)}")
            for d in deployments:
                click.echo(f"        deployment {d.lti_deployment_id!r}: {d.status}")


@platform.command("activate")
@click.argument("platform_id", type=int)
@click.option("--deployment", "deployment_id", help="Activate this deployment id instead of the platform.")
def platform_activate(platform_id: int, deployment_id: str | None) -> None:
    """Activate a pending registration, or a held deployment."""
    from lti_microcred.lti.admin import AdminError, activate

    services = command_services()
    try:
        with transaction(services.sessions) as session:
            click.echo(activate(session, platform_id, deployment_id))
    except AdminError as exc:
        raise click.ClickException(str(exc)) from exc


@platform.command("remove")
@click.argument("platform_id", type=int)
@click.confirmation_option(prompt="Remove this platform and every course, user and launch recorded under it?")
def platform_remove(platform_id: int) -> None:
    """Delete a registration and everything recorded under it."""
    from lti_microcred.lti.admin import AdminError, remove_platform

    services = command_services()
    try:
        with transaction(services.sessions) as session:
            click.echo(remove_platform(session, platform_id))
    except AdminError as exc:
        raise click.ClickException(str(exc)) from exc


@platform.command("move")
@click.argument("platform_id", type=int)
@click.option("--institution", "slug", required=True, help="The institution it moves to (see `microcred institution`).")
def platform_move(platform_id: int, slug: str) -> None:
    """Move a registration to another institution: its frameworks, courses and people go with it; credentials its
    courses issue from now on carry that institution's issuer (those already issued keep theirs)."""
    services = command_services()
    try:
        with transaction(services.sessions) as session:
            lines = move_platform(session, platform_id, slug, services.settings.base_url)
    except ChangeRefused as exc:
        raise click.ClickException(str(exc)) from exc
    services.issuer.invalidate()
    for line in lines:
        click.echo(line)


@platform.command("invite")
@click.option("--institution", "slug", help="The institution its registrations join (see `microcred institution`).")
def platform_invite(slug: str | None) -> None:
    """Print a Dynamic Registration URL whose registrations are active at once (valid for some hours)."""
    services = command_services()
    institution_id = None
    if slug is not None:
        try:
            with transaction(services.sessions) as session:
                institution_id = find_institution(session, slug).id
        except InstitutionError as exc:
            raise click.ClickException(str(exc)) from exc
    hours = services.settings.dynamic_registration_invite_hours
    click.echo(services.settings.url(f"/lti/register/{services.registrar.make_invite(institution_id)}"))
    click.echo(f"(valid for {hours} hours; registrations made without it wait for `microcred platform activate`)",
               err=True)
