"""`microcred framework`: import and list competency frameworks (CASE 1.1 JSON, Moodle CSV)."""

from __future__ import annotations

import click


@click.group()
def framework() -> None:
    """Competency frameworks."""
