"""The Alembic history: from empty to head and back, and the models match it (what `alembic check` checks)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from lti_microcred.app.schema import metadata
from lti_microcred.core.db import make_engine
from lti_microcred.core.migrate import alembic_config, is_current, upgrade


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    """A brand-new database on the backend under test."""
    url = os.environ.get("LTI_MICROCRED_TEST_DATABASE_URL")
    if not url:
        engine = make_engine(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
        yield engine
        engine.dispose()
        return
    name = f"microcred_mig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.rsplit("/", 1)[0] + "/" + name)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}"'))
    admin.dispose()


def test_upgrade_from_empty_then_models_match(empty_engine: Engine) -> None:
    assert not is_current(empty_engine)
    upgrade(empty_engine)
    assert is_current(empty_engine)
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_downgrade_to_base_and_up_again(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    config = alembic_config(empty_engine.url.render_as_string(hide_password=False))
    with empty_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_engine)
    assert "launch_sessions" in inspect(empty_engine).get_table_names()


def test_alembic_check_from_the_command_line_is_clean(tmp_path: Path) -> None:
    """What an operator runs from the repository root: `alembic upgrade head`, then `alembic check`."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTI_MICROCRED_")}
    env.update(LTI_MICROCRED_INSTANCE_PATH=str(tmp_path),
               LTI_MICROCRED_DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}")
    for args in (["upgrade", "head"], ["check"]):
        result = subprocess.run([sys.executable, "-m", "alembic", "-c", str(root / "alembic.ini"), *args], cwd=root,
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "No new upgrade operations detected" in result.stdout + result.stderr
    assert (tmp_path / "check.sqlite3").exists()


def test_institutions_arrive_without_changing_any_issuer(empty_engine: Engine) -> None:
    """What existed before institutions (one issuer, its keys, registrations, status lists) all joins the one
    institution at the host root, whose issuer stays did:web of the host with the same keys: every credential
    issued before keeps its issuer and keeps verifying."""
    from lti_microcred.core.crypto_box import SecretBox
    from lti_microcred.core.db import make_sessionmaker
    from lti_microcred.credentials.issuing.issuer import new_issuer_key
    from lti_microcred.credentials.issuing.issuer_state import Issuer

    config = alembic_config(empty_engine.url.render_as_string(hide_password=False))
    with empty_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
    box = SecretBox("a secret for this test only, long enough")
    keys = [new_issuer_key(box, algorithm, 0) for algorithm in ("Ed25519", "ES256")]
    with empty_engine.begin() as conn:
        now = "2026-11-30 10:00:00"
        conn.execute(text("INSERT INTO issuer_profiles (id, name, url, email, description, street_address, locality,"
                          " postal_code, country, image_url, created_dt, updated_dt) VALUES (1, 'Old University',"
                          " '', '', '', '', '', '', 'IE', '', :now, :now)"), {"now": now})
        for key in keys:
            conn.execute(text("INSERT INTO issuer_keys (algorithm, fragment, public_key, private_key_enc, status,"
                              " created_dt) VALUES (:a, :f, :p, :k, 'current', :now)"),
                         {"a": key.algorithm, "f": key.fragment, "p": key.public_key, "k": key.private_key_enc,
                          "now": now})
        conn.execute(text("INSERT INTO platforms (name, issuer, client_id, auth_login_url, auth_token_url, status,"
                          " deployment_policy, source, granted_scopes, created_dt, updated_dt) VALUES ('LMS',"
                          " 'https://lms.example', 'c', 'https://x', 'https://x', 'active', 'hold', 'manual', '',"
                          " :now, :now)"), {"now": now})
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        rows = conn.execute(text("SELECT id, slug, name, at_host_root FROM institutions")).all()
        assert [(r.slug, r.name, bool(r.at_host_root)) for r in rows] == [("default", "Old University", True)]
        for table in ("platforms", "issuer_profiles", "issuer_keys"):
            owners = conn.execute(text(f"SELECT DISTINCT institution_id FROM {table}")).scalars().all()  # noqa: S608
            assert owners == [rows[0].id], table
    state = Issuer(make_sessionmaker(empty_engine), box, "https://tool.example.edu").state()
    assert state.did == "did:web:tool.example.edu" and state.profile.name == "Old University"
    assert {f"did:web:tool.example.edu#{k.fragment}" for k in keys} == set(state.did_document["assertionMethod"])


# Revisions from here on may only add (README, "Upgrades"): old processes keep serving while the schema moves on.
ADDITIVE_SINCE = "0006"
NOT_ADDITIVE = ("drop_table", "drop_column", "drop_constraint", "rename_table", "alter_column", "execute")


def not_additive(script: Path) -> list[str]:
    """Calls in a revision's upgrade() that remove, rename, tighten or rewrite what old code relies on."""
    tree = ast.parse(script.read_text())
    upgrade_fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade")
    return [f"{script.name}:{node.lineno} {node.func.attr}" for node in ast.walk(upgrade_fn)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in NOT_ADDITIVE]


def test_new_revisions_only_add() -> None:
    from lti_microcred.core.migrate import MIGRATIONS

    scripts = [p for p in sorted((MIGRATIONS / "versions").glob("*.py")) if p.stem.split("_")[3] >= ADDITIVE_SINCE]
    assert scripts, "no revision is checked"
    assert [finding for script in scripts for finding in not_additive(script)] == []


def test_the_additive_check_finds_a_dropped_column(tmp_path: Path) -> None:
    script = tmp_path / "2027_01_01_0099_x.py"
    script.write_text("def upgrade():\n    with op.batch_alter_table('t') as b:\n        b.drop_column('c')\n")
    assert not_additive(script) == ["2027_01_01_0099_x.py:3 drop_column"]
