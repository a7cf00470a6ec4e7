"""`microcred doctor`: one line per check (ok, warn or fail) and a summary, exit code 0 unless something
fails; it reaches only the tool's own /health and each active registration's key set and token endpoint (no
token request unless --tokens), follows no redirect, and creates nothing."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lti_microcred.cli import main
from lti_microcred.core.db import transaction
from lti_microcred.devplatform.services import dev_services
from lti_microcred.lti.admin import PlatformSpec, add_platform
from lti_microcred.services import Services
from tests.conftest import TEST_SECRET
from tests.support.driver import LmsHandle


def doctor(services: Services, *args: str, **settings: str) -> Result:
    """`microcred doctor` with the suite's settings (LTI_MICROCRED_<NAME> from `settings` on top)."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("LTI_MICROCRED_")}
    env.update(LTI_MICROCRED_ENV="test", LTI_MICROCRED_BASE_URL=services.settings.base_url,
               LTI_MICROCRED_DATABASE_URL=services.settings.resolved_database_url,
               LTI_MICROCRED_SECRET_KEY=TEST_SECRET, LTI_MICROCRED_INSTANCE_PATH=services.settings.instance_path)
    env.update({f"LTI_MICROCRED_{name.upper()}": value for name, value in settings.items()})
    return CliRunner().invoke(main, ["doctor", *args], env=env)


def lines(result: Result, outcome: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(outcome + " ")]


def test_a_healthy_tool_passes_every_check(services: Services, moodle: LmsHandle, canvas: LmsHandle,
                                           live_tool: str) -> None:
    before = dev_services(canvas.platform).token_requests
    result = doctor(services)
    assert result.exit_code == 0, result.output
    assert not lines(result, "fail"), result.output
    checked = "\n".join(lines(result, "ok"))
    for name in ("database", "tool keys", "issuer keys", "base URL"):
        assert f" {name} " in checked, result.output
    for lms in (moodle, canvas):
        assert f"platform {lms.platform_id} key set" in checked and f"platform {lms.platform_id} token URL" in checked
    assert [line for line in lines(result, "warn") if "settings" in line]  # test mode is not production
    assert result.stdout.splitlines()[-1].startswith("summary: ") and "0 fail" in result.stdout.splitlines()[-1]
    assert dev_services(canvas.platform).token_requests == before  # reachability only: no token asked for
    tokens = doctor(services, "--tokens")
    assert tokens.exit_code == 0, tokens.output
    assert f"platform {canvas.platform_id} token" in "\n".join(lines(tokens, "ok"))
    assert dev_services(canvas.platform).token_requests > before


def test_problems_are_named_and_fail_the_run(services: Services, moodle: LmsHandle, redirector: str) -> None:
    spec = PlatformSpec("https://gone.example.edu", "gone", "http://127.0.0.1:9/auth", redirector + "/token",
                        key_set_url="http://127.0.0.1:9/jwks")
    with transaction(services.sessions) as session:
        gone = add_platform(session, spec, []).id
    result = doctor(services, SECRET_KEY="another-secret-than-the-keys-were-sealed-with-0123456789",
                    BASE_URL="http://127.0.0.1:9")
    assert result.exit_code == 1, result.output
    failed = "\n".join(lines(result, "fail"))
    assert "tool keys" in failed and "cannot be decrypted" in failed
    assert "base URL" in failed and "http://127.0.0.1:9/health" in failed
    assert f"platform {gone} key set" in failed
    assert f"platform {gone} token URL" in "\n".join(lines(result, "warn")) + failed
    assert "redirects" in result.stdout and REDIRECTED_TO not in HITS  # a redirect is reported, never followed
    assert "Traceback" not in result.output


def test_an_unmigrated_database_fails_and_nothing_is_created(services: Services, tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite3"
    result = doctor(services, DATABASE_URL=f"sqlite:///{missing}")
    assert result.exit_code == 1
    assert "fail database" in " ".join(result.stdout.split()) and "microcred init" in result.stdout
    assert "skip tool keys" in " ".join(result.stdout.split())
    assert not missing.exists()


def test_invalid_settings_fail_first(services: Services) -> None:
    result = doctor(services, ENV="production")
    assert result.exit_code == 1
    assert "fail settings" in " ".join(result.stdout.split()) and "https" in result.stdout


REDIRECTED_TO = "/elsewhere"
HITS: list[str] = []


@pytest.fixture
def redirector() -> Iterator[str]:
    """A token URL that answers with a redirect to somewhere else on the same server (which counts its hits)."""
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            HITS.append(self.path)
            self.send_response(302 if self.path != REDIRECTED_TO else 200)
            self.send_header("Location", REDIRECTED_TO)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = do_POST = _any

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    HITS.clear()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
