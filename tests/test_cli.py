"""The `microcred` command line, run as a real process on a fresh instance folder."""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port
from tests.support.driver import Browser, data_attr, reason_of

ROOT = Path(__file__).resolve().parent.parent


def microcred(tmp: Path, *args: str, input: str | None = None,
              env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command in `tmp` with only the LTI_MICROCRED_ variables given (None: leave that one unset)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LTI_MICROCRED_")}
    for key, value in {"LTI_MICROCRED_INSTANCE_PATH": str(tmp / "instance"), **(env or {})}.items():
        if value is not None:
            full_env[key] = value
    return subprocess.run([sys.executable, "-m", "lti_microcred.cli", *args], cwd=tmp, env=full_env, text=True,
                          capture_output=True, input=input, timeout=120)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    result = microcred(tmp, "init")
    assert result.returncode == 0, result.stderr
    assert "Login initiation URL" in result.stdout and "/lti/jwks" in result.stdout
    return tmp


def test_init_writes_a_private_secret_and_is_idempotent(instance: Path) -> None:
    settings = instance / "instance" / "microcred.toml"
    assert "secret_key" in settings.read_text()
    assert oct(settings.stat().st_mode & 0o777) == "0o600"
    before = settings.read_text()
    assert microcred(instance, "init").returncode == 0
    assert settings.read_text() == before
    keys = microcred(instance, "keys", "list").stdout.splitlines()
    assert sorted(line.split()[1] for line in keys) == ["current", "next"]


def test_init_puts_the_instance_where_the_site_settings_say(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "microcred.toml").write_text('instance_path = "var/microcred"\n')
    result = microcred(tmp_path, "init", env={"LTI_MICROCRED_INSTANCE_PATH": None})
    assert result.returncode == 0, result.stderr
    assert "secret_key" in (tmp_path / "var" / "microcred" / "microcred.toml").read_text()
    assert (tmp_path / "var" / "microcred" / "microcred.sqlite3").exists()
    assert not (tmp_path / "instance").exists()


def test_init_keeps_the_secret_of_the_site_settings(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "microcred.toml").write_text(f'secret_key = "{"s" * 48}"\n')
    result = microcred(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    assert "secret key written" not in result.stdout
    assert not (tmp_path / "instance" / "microcred.toml").exists()


def test_platform_add_list_activate_remove(instance: Path) -> None:
    added = microcred(instance, "platform", "add", "--issuer", "https://moodle.example.edu", "--client-id", "abc",
                      "--deployment-id", "3", "--auth-login-url", "https://moodle.example.edu/mod/lti/auth.php",
                      "--auth-token-url", "https://moodle.example.edu/mod/lti/token.php",
                      "--key-set-url", "https://moodle.example.edu/mod/lti/certs.php")
    assert added.returncode == 0, added.stderr
    platform_id = added.stdout.split()[1].rstrip(":")
    listing = microcred(instance, "platform", "list").stdout
    assert "issuer=https://moodle.example.edu" in listing and "deployment '3': active" in listing
    activated = microcred(instance, "platform", "activate", platform_id, "--deployment", "4")
    assert "deployment '4'" in activated.stdout
    assert "deployment '4': active" in microcred(instance, "platform", "list").stdout
    removed = microcred(instance, "platform", "remove", platform_id, "--yes")
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert "no platforms registered" in microcred(instance, "platform", "list").stdout


def test_platform_add_refuses_bad_urls(instance: Path) -> None:
    result = microcred(instance, "platform", "add", "--issuer", "moodle", "--client-id", "x", "--auth-login-url",
                       "https://a/auth", "--auth-token-url", "https://a/token", "--key-set-url", "https://a/jwks")
    assert result.returncode != 0 and "issuer must be an absolute" in result.stderr


def test_activate_unknown_platform_is_a_clear_error(instance: Path) -> None:
    result = microcred(instance, "platform", "activate", "999")
    assert result.returncode != 0 and "no platform with id 999" in result.stderr


def test_keys_rotate_keeps_old_key_listed(instance: Path) -> None:
    before = {line.split()[0]: line.split()[1] for line in microcred(instance, "keys", "list").stdout.splitlines()}
    rotated = microcred(instance, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    after = {line.split()[0]: line.split()[1] for line in microcred(instance, "keys", "list").stdout.splitlines()}
    old_current = next(k for k, s in before.items() if s == "current")
    old_next = next(k for k, s in before.items() if s == "next")
    assert after[old_current] == "retired" and after[old_next] == "current"


def test_issuer_set_stores_the_whole_postal_address_and_keeps_what_is_not_given(instance: Path) -> None:
    first = microcred(instance, "issuer", "set", "--name", "Atlantic Technological University",
                      "--street-address", "Dublin Road", "--locality", "Galway", "--postal-code", "H91 T8NW",
                      "--country", "ie")
    assert first.returncode == 0, first.stderr
    second = microcred(instance, "issuer", "set", "--email", "credentials@atu.example")
    assert second.returncode == 0, second.stderr
    shown = microcred(instance, "issuer", "show").stdout
    for value in ("Atlantic Technological University", "credentials@atu.example", "street_address='Dublin Road'",
                  "locality='Galway'", "postal_code='H91 T8NW'", "country_code='IE'"):
        assert value in shown, value


def test_issuer_set_refuses_an_over_long_value_and_changes_nothing(instance: Path) -> None:
    before = microcred(instance, "issuer", "show").stdout
    refused = microcred(instance, "issuer", "set", "--name", "Renamed", "--postal-code", "9" * 41)
    assert refused.returncode != 0
    assert "postal_code: At most 40 characters." in refused.stderr
    assert microcred(instance, "issuer", "show").stdout == before


def test_institutions_are_created_listed_and_given_registrations(instance: Path) -> None:
    created = microcred(instance, "institution", "create", "--slug", "north", "--name", "North College")
    assert created.returncode == 0, created.stderr
    assert "did:web:127.0.0.1%3A8000:institutions:north" in created.stdout
    again = microcred(instance, "institution", "create", "--slug", "north", "--name", "Twice")
    assert again.returncode != 0 and "exists already" in again.stderr
    added = microcred(instance, "platform", "add", "--issuer", "https://north.example.edu", "--client-id", "n1",
                      "--auth-login-url", "https://north.example.edu/auth", "--auth-token-url",
                      "https://north.example.edu/token", "--key-set-url", "https://north.example.edu/jwks",
                      "--institution", "north")
    assert added.returncode == 0, added.stderr
    listing = microcred(instance, "institution", "list").stdout
    assert "north" in listing and "North College  (1 registration(s))" in listing
    shown = microcred(instance, "issuer", "show", "--institution", "north").stdout
    assert "issuer id: did:web:127.0.0.1%3A8000:institutions:north" in shown and "North College" in shown
    renamed = microcred(instance, "issuer", "set", "--institution", "north", "--name", "North University")
    assert renamed.returncode == 0, renamed.stderr
    assert "North University" not in microcred(instance, "issuer", "show").stdout  # the root one is untouched
    platform_id = added.stdout.split()[1].rstrip(":")
    moved = microcred(instance, "institution", "attach", platform_id, "default")
    assert moved.returncode == 0 and "now belongs to default" in moved.stdout
    unknown = microcred(instance, "institution", "attach", platform_id, "nowhere")
    assert unknown.returncode != 0 and "no institution 'nowhere'" in unknown.stderr
    assert microcred(instance, "platform", "invite", "--institution", "nowhere").returncode != 0


def test_invite_url(instance: Path) -> None:
    result = microcred(instance, "platform", "invite")
    assert result.stdout.startswith("http://127.0.0.1:8000/lti/register/")


def test_production_refuses_the_default_secret(tmp_path: Path) -> None:
    result = microcred(tmp_path, "platform", "list", env={"LTI_MICROCRED_ENV": "production",
                                                         "LTI_MICROCRED_BASE_URL": "https://tool.example.edu"})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_run_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = microcred(tmp_path, "run", "--port", "0")
    assert result.returncode != 0 and "microcred init" in result.stderr


def test_tool_json_is_the_canvas_configuration_with_a_placeholder_host(tmp_path: Path) -> None:
    result = microcred(tmp_path, "canvas-config", "--base-url", "https://{{TOOL_HOST}}")
    assert json.loads(result.stdout) == json.loads((ROOT / "tool.json").read_text())


def _free_port_pair() -> int:
    """A port P with P+1 free too: the demo LMS takes P+1."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two adjacent free ports")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_demo_serves_the_learner_launch_it_prints(tmp_path: Path) -> None:
    port = _free_port_pair()
    tool, lms = f"http://127.0.0.1:{port}", f"http://localhost:{port + 1}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTI_MICROCRED_")}
    env["LTI_MICROCRED_INSTANCE_PATH"] = str(tmp_path / "instance")
    demo = subprocess.Popen([sys.executable, "-m", "lti_microcred.cli", "demo", "--port", str(port)], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    browser = Browser(tool)
    try:
        deadline = time.monotonic() + 20
        while not (_answers(tool + "/health") and _answers(lms + "/")):
            assert demo.poll() is None and time.monotonic() < deadline, "the demo did not start"
            time.sleep(0.2)
        page = browser.http.get(lms + "/launch?user=learner-1")  # the link the demo prints for the learner
        frame = re.search(r'<iframe id="tool-frame"[^>]*?src="([^"]+)"', page.text, re.S)
        assert frame, page.text[:500]
        login = browser.start_login(html.unescape(frame.group(1)))
        landing = browser.follow(browser.post_launch(*browser.authorize(login)))
        assert landing.status_code == 200, reason_of(landing)
        assert data_attr(landing.text, "role") == "learner" and "Lea Learner" in landing.text
    finally:
        browser.close()
        demo.terminate()
        output, _ = demo.communicate(timeout=10)
    assert f"{lms}/launch?user=learner-1" in output
