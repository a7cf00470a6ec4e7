"""`microcred moodle-ratings`: rate learners' course competencies in Moodle's own competency framework.

Off unless enabled per registration with a Moodle web-service token, which is read from a file (never from the
command line, where other users and the shell history would see it) and stored sealed."""

from __future__ import annotations

import os
import stat
from typing import IO, Any

import click

from lti_microcred.cli.common import command_services
from lti_microcred.core.db import transaction


@click.group("moodle-ratings")
def moodle_ratings() -> None:
    """Competency ratings in Moodle: enable, disable, status, check, retry."""


@moodle_ratings.command("enable")
@click.argument("platform_id", type=int)
@click.option("--token-file", type=click.File("r"), required=True,
              help="A file holding the Moodle web-service token alone (- reads it from standard input).")
@click.option("--moodle-url", help="Moodle's address (its wwwroot), when it is not the registration's issuer.")
def enable_command(platform_id: int, token_file: IO[str], moodle_url: str | None) -> None:
    """Store the token (sealed) for a Moodle registration and start rating."""
    from lti_microcred.lms.moodle import admin

    _warn_if_readable(token_file)
    services = command_services()
    try:
        with transaction(services.sessions) as session:
            row = admin.enable(session, admin.token_box(services.settings), platform_id, token_file.read(),
                               moodle_url, https_only=services.settings.is_production)
            click.echo(f"platform {platform_id}: competency ratings enabled, Moodle at {row.base_url} "
                       "(token stored sealed)")
    except admin.RatingsAdminError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Check the token with: microcred moodle-ratings check {platform_id}")


def _warn_if_readable(token_file: IO[str]) -> None:
    name = getattr(token_file, "name", "-")
    if name not in ("-", "<stdin>") and os.path.exists(name) and os.stat(name).st_mode & (stat.S_IRGRP | stat.S_IROTH):
        click.echo(f"warning: {name} is readable by other users; delete it once the token is stored", err=True)


@moodle_ratings.command("disable")
@click.argument("platform_id", type=int)
@click.option("--forget-token", is_flag=True, help="Also erase the stored token.")
def disable_command(platform_id: int, forget_token: bool) -> None:
    """Stop rating (ratings queued meanwhile are not sent)."""
    from lti_microcred.lms.moodle import admin

    services = command_services()
    try:
        with transaction(services.sessions) as session:
            admin.disable(session, platform_id, forget_token)
    except admin.RatingsAdminError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"platform {platform_id}: competency ratings disabled" + ("; token erased" if forget_token else ""))


@moodle_ratings.command("status")
@click.argument("platform_id", type=int, required=False)
def status_command(platform_id: int | None) -> None:
    """Per registration and course: what was rated in Moodle, what waits, what failed and why."""
    from sqlalchemy import select

    from lti_microcred.lms.moodle.models import MoodleRatingSettings

    services = command_services()
    with services.read_sessions() as session:
        query = select(MoodleRatingSettings).order_by(MoodleRatingSettings.platform_id)
        if platform_id is not None:
            query = query.where(MoodleRatingSettings.platform_id == platform_id)
        rows = list(session.scalars(query))
        if not rows:
            click.echo("competency ratings are not enabled for " + (f"platform {platform_id}" if platform_id
                                                                     else "any platform"))
        for row in rows:
            for line in status_lines(session, row):
                click.echo(line)


def status_lines(session: Any, row: Any) -> list[str]:
    from lti_microcred.lms.moodle.state import platform_summary
    from lti_microcred.lms.moodle.webservice import service_url

    lines = [f"platform {row.platform_id}: competency ratings {'enabled' if row.enabled else 'disabled'}; "
             f"Moodle web service {service_url(row.base_url)}; token {'stored (sealed)' if row.token_enc else 'none'}"
             + (f"; token checked {_when(row.checked_dt)}" if row.checked_dt else "")]
    if row.last_error:
        lines.append(f"  problem for an administrator ({_when(row.last_error_dt)}): {row.last_error}")
    courses = platform_summary(session, row.platform_id)
    if not courses:
        lines.append("  nothing rated yet")
    for course in courses:
        counts = ", ".join(f"{course.counts.get(state, 0)} {label}" for state, label in (
            ("sent", "rated"), ("queued", "queued"), ("retrying", "retrying"), ("failed", "failed")))
        last = f"; last rated {_when(course.last_rated_dt)}" if course.last_rated_dt else ""
        lines.append(f"  course {course.title!r} (Moodle course id {course.course_id}): {counts}{last}")
        for failed in course.failures:
            lines.append(f"    failed: {failed.learner} (Moodle user {failed.moodle_user}), {failed.idnumber} "
                         f"{failed.competency!r} ({failed.status}): {failed.error}")
    return lines


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


@moodle_ratings.command("check")
@click.argument("platform_id", type=int)
def check_command(platform_id: int) -> None:
    """Call core_webservice_get_site_info with the stored token: whose it is, which needed functions it allows."""
    from lti_microcred.lms.errors import ServiceError
    from lti_microcred.lms.moodle import admin

    services = command_services()
    with services.read_sessions() as session:
        row = admin.settings_of(session, platform_id)
    if row is None:
        raise click.ClickException(f"competency ratings were never enabled for platform {platform_id}")
    try:
        report = admin.check(services.http, admin.token_box(services.settings), row)
    except ServiceError as exc:
        _record(services, platform_id, str(exc))
        raise click.ClickException(f"the token does not work: {exc}") from exc
    click.echo(f"Moodle site {report.site!r} ({report.release}); the token is {report.user!r} (user id "
               f"{report.user_id})")
    for function in report.allowed:
        click.echo(f"  allowed  {function}")
    for function in report.missing:
        click.echo(f"  MISSING  {function}")
    problem = (f"the token's external service lacks {', '.join(report.missing)}: add them to the service"
               if report.missing else None)
    _record(services, platform_id, problem)
    if problem:
        raise click.ClickException(problem)
    click.echo("The token works and its service has every function the ratings need.")


def _record(services: Any, platform_id: int, problem: str | None) -> None:
    from lti_microcred.lms.moodle.admin import record_problem

    with transaction(services.sessions) as session:
        record_problem(session, platform_id, problem)


@moodle_ratings.command("retry")
@click.argument("platform_id", type=int)
def retry_command(platform_id: int) -> None:
    """Send the failed ratings of a registration again (after fixing the token, a role or a course)."""
    from lti_microcred.lms.moodle.admin import retry_failed

    services = command_services()
    with transaction(services.sessions) as session:
        count = retry_failed(session, platform_id)
    click.echo(f"{count} failed rating{'' if count == 1 else 's'} queued again" if count else "nothing had failed")
