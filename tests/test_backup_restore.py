"""Backups as the README tells an operator to take them: a dump of the database restored into a NEW database,
`microcred init` run on it as after any restore, a credential issued before the backup verifies there, and
the same secret (the key-encryption key) lets the restored tool sign what it issues next."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

from lti_microcred.app.factory import create_app
from lti_microcred.app.setup import initialise
from lti_microcred.core.config import load_settings
from lti_microcred.services import Services
from tests.issuing.test_public_urls import issued
from tests.support.databases import create_test_database, drop_test_database, server_url


def libpq(url: str) -> str:
    """pg_dump and pg_restore take libpq's URL, without SQLAlchemy's driver name."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def dump_and_restore(source_url: str, tmp_path: Path) -> Iterator[str]:
    """The README's commands: pg_dump/pg_restore on PostgreSQL, sqlite3's online .backup on SQLite."""
    server = server_url()
    if server is None:
        copy = tmp_path / "restored.sqlite3"
        with sqlite3.connect(make_url(source_url).database or "") as live, sqlite3.connect(copy) as target:
            live.backup(target)
        yield f"sqlite:///{copy}"
        return
    dump = tmp_path / "microcred.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", libpq(source_url)],
                   check=True, timeout=120)
    restored = create_test_database(server)
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq(restored)}", str(dump)],
                       check=True, timeout=120)
        yield restored
    finally:
        drop_test_database(server, restored)


@pytest.fixture
def backed_up(services: Services, settings_overrides: dict[str, Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A credential issued, then the database backed up and restored into a new one, served by its own app."""
    before = issued(services)
    with dump_and_restore(services.settings.resolved_database_url, tmp_path) as url:
        restored = Services.from_settings(load_settings({**settings_overrides, "database_url": url}, environ={}))
        try:
            yield {"credential": before, "services": restored}
        finally:
            restored.engine.dispose()


def test_a_restored_dump_verifies_a_credential_issued_before_it(services: Services,
                                                                backed_up: dict[str, Any]) -> None:
    restored: Services = backed_up["services"]
    assert restored.settings.resolved_database_url != services.settings.resolved_database_url
    steps = initialise(restored)  # what the README says to run after a restore: migrations, nothing new made
    assert steps == ["database migrated to the latest schema"], steps
    client = create_app(services=restored).test_client()
    public_id = backed_up["credential"]["public_id"]
    credential = client.get(f"/credentials/{public_id}.json")
    assert credential.status_code == 200
    verdict = client.post("/api/verify", data=credential.data, content_type="application/json").get_json()
    assert verdict["verified"] is True, json.dumps(verdict)[:500]


def test_the_restored_tool_signs_new_credentials_with_the_same_secret(backed_up: dict[str, Any]) -> None:
    restored: Services = backed_up["services"]
    after = issued(restored)
    client = create_app(services=restored).test_client()
    credential = client.get(f"/credentials/{after['public_id']}.json")
    verdict = client.post("/api/verify", data=credential.data, content_type="application/json").get_json()
    assert verdict["verified"] is True, json.dumps(verdict)[:500]
