"""The tool installs from a built wheel, with no source checkout anywhere near it: the migrations, templates,
static files and JSON-LD contexts ship inside the package, and `microcred init` migrates an empty database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("lti_microcred/migrations/env.py", "lti_microcred/migrations/script.py.mako",
           "lti_microcred/web/templates/base.html", "lti_microcred/web/static/icon.svg",
           "lti_microcred/credentials/contexts/ob-v3p0-context-3.0.3.json")


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, ROOT, cwd=out)
    (built,) = out.glob("lti_microcred-*.whl")
    return built


def test_the_wheel_carries_what_the_tool_reads_at_run_time(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [n for n in SHIPPED if n not in names] == []
    assert any(n.startswith("lti_microcred/migrations/versions/") for n in names)
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


def test_a_fresh_venv_installs_the_wheel_and_initialises_an_empty_database(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    # The dependencies come from this environment's site-packages (read, never changed): the registry is not
    # asked for them again. That directory's .pth files are not processed, so our editable install stays out.
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
                .stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LTI_MICROCRED_", "PYTHON"))}
    env["LTI_MICROCRED_INSTANCE_PATH"] = str(tmp_path / "instance")
    where = run(python, "-c", "import lti_microcred; print(lti_microcred.__file__)", cwd=tmp_path, env=env)
    assert where.stdout.startswith(str(venv)), where.stdout
    init = run(venv / "bin" / "microcred", "init", cwd=tmp_path, env=env)
    assert "database migrated to the latest schema" in init.stdout
    with sqlite3.connect(tmp_path / "instance" / "microcred.sqlite3") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"alembic_version", "platforms", "launch_sessions", "issued_credentials"} <= tables
