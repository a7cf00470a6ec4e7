"""The tool installs from a built wheel, with no source checkout anywhere near it: `python -m build` makes the
sdist and, from it, the wheel; the migrations, templates, static files and JSON-LD contexts ship inside the
package; `microcred init` migrates an empty database and `microcred run` serves it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

pytestmark = pytest.mark.sqlite_leg  # a release does not depend on the database under test
ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("lti_microcred/migrations/env.py", "lti_microcred/migrations/script.py.mako",
           "lti_microcred/web/templates/base.html", "lti_microcred/web/static/icon.svg",
           "lti_microcred/credentials/contexts/ob-v3p0-context-3.0.3.json",
           "lti_microcred/credentials/images/fonts/DejaVuSans-Bold.ttf")


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a release is: `python -m build` makes the sdist, then the wheel from that sdist (so the sdist is
    proven complete), each in an isolated build environment."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=out)
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (built,) = dist.glob("lti_microcred-*.whl")
    return built


def test_the_sdist_carries_the_sources_and_no_local_state(dist: Path) -> None:
    (sdist,) = dist.glob("lti_microcred-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", *SHIPPED} <= names
    assert not [n for n in names if n.endswith((".sqlite3", ".pem", ".key")) or n.startswith("instance/")]


def test_the_wheel_carries_what_the_tool_reads_at_run_time(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [n for n in SHIPPED if n not in names] == []
    assert any(n.startswith("lti_microcred/migrations/versions/") for n in names)
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


@pytest.fixture
def installed(wheel: Path, tmp_path: Path) -> Path:
    """A fresh venv holding the wheel; returns the venv."""
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    # The dependencies come from this environment's site-packages (read, never changed): the registry is not
    # asked for them again. That directory's .pth files are not processed, so our editable install stays out.
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
                .stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def clean_env(tmp_path: Path, venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LTI_MICROCRED_", "PYTHON", "VIRTUAL_ENV"))}
    env["LTI_MICROCRED_INSTANCE_PATH"] = str(tmp_path / "instance")
    # uWSGI is a compiled dependency: its binary comes from this environment, its Python home is the new venv.
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def test_a_fresh_venv_installs_the_wheel_and_initialises_an_empty_database(installed: Path, tmp_path: Path) -> None:
    venv = installed
    env = clean_env(tmp_path, venv)
    where = run(venv / "bin" / "python", "-c", "import lti_microcred; print(lti_microcred.__file__)",
                cwd=tmp_path, env=env)
    assert where.stdout.startswith(str(venv)), where.stdout
    init = run(venv / "bin" / "microcred", "init", cwd=tmp_path, env=env)
    assert "database migrated to the latest schema" in init.stdout
    with sqlite3.connect(tmp_path / "instance" / "microcred.sqlite3") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"alembic_version", "platforms", "launch_sessions", "issued_credentials"} <= tables


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[str]:
    """`microcred init` then `microcred run` from the installed wheel, in a directory with no sources."""
    env = clean_env(tmp_path, installed)
    run(installed / "bin" / "microcred", "init", cwd=tmp_path, env=env)
    port = free_port()
    server = subprocess.Popen([str(installed / "bin" / "microcred"), "run", "--port", str(port), "--workers", "1"],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_installed_wheel_runs_and_reports_ready(served: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = requests.get(served + "/ready", timeout=5)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "microcred run did not answer within 60 s"
            time.sleep(0.3)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ok"
    assert "Micro-credentials" in requests.get(served + "/", timeout=5).text
