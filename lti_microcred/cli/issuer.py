"""`microcred issuer`: the credential issuer's profile and keys, for administrators at the command line."""

from __future__ import annotations

import json

import click

from lti_microcred.cli.common import command_services
from lti_microcred.core.db import transaction


@click.group()
def issuer() -> None:
    """The institution as credential issuer (did:web of this tool's host)."""


@issuer.command("show")
def issuer_show() -> None:
    services = command_services()
    state = services.issuer.state()
    click.echo(f"issuer id: {state.did}")
    click.echo(json.dumps({k: v for k, v in vars(state.profile).items() if v is not None}, indent=2, default=str))
    for method in state.did_document["verificationMethod"]:
        click.echo(f"key: {method['id']} ({method['type']})")


@issuer.command("set")
@click.option("--name")
@click.option("--url", help="https://… web site")
@click.option("--email")
@click.option("--description")
@click.option("--street-address", "street_address")
@click.option("--locality", help="town or city")
@click.option("--postal-code", "postal_code")
@click.option("--country", help="two-letter code, e.g. IE")
@click.option("--image-url", "image_url", help="https://… logo")
def issuer_set(**values: str | None) -> None:
    """Change the issuer profile new credentials carry."""
    from lti_microcred.credentials.issuing.issuer import PROFILE_FIELDS, profile_form, profile_problems
    from lti_microcred.credentials.models import IssuerProfile

    services = command_services()
    with transaction(services.sessions) as session:
        profile = session.get(IssuerProfile, 1)
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
def issuer_rotate() -> None:
    """New signing keys; credentials already issued keep verifying with the retired ones."""
    from lti_microcred.credentials.issuing.issuer import rotate_issuer_keys

    services = command_services()
    with transaction(services.sessions) as session:
        fresh = rotate_issuer_keys(session, services.box)
    click.echo("now signing with: " + ", ".join(f"{k.algorithm} #{k.fragment}" for k in fresh))
