"""`microcred init`, `run`, `demo` and `canvas-config`: set up the database and keys, serve the tool."""

from __future__ import annotations

import json

import click

from lti_microcred.app.setup import ensure_secret, initialise
from lti_microcred.cli.common import command_services, print_urls
from lti_microcred.cli.database import announce, require_reachable
from lti_microcred.core.config import ConfigError, load_settings


@click.command()
def init() -> None:
    """Create the settings file (secret), migrate the database, generate the tool's keys."""
    try:
        written = ensure_secret()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    if written:
        click.echo(f"secret key written to {written}")
    services = command_services(migrated=False)
    require_reachable(services.settings)
    for line in initialise(services):
        click.echo(line)
    click.echo(f"database: {services.engine.url.render_as_string(hide_password=True)}")
    print_urls(services.settings)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=0, type=int, help="Worker processes (default: settings, else CPUs + 1).")
def run(host: str, port: int, workers: int) -> None:
    """Serve the tool with uWSGI (several processes, threads, an outbox delivery thread in each)."""
    from lti_microcred.app.server import serve
    from lti_microcred.core.migrate import can_serve

    services = command_services()
    if not can_serve(services.engine):
        raise click.ClickException("the database is not at this version's schema: run `microcred init` first")
    print_urls(services.settings)
    services.engine.dispose()
    settings = services.settings
    serve(host, port, workers or settings.workers, settings.threads,
          settings.resolved_metrics_dir if settings.metrics_token else None, log_format=settings.log_format)


@click.command("canvas-config")
@click.option("--base-url", help="Public URL of the tool (default: settings); tool.json uses a placeholder.")
def canvas_config_command(base_url: str | None) -> None:
    """Print the Canvas developer-key JSON."""
    from lti_microcred.lti.canvas_config import canvas_config

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    announce(settings, database=False)
    click.echo(json.dumps(canvas_config(base_url or settings.base_url, settings.tool_name), indent=2))


@click.command()
@click.option("--port", default=8000, show_default=True, type=int, help="Tool port; the demo LMS uses PORT+1.")
def demo(port: int) -> None:
    """Run the tool with a local demo LMS, on SQLite, and print launch links."""
    from lti_microcred.devplatform.demo import run_demo

    try:
        announce(load_settings({"base_url": f"http://127.0.0.1:{port}"}))
        run_demo(port)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
