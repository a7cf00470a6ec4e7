"""The benchmarks' own PostgreSQL databases: created when missing and marked as theirs, emptied before a run.
A database the benchmarks did not create (no mark) is never emptied: the run stops and says so."""

from __future__ import annotations

from sqlalchemy import create_engine, text

MARK = "lti_microcred benchmark scratch database: emptied before every benchmark run"


class NotOurs(RuntimeError):
    """The named database exists but the benchmarks did not create it."""


def ensure_database(url: str) -> None:
    """Create the database named at the end of `url` (marked as the benchmarks') when the server lacks it;
    refuse an existing one without the mark."""
    base, name = url.rsplit("/", 1)
    name = name.split("?", 1)[0]
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{MARK}'"))
            mark = conn.execute(text("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                     "WHERE datname = :n"), {"n": name}).scalar()
            if mark != MARK:
                raise NotOurs(f"database {name!r} exists and was not created by the benchmarks: not emptying it "
                              "(name another database, or drop this one yourself)")
    finally:
        admin.dispose()


def reset_postgres(url: str) -> None:
    """An empty database of the benchmarks' own: every run starts from the same state."""
    ensure_database(url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
