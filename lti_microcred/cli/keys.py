"""`microcred keys`: the tool's LTI signing keys, listed and rotated."""

from __future__ import annotations

import click

from lti_microcred.cli.common import command_services
from lti_microcred.core.db import transaction


@click.group()
def keys() -> None:
    """The tool's signing keys."""


@keys.command("list")
def keys_list() -> None:
    from sqlalchemy import select

    from lti_microcred.lti.models import ToolKey

    services = command_services()
    with transaction(services.sessions) as session:
        for key in session.scalars(select(ToolKey).order_by(ToolKey.id)):
            when = key.retired_dt or key.activated_dt or key.created_dt
            click.echo(f"{key.kid}  {key.status:<8} since {when:%Y-%m-%d %H:%M} UTC")


@keys.command("rotate")
def keys_rotate() -> None:
    """Promote the published next key to signing; the old key stays published until its tokens expire."""
    from lti_microcred.lti.keys import rotate_keys

    services = command_services()
    with transaction(services.sessions) as session:
        current, retired = rotate_keys(session, services.box)
        click.echo(f"signing with {current.kid}" + (f"; {retired.kid} retired" if retired else ""))
