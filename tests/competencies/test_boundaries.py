"""The domain package stands alone: it imports nothing of the web framework, the LTI library or the packages
built on top of it (they call the domain, never the other way round)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lti_microcred.competencies as domain

FORBIDDEN = ("flask", "werkzeug", "pylti1p3", "lti_microcred.web", "lti_microcred.lti", "lti_microcred.lms",
             "lti_microcred.credentials")
ROOT = Path(domain.__file__).resolve().parent


def modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def imported_names(path: Path, top: Path = ROOT.parent.parent) -> set[str]:
    """Every module an import statement of the file names, relative imports made absolute from `top` (the
    directory holding the `lti_microcred` package), including imports inside functions and TYPE_CHECKING."""
    package = path.relative_to(top).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def forbidden(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in FORBIDDEN)


def test_every_module_of_the_package_is_checked() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in modules()}
    assert {"awarding.py", "operations.py", "importers/writer.py"} <= names


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_domain_imports_no_framework_or_outer_package(path: Path) -> None:
    assert sorted(n for n in imported_names(path) if forbidden(n)) == []


@pytest.mark.parametrize("source, where, expected", [
    ("from ..web import views\n", "awarding.py", "lti_microcred.web.views"),
    ("from .. import lms\n", "awarding.py", "lti_microcred.lms"),
    ("from ...credentials.issuer import x\n", "importers/writer.py", "lti_microcred.credentials.issuer"),
    ("from ..lti.models import User\n", "__init__.py", "lti_microcred.lti.models"),
    ("def f():\n    import flask\n", "rules.py", "flask"),
    ("from pylti1p3.contrib.flask import FlaskRequest\n", "rules.py", "pylti1p3.contrib.flask"),
])
def test_the_check_sees_forbidden_imports(tmp_path: Path, source: str, where: str, expected: str) -> None:
    """The check itself can fail: each of these would be reported."""
    target = tmp_path / "lti_microcred" / "competencies" / where
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source, encoding="utf-8")
    assert expected in imported_names(target, tmp_path) and forbidden(expected)
