"""The Canvas-shaped LMS's platform-storage frame keeps Canvas's limits (4,096 characters of keys and values and
500 puts per tool origin and page, ui/shared/lti/jquery/platform_storage.ts), and what the tool stores at a login
fits them with room for many launches on one page. The frame's script runs in Node, in a stand-in window."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.driver import Browser, LmsHandle, data_attr

FRAME = Path(__file__).resolve().parents[2] / "lti_microcred" / "devplatform" / "static" / "storage-frame.js"
TOOL, OTHER = "http://127.0.0.1:8000", "https://other-tool.example"
HARNESS = """
const fs = require("fs"), vm = require("vm");
const listeners = [], store = new Map(), replies = [];
const window = {addEventListener: (type, listener) => listeners.push(listener)};
const sessionStorage = {setItem: (k, v) => store.set(k, String(v)), getItem: k => store.has(k) ? store.get(k) : null,
                        removeItem: k => store.delete(k)};
vm.runInNewContext(fs.readFileSync(process.argv[1], "utf8"), {window, sessionStorage});
for (const [origin, data] of JSON.parse(fs.readFileSync(0, "utf8"))) {
  const source = {postMessage: (message) => replies.push(message)};
  listeners.forEach(listener => listener({data, origin, source}));
}
process.stdout.write(JSON.stringify(replies));
"""

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node to run the frame's script")


def frame(messages: list[tuple[str, dict[str, Any]]], script: Path = FRAME) -> list[dict[str, Any]]:
    """Post `messages` (origin, message) to one freshly loaded frame; its answers, in order."""
    done = subprocess.run(["node", "-e", HARNESS, str(script)], input=json.dumps(messages), capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def put(key: str, value: str, origin: str = TOOL, n: int = 0) -> tuple[str, dict[str, Any]]:
    return origin, {"subject": "lti.put_data", "key": key, "value": value, "message_id": f"m{n}-{key}"}


def error_of(reply: dict[str, Any]) -> str | None:
    return (reply.get("error") or {}).get("code")


def test_the_500th_put_is_the_last_one_per_origin_and_page() -> None:
    replies = frame([put(f"k{i}", "v", n=i) for i in range(501)] + [put("k", "v", OTHER)])
    assert [error_of(r) for r in replies[:500]] == [None] * 500
    assert error_of(replies[500]) == "storage_exhaustion"
    assert error_of(replies[501]) is None  # another tool's origin has its own count


def test_keys_and_values_may_hold_4096_characters_together() -> None:
    replies = frame([put("a", "x" * 4094), put("b", "")])  # 1 + 4094 + 1 = 4096: the limit itself is allowed
    assert [error_of(r) for r in replies] == [None, None]
    over = frame([put("a", "x" * 2000), put("b", "x" * 2095)])  # 2001 + 2096 = 4097
    assert [error_of(r) for r in over] == [None, "storage_exhaustion"]
    cleared = frame([put("a", "x" * 2000), put("a", ""), put("b", "x" * 2095)])  # an empty value gives back
    assert [error_of(r) for r in cleared] == [None, None, None]


def test_a_message_without_key_or_message_id_is_a_bad_request() -> None:
    replies = frame([(TOOL, {"subject": "lti.put_data", "value": "v", "message_id": "1"}),
                     (TOOL, {"subject": "lti.get_data", "key": "k"})])
    assert [error_of(r) for r in replies] == ["bad_request", "bad_request"]


def test_the_tools_login_value_fits_many_launches_on_one_canvas_page(canvas: LmsHandle, browser: Browser) -> None:
    login = browser.start_login(canvas.login_url("learner-1"))
    key, value = data_attr(login.response.text, "storage-key"), data_attr(login.response.text, "state")
    assert len(key) + len(value) <= 4096 // 12, (len(key), len(value))  # a dozen launches before the page reloads
    launches = [put(f"{key[:-2]}{n:02}", value, n=n) for n in range(12)]
    replies = frame([*launches, (TOOL, {"subject": "lti.get_data", "key": launches[3][1]["key"], "message_id": "g"})])
    assert [error_of(r) for r in replies[:12]] == [None] * 12
    assert replies[12]["value"] == value
