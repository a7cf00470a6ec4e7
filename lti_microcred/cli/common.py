"""What every command group shares: services built from settings (and logging set up from them), with a
configuration error as a plain message instead of a traceback, and the URLs an LMS admin needs."""

from __future__ import annotations

from typing import Any

import click

from lti_microcred.app.setup import build_services
from lti_microcred.cli.database import announce, require_schema
from lti_microcred.core.config import ConfigError, Settings, load_settings
from lti_microcred.core.logs import configure_logging
from lti_microcred.services import Services


def command_services(*, migrated: bool = True, **overrides: Any) -> Services:
    """Says which database and settings it uses (stderr); unless `migrated` is False (`init`), refuses a database
    that is missing, unreachable or not migrated, before anything could create it."""
    try:
        settings = load_settings(overrides)
        announce(settings, overrides)
        if migrated:
            require_schema(settings)
        services = build_services(**overrides)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    configure_logging(services.settings)
    return services


def print_urls(settings: Settings) -> None:
    click.echo("Give these to the LMS:")
    for label, path in (("Registration URL (Dynamic Registration)", "/lti/register"),
                        ("Login initiation URL", "/lti/login"), ("Launch / redirect URL", "/lti/launch"),
                        ("Public keyset URL", "/lti/jwks"), ("Canvas JSON configuration", "/lti/config.json")):
        click.echo(f"  {label + ':':42} {settings.url(path)}")
