"""What a command says before it works (one line on stderr: the database, password hidden, and where the
settings came from), and its refusal to work on a database that is missing, unreachable or not migrated."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from sqlalchemy import make_url

from lti_microcred.core.config import (
    ENV_PREFIX,
    SETTINGS_FILE_NAME,
    SITE_SETTINGS_FILE,
    Settings,
    instance_folder,
    site_settings,
)
from lti_microcred.core.migrate import head_revision, inspect_database


def shown_database(settings: Settings) -> str:
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def settings_sources(overrides: Mapping[str, Any] | None = None) -> str:
    """The settings files read (site file, instance file) and the LTI_MICROCRED_ variables set (names only)."""
    files = [str(SITE_SETTINGS_FILE.resolve())] if SITE_SETTINGS_FILE.is_file() else []
    explicit = os.environ.get(ENV_PREFIX + "CONFIG")
    instance_file = Path(explicit or Path(instance_folder(os.environ, overrides, site_settings())) / SETTINGS_FILE_NAME)
    if explicit or instance_file.is_file():
        files.append(str(instance_file.resolve()))
    names = {f.name for f in dataclasses.fields(Settings)}
    variables = sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k[len(ENV_PREFIX):].lower() in names)
    described = ", ".join(files) or "no settings file"
    return described + (f" + environment ({', '.join(variables)})" if variables else "")


def announce(settings: Settings, overrides: Mapping[str, Any] | None = None, database: bool = True) -> None:
    """One line on stderr, so what a command prints on stdout stays the answer alone."""
    parts = [f"database: {shown_database(settings)}"] if database else []
    click.echo("microcred: " + " · ".join([*parts, f"settings: {settings_sources(overrides)}"]), err=True)


def require_schema(settings: Settings) -> None:
    """Refuse (exit code 1, nothing created) unless the database is there, answers and has this code's schema
    (or a newer release's, which only adds)."""
    found = inspect_database(settings.resolved_database_url)
    if found.usable:
        return
    if found.state == "missing":
        raise click.ClickException(f"{found.detail}: run `microcred init` with these settings first, or point "
                                   f"{ENV_PREFIX}DATABASE_URL (or {ENV_PREFIX}CONFIG) at the server's")
    if found.state == "unreachable":
        raise click.ClickException(f"cannot reach the database: {found.detail}")
    raise click.ClickException(f"the database is not migrated (schema {found.revision or 'empty'}, this version "
                               f"needs {head_revision()}): run `microcred init` first")


def require_reachable(settings: Settings) -> None:
    """For `init`, which makes a missing database: refuse only one that does not answer."""
    found = inspect_database(settings.resolved_database_url)
    if found.state == "unreachable":
        raise click.ClickException(f"cannot reach the database: {found.detail}")
