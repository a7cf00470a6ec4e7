"""What every command group shares: services built from settings, with a configuration error as a plain
message instead of a traceback, and the URLs an LMS admin needs."""

from __future__ import annotations

from typing import Any

import click

from lti_microcred.app.setup import build_services
from lti_microcred.core.config import ConfigError, Settings
from lti_microcred.services import Services


def command_services(**overrides: Any) -> Services:
    try:
        return build_services(**overrides)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


def print_urls(settings: Settings) -> None:
    click.echo("Give these to the LMS:")
    for label, path in (("Registration URL (Dynamic Registration)", "/lti/register"),
                        ("Login initiation URL", "/lti/login"), ("Launch / redirect URL", "/lti/launch"),
                        ("Public keyset URL", "/lti/jwks"), ("Canvas JSON configuration", "/lti/config.json")):
        click.echo(f"  {label + ':':42} {settings.url(path)}")
