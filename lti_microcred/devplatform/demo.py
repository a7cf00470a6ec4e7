"""`microcred demo`: the tool and a loopback LMS side by side, so a launch can be seen without an LMS.

The tool answers on 127.0.0.1:PORT and the LMS on localhost:PORT+1: two sites, so the tool really runs
in a cross-site iframe, as it does under Moodle or Canvas.
"""

from __future__ import annotations

import threading
from typing import Any

import click
from werkzeug.serving import make_server

from lti_microcred.app.factory import create_app
from lti_microcred.app.setup import ensure_secret, initialise
from lti_microcred.cli.common import print_urls
from lti_microcred.core.config import ConfigError, load_settings
from lti_microcred.core.db import transaction
from lti_microcred.core.logs import configure_logging
from lti_microcred.devplatform.app import create_platform_app
from lti_microcred.devplatform.data import DevPlatformSetup
from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.devplatform.seed import seed_demo
from lti_microcred.lti.admin import PlatformSpec, add_platform
from lti_microcred.services import Services


def register_dev_platform(services: Services, platform: DevPlatform) -> int:
    """Record the loopback LMS as a registered platform (idempotent) and return its id."""
    spec = PlatformSpec(
        issuer=platform.issuer, client_id=platform.setup.client_id, auth_login_url=platform.url("/auth"),
        auth_token_url=platform.url("/token"), key_set_url=platform.url("/jwks"),
        name=f"Demo {platform.setup.flavour.capitalize()} (local)", deployment_policy="hold", source="demo",
    )
    with transaction(services.sessions) as session:
        row = add_platform(session, spec, [platform.setup.deployment_id])
        return row.id


def start_in_thread(app: Any, host: str, port: int) -> Any:
    server = make_server(host, port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name=f"http-{port}", daemon=True).start()
    return server


def run_demo(port: int, flavour: str = "canvas") -> None:
    tool_url, lms_url = f"http://127.0.0.1:{port}", f"http://localhost:{port + 1}"
    if load_settings().is_production:
        raise ConfigError("the demo LMS is not for production; unset LTI_MICROCRED_ENV=production")
    ensure_secret()
    services = Services.from_settings(load_settings({"base_url": tool_url}))
    initialise(services)
    platform = DevPlatform(DevPlatformSetup(base_url=lms_url, tool_base_url=tool_url, flavour=flavour))
    platform_id = register_dev_platform(services, platform)
    verify_url = seed_demo(services, platform_id, platform)
    configure_logging(services.settings)  # the demo LMS's lines too, in the tool's format
    start_in_thread(create_platform_app(platform), "127.0.0.1", port + 1)
    tool = make_server("127.0.0.1", port, create_app(services=services), threaded=True)
    click.echo(f"\nThe tool runs at {tool_url}  (database: {services.settings.resolved_database_url})")
    print_urls(services.settings)
    click.echo(f"A demo LMS ({flavour}) runs at {lms_url}  (registered as platform {platform_id})\n")
    click.echo("Open in a browser:")
    click.echo(f"  Learner launch:                 {lms_url}/launch?user=learner-1")
    click.echo(f"  Instructor launch:              {lms_url}/launch?user=instructor-1")
    click.echo(f"  Instructor adds a module (Deep Linking): {lms_url}/launch?user=instructor-1&dl=1")
    click.echo(f"  The demo course page:           {lms_url}/")
    click.echo(f"  Lea's signed credential, as an employer sees it: {verify_url}\n")
    click.echo("Press Ctrl+C to stop.")
    try:
        tool.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
