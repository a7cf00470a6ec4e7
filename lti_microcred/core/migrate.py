"""Schema migrations from code: `microcred init` and the test suite use the same Alembic scripts."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    if not MIGRATIONS.is_dir():
        raise RuntimeError(f"migrations not found at {MIGRATIONS}: the installed package is incomplete; reinstall it")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@functools.cache
def head_revision() -> str | None:
    """The newest migration this package ships (read once per process: the scripts do not change under it)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@functools.cache
def known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in ScriptDirectory.from_config(alembic_config("sqlite://"))
                     .walk_revisions())


def schema_state(revision: str | None) -> str:
    """"current"; "behind" (this code's migrations have not run); "ahead" (a newer release migrated it: during a
    rolling deploy the old processes keep serving, as migrations only add — README, "Upgrades")."""
    if revision == head_revision():
        return "current"
    return "ahead" if revision is not None and revision not in known_revisions() else "behind"


def is_current(engine: Engine) -> bool:
    with engine.connect() as connection:
        return current_revision(connection) == head_revision()


def can_serve(engine: Engine) -> bool:
    """The schema has what this code needs: current, or newer from a release rolling out."""
    with engine.connect() as connection:
        return schema_state(current_revision(connection)) != "behind"


@dataclass(frozen=True)
class DatabaseState:
    """What a command finds at the configured database before it uses it."""

    state: str  # missing (no SQLite file) | unreachable | behind | current | ahead
    revision: str | None = None
    detail: str = ""

    @property
    def usable(self) -> bool:
        return self.state in ("current", "ahead")


def inspect_database(url: str, connect_timeout: int = 5) -> DatabaseState:
    """Reach the database and read its schema revision, changing nothing: a SQLite file that does not exist is
    reported, not created, and the connection is closed again."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    path = parsed.database or ""
    if backend == "sqlite" and path and path != ":memory:" and not path.startswith("file:") \
            and not Path(path).is_file():
        return DatabaseState("missing", detail=f"no database at {path}")
    connect_args = {"connect_timeout": connect_timeout} if backend == "postgresql" else {}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            revision = current_revision(connection)
    except SQLAlchemyError as exc:
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        first_line = (str(cause).strip().splitlines() or [""])[0]
        return DatabaseState("unreachable", detail=f"{type(cause).__name__}: {first_line}"[:300])
    finally:
        engine.dispose()
    return DatabaseState(schema_state(revision), revision)
