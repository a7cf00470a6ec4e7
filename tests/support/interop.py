"""Finding the independent JS verifier (tests/credentials/interop): skipped where it is not installed, but a
failure on CI (REQUIRE_POSTGRES=1, set by .ci/run), where a silently skipped interop test would hide a break."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

INTEROP = Path(__file__).parent.parent / "credentials" / "interop"


def missing_packages() -> list[str]:
    """The npm packages of interop/package.json that are not installed in its node_modules."""
    wanted = json.loads((INTEROP / "package.json").read_text())["dependencies"]
    return [name for name in wanted if not (INTEROP / "node_modules" / name / "package.json").is_file()]


def interop_node() -> str:
    """The `node` executable, once the interop packages are installed; otherwise skip (locally) or fail (CI)."""
    node = shutil.which("node")
    missing = missing_packages()
    if node is not None and not missing:
        return node
    problem = "no `node` on PATH" if node is None else "missing npm packages " + ", ".join(missing)
    message = f"JS interop needs `node` and `npm ci` in tests/credentials/interop ({problem})"
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(message + "; CI (REQUIRE_POSTGRES=1) runs it, so it is not skipped here")
    pytest.skip(message)
