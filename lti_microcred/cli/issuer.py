"""`microcred issuer`: an institution's issuer profile and keys, for administrators at the command line."""

from __future__ import annotations

import json

import click
from sqlalchemy.orm import Session

from lti_microcred.cli.common import command_services
from lti_microcred.core.db import transaction
from lti_microcred.credentials.issuing.issuer import (
    PROFILE_FIELDS,
    profile_form,
    profile_of,
    profile_problems,
    rotate_issuer_keys,
)
from lti_microcred.lti.institutions import InstitutionError, find_institution

INSTITUTION = click.option("--institution", "slug", help="The institution's slug (default: the one at the host root).")


@click.group()
def issuer() -> None:
    """An institution as credential issuer (did:web of this tool's host, or of a path below it)."""


@issuer.command("show")
@INSTITUTION
def issuer_show(slug: str | None) -> None:
    services = command_services()
    with transaction(services.sessions) as session:
        institution_id = _institution_id(session, slug)
    state = services.issuer.state(institution_id)
    click.echo(f"issuer id: {state.did}")
    click.echo(json.dumps({k: v for k, v in vars(state.profile).items() if v is not None}, indent=2, default=str))
    for method in state.did_document["verificationMethod"]:
        click.echo(f"key: {method['id']} ({method['type']})")


@issuer.command("set")
@INSTITUTION
@click.option("--name")
@click.option("--url", help="https://… web site")
@click.option("--email")
@click.option("--description")
@click.option("--street-address", "street_address")
@click.option("--locality", help="town or city")
@click.option("--postal-code", "postal_code")
@click.option("--country", help="two-letter code, e.g. IE")
@click.option("--image-url", "image_url", help="https://… logo")
@click.option("--brand-color", "brand_color", help="#RRGGBB: the colour of generated badge art")
@click.option("--linkedin-organization-id", "linkedin_organization_id", help="LinkedIn's number for the institution")
def issuer_set(slug: str | None, **values: str | None) -> None:
    """Change the issuer profile new credentials carry."""
    services = command_services()
    with transaction(services.sessions) as session:
        profile = profile_of(session, _institution_id(session, slug))
        if profile is None:
            raise click.ClickException("the issuer is not set up: run `microcred init`")
        # An option not given keeps the stored value; "" clears a field.
        form = profile_form({name: getattr(profile, name) if values.get(name) is None else values[name]
                             for name in PROFILE_FIELDS})
        problems = profile_problems(form)
        if problems:
            raise click.ClickException("; ".join(f"{k}: {v}" for k, v in problems.items()))
        for name in PROFILE_FIELDS:
            setattr(profile, name, form[name])
    click.echo("issuer profile saved")


@issuer.command("rotate-keys")
@INSTITUTION
def issuer_rotate(slug: str | None) -> None:
    """New signing keys; credentials already issued keep verifying with the retired ones."""
    services = command_services()
    with transaction(services.sessions) as session:
        fresh = rotate_issuer_keys(session, services.box, _institution_id(session, slug))
    click.echo("now signing with: " + ", ".join(f"{k.algorithm} #{k.fragment}" for k in fresh))


def _institution_id(session: Session, slug: str | None) -> int:
    try:
        return find_institution(session, slug).id
    except InstitutionError as exc:
        raise click.ClickException(str(exc)) from exc
