"""The shape of the package, from its own imports: no import circle anywhere, and dependencies that point one
way through the layers (README, "Development"). Imports inside functions and under TYPE_CHECKING count: a
circle hidden in a function is still a circle. The graph is grimp's, the library behind import-linter."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

import grimp
import pytest

import lti_microcred

PACKAGE = "lti_microcred"
ROOT = Path(lti_microcred.__file__).resolve().parent
# What each layer may import besides itself (by top-level name under the package). Read bottom up.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "lti": {"core"},
    "competencies": {"core"},
    "credentials": {"competencies", "core", "lti.models"},
    "lms": {"lti", "competencies", "core"},
    "services": {"lms", "credentials", "lti", "competencies", "core"},
    "web": {"services", "lms", "credentials", "lti", "competencies", "core"},
    "app": {"web", "services", "lms", "credentials", "lti", "competencies", "core"},
    "cli": {"app", "web", "services", "lms", "credentials", "lti", "competencies", "core", "devplatform"},
    "wsgi": {"app"},
    PACKAGE: {"app"},  # the package's __init__: `create_app`, imported when asked for
    # The demo LMS stands apart: its LMS modules import nothing of the tool; only the demo's own set-up does.
    "devplatform": set(),
    "devplatform.demo": {"app", "cli", "services", "lti", "core", "devplatform"},
    "devplatform.seed": {"services", "competencies", "credentials", "lti", "core", "devplatform"},
}
# Inside web: each audience's pages import only what they all share.
WEB_AUDIENCES = ("learner", "staff", "public", "lti")


def build(package: str = PACKAGE) -> grimp.ImportGraph:
    return grimp.build_graph(package, cache_dir=None)


def edges(graph: grimp.ImportGraph, package: str = PACKAGE) -> Iterable[tuple[str, str]]:
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported == package or imported.startswith(package + "."):
                yield module, imported


def circles(graph: grimp.ImportGraph, package: str = PACKAGE) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iteratively)."""
    following: dict[str, list[str]] = {m: [] for m in graph.modules}
    for source, target in edges(graph, package):
        following[source].append(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for start in sorted(following):
        if start in index:
            continue
        work = [(start, iter(following[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, targets = work[-1]
            step = next(targets, None)
            if step is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = stack[stack.index(node):]
                    del stack[stack.index(node):]
                    if len(group) > 1:
                        found.append(sorted(group))
            elif step not in index:
                index[step] = low[step] = len(index)
                stack.append(step)
                work.append((step, iter(following[step])))
            elif step in stack:
                low[node] = min(low[node], index[step])
    return found


def layer_of(module: str, package: str = PACKAGE) -> str:
    """The most specific entry of ALLOWED naming the module (devplatform.demo before devplatform)."""
    if module == package:
        return package
    parts = module[len(package) + 1:].split(".")
    two = ".".join(parts[:2])
    return two if two in ALLOWED else parts[0]


def reaches(target: str, allowed: set[str], package: str = PACKAGE) -> bool:
    name = target[len(package) + 1:]
    return any(name == a or name.startswith(a + ".") for a in allowed)


def upward_imports(graph: grimp.ImportGraph, package: str = PACKAGE) -> list[str]:
    wrong = []
    for source, target in edges(graph, package):
        layer, other = layer_of(source, package), layer_of(target, package)
        if layer == other.split(".")[0] or layer.split(".")[0] == other.split(".")[0] == "devplatform":
            continue
        if not reaches(target, ALLOWED.get(layer, set()), package):
            wrong.append(f"{source} -> {target}")
    return wrong


def crossed_audiences(graph: grimp.ImportGraph, package: str = PACKAGE) -> list[str]:
    prefix = f"{package}.web."
    wrong = []
    for source, target in edges(graph, package):
        if not (source.startswith(prefix) and target.startswith(prefix)):
            continue
        own, other = source[len(prefix):].split(".")[0], target[len(prefix):].split(".")[0]
        if own in (*WEB_AUDIENCES, "common") and other != own and other != "common":
            wrong.append(f"{source} -> {target}")
    return wrong


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return build()


def test_no_import_circle(graph: grimp.ImportGraph) -> None:
    assert circles(graph) == []


def test_dependencies_point_down_the_layers(graph: grimp.ImportGraph) -> None:
    assert upward_imports(graph) == []


def test_web_audiences_share_only_common(graph: grimp.ImportGraph) -> None:
    assert crossed_audiences(graph) == []


def test_every_module_has_a_layer(graph: grimp.ImportGraph) -> None:
    assert sorted({layer_of(m) for m in graph.modules} - set(ALLOWED)) == []


def test_the_root_shows_the_layers() -> None:
    """Packages, plus the process's services and the WSGI entry point: nothing else at the top."""
    modules = sorted(p.name for p in ROOT.glob("*.py"))
    assert modules == ["__init__.py", "services.py", "wsgi.py"]


# --- the checks can fail --------------------------------------------------------------------------------
def _fake_package(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / "fakepkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


def test_a_circle_through_a_function_level_import_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_package(tmp_path, {"__init__.py": "", "core/__init__.py": "", "lti/__init__.py": "",
                             "core/a.py": "def f():\n    from fakepkg.lti import b\n",
                             "lti/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                         "    from fakepkg.core import a\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = build("fakepkg")
    assert circles(fake, "fakepkg") == [["fakepkg.core.a", "fakepkg.lti.b"]]
    assert upward_imports(fake, "fakepkg") == ["fakepkg.core.a -> fakepkg.lti.b"]
    sys.modules.pop("fakepkg", None)


def test_an_audience_importing_another_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_package(tmp_path, {"__init__.py": "", "web/__init__.py": "", "web/staff/__init__.py": "",
                             "web/learner/__init__.py": "", "web/staff/x.py": "",
                             "web/learner/y.py": "from fakepkg.web.staff import x\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    assert crossed_audiences(build("fakepkg"), "fakepkg") == ["fakepkg.web.learner.y -> fakepkg.web.staff.x"]
    sys.modules.pop("fakepkg", None)


# --- sizes ------------------------------------------------------------------------------------------------
MAX_FILE_LINES, MAX_FUNCTION_LINES = 300, 40
# Alembic's scripts are history: written once by autogenerate and never edited after release.
NOT_CODE = ("migrations",)


def oversized(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] in NOT_CODE:
            continue
        source = path.read_text()
        name = path.relative_to(root).as_posix()
        if len(source.splitlines()) > MAX_FILE_LINES:
            found.append(f"{name}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = (node.end_lineno or node.lineno) - first + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    return found


def test_files_and_functions_stay_short() -> None:
    assert oversized(ROOT) == []


def test_the_size_check_can_fail(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(40))
    (tmp_path / "long.py").write_text("@staticmethod\ndef f():\n" + body + "\n" * 260)
    assert oversized(tmp_path) == ["long.py: 302 lines", "long.py:2 f: 42 lines"]
