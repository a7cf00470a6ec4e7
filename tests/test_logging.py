"""Secrets that travel in paths (a session /s/<token>, a supervisor's /attest/<token>, an invitation
/lti/register/<invite>) never reach a log: the refusal log and uWSGI's request log name them by a hash prefix."""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from lti_microcred.services import Services
from tests.conftest import TEST_SECRET, free_port

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lti_microcred"


def prefix(token: str) -> str:
    return "~" + hashlib.sha256(token.encode()).hexdigest()[:8]


def secret_paths() -> dict[str, str]:
    """path -> the secret it carries"""
    session, link, invite = (secrets.token_urlsafe(32) for _ in range(3))
    return {f"/s/{session}/matrix/": session, f"/attest/{link}": link, f"/lti/register/{invite}": invite}


def test_the_refusal_log_names_a_session_by_its_hash_prefix(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    token = secrets.token_urlsafe(32)
    with caplog.at_level(logging.INFO, logger="lti_microcred"):
        answer = client.get(f"/s/{token}/")
        assert answer.status_code == 401
        client.post(f"/s/{token}/me/evidence", data={"csrf_token": "x"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "session_expired" in logged
    assert token not in logged and token not in caplog.text
    assert f"GET /s/{prefix(token)}/:" in logged and f"POST /s/{prefix(token)}/me/evidence" in logged


def start_tool(services: Services, tmp: Path, **settings: str) -> tuple[subprocess.Popen[str], int]:
    """`microcred run` (uWSGI, one process) on the suite's database; `settings` as LTI_MICROCRED_<NAME>."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTI_MICROCRED_")}
    env.update(LTI_MICROCRED_DATABASE_URL=services.settings.resolved_database_url, LTI_MICROCRED_ENV="test",
               LTI_MICROCRED_SECRET_KEY=TEST_SECRET, LTI_MICROCRED_INSTANCE_PATH=str(tmp),
               LTI_MICROCRED_BASE_URL=f"http://127.0.0.1:{port}", LTI_MICROCRED_WORKER_IN_PROCESS="0")
    env.update({f"LTI_MICROCRED_{name.upper()}": value for name, value in settings.items()})
    process = subprocess.Popen([sys.executable, "-m", "lti_microcred.cli", "run", "--port", str(port),
                                "--workers", "1"], cwd=tmp, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process, port
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("microcred run did not start:\n" + (process.communicate()[0] or ""))
        time.sleep(0.2)


def test_uwsgi_logs_refused_requests_without_the_secrets_in_their_paths(services: Services, tmp_path: Path) -> None:
    process, port = start_tool(services, tmp_path)
    paths = secret_paths()
    try:
        for path in paths:
            assert requests.get(f"http://127.0.0.1:{port}{path}?page=2", timeout=10).status_code >= 400
        assert requests.get(f"http://127.0.0.1:{port}/no-such-page", timeout=10).status_code == 404
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "/no-such-page" in output  # uWSGI still logs refused requests, with their method and status
    for path, secret in paths.items():
        assert secret not in output, output
        assert path.replace(secret, prefix(secret)) in output, output


def _log_calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"debug", "info", "warning", "error", "exception", "critical"}
            and isinstance(node.func.value, ast.Name) and node.func.value.id in {"log", "logger", "logging"}]


def test_no_log_call_formats_a_token_or_a_whole_url() -> None:
    """lms/ and lti/ (and everything else that logs) never hand a token, a hint or a request URL to a logger."""
    suspicious = {"token", "id_token", "access_token", "registration_token", "lti_message_hint", "login_hint",
                  "url", "full_path", "path", "query_string", "headers", "authorization"}
    found = []
    for source in PACKAGE.rglob("*.py"):
        for call in _log_calls(ast.parse(source.read_text(), str(source))):
            for arg in [*call.args[1:], *(k.value for k in call.keywords)]:
                names = {n.id for n in ast.walk(arg) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(arg) if isinstance(n, ast.Attribute)}
                if names & suspicious and "redacted_path" not in names:
                    found.append(f"{source.relative_to(ROOT)}:{call.lineno}")
    assert found == []
