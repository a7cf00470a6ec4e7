"""The benchmarks' own PostgreSQL databases: created when missing, emptied before a run (the test suite's
`test` database is never touched)."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def ensure_database(url: str) -> None:
    """Create the database named at the end of `url` when the server does not have it yet."""
    base, name = url.rsplit("/", 1)
    name = name.split("?", 1)[0]
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def reset_postgres(url: str) -> None:
    """An existing, empty database: every run starts from the same state."""
    ensure_database(url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
