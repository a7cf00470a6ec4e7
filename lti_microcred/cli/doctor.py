"""`microcred doctor`: is this tool set up to work? One line per check, a summary, exit code 1 when one fails."""

from __future__ import annotations

import sys

import click

from lti_microcred.app.diagnostics import (
    Check,
    database_check,
    issuer_keys_check,
    settings_check,
    tool_keys_check,
)
from lti_microcred.app.reachability import base_url_check, doctor_http, registration_checks
from lti_microcred.app.setup import build_services
from lti_microcred.cli.database import announce

NEEDS_DATABASE = ("tool keys", "issuer keys", "platforms")


@click.command("doctor")
@click.option("--tokens", is_flag=True, help="Also ask each active LMS for an access token (a real token request; "
                                             "without it the token endpoint is only checked to answer).")
def doctor(tokens: bool) -> None:
    """Check the settings, the database, the keys, that BASE_URL answers from here and each LMS's endpoints."""
    checks = list(_checks(tokens))
    for check in checks:
        click.echo(f"{check.outcome:<5} {check.name:<22} {check.detail}")
    counts = {outcome: sum(c.outcome == outcome for c in checks) for outcome in ("ok", "warn", "fail", "skip")}
    click.echo("summary: " + ", ".join(f"{n} {outcome}" for outcome, n in counts.items()))
    sys.exit(1 if counts["fail"] else 0)


def _checks(tokens: bool) -> list[Check]:
    settings_result, settings = settings_check()
    if settings is None:
        return [settings_result, *(Check("skip", name, "needs valid settings") for name in ("database",
                                                                                          *NEEDS_DATABASE))]
    announce(settings)
    database, state = database_check(settings)
    http = doctor_http(settings)
    found = [settings_result, database]
    if not state.usable:
        found += [Check("skip", name, "needs a migrated database") for name in NEEDS_DATABASE]
        return [*found, base_url_check(settings, http)]
    services = build_services()
    try:
        found += [tool_keys_check(services), issuer_keys_check(services), base_url_check(settings, http)]
        found += registration_checks(services, http, tokens)
    finally:
        services.engine.dispose()
    return found
