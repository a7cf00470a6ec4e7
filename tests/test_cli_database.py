"""Every command says which database and settings it uses, and one run without the server's settings (or before
`microcred init`) is refused with a message: exit code 1, no traceback, and no database file made on the way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import microcred

NEEDS_DATABASE = [("platform", "list"), ("keys", "list"), ("institution", "list"), ("issuer", "show"),
                  ("framework", "list"), ("worker", "--drain"), ("platform", "invite")]


@pytest.mark.parametrize("command", NEEDS_DATABASE, ids=" ".join)
def test_a_command_before_init_is_refused_and_makes_no_database(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = microcred(tmp_path, *command)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "no such table" not in result.stderr
    database = tmp_path / "instance" / "microcred.sqlite3"
    assert f"database: sqlite:///{database}" in result.stderr
    assert "settings: no settings file" in result.stderr
    assert "microcred init" in result.stderr and "no database" in result.stderr
    assert not database.exists() and not (tmp_path / "instance").exists()


def test_an_empty_database_is_not_migrated(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    result = microcred(tmp_path, "platform", "list", env={"LTI_MICROCRED_DATABASE_URL": f"sqlite:///{empty}"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "is not migrated" in result.stderr and "microcred init" in result.stderr


def test_the_database_line_hides_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://microcred:s3cret-pw@127.0.0.1:9/microcred"
    result = microcred(tmp_path, "platform", "list", env={"LTI_MICROCRED_DATABASE_URL": url})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout
    assert "database: postgresql+psycopg://microcred:***@127.0.0.1:9/microcred" in result.stderr
    assert "cannot reach the database" in result.stderr
    assert "environment (LTI_MICROCRED_DATABASE_URL, LTI_MICROCRED_INSTANCE_PATH)" in result.stderr


def test_an_initialised_instance_names_its_settings_file(tmp_path: Path) -> None:
    assert microcred(tmp_path, "init").returncode == 0
    result = microcred(tmp_path, "platform", "list")
    assert result.returncode == 0, result.stderr
    assert f"settings: {tmp_path / 'instance' / 'microcred.toml'}" in result.stderr
    assert result.stdout.strip() == "no platforms registered"  # the line goes to stderr, the answer to stdout


@pytest.mark.parametrize("command", [("canvas-config",), ("init",)], ids=" ".join)
def test_init_and_canvas_config_work_without_a_database(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = microcred(tmp_path, *command)
    assert result.returncode == 0, result.stderr
    assert "settings:" in result.stderr
