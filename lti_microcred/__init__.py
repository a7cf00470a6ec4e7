"""lti_microcred: micro-credentials inside Moodle and Canvas, over LTI 1.3.

Layers, each importing only those below it: `core` < `lti`, `competencies` < `credentials` < `lms` <
`services` (one process's long-lived objects) < `web` < `app` (assembly) < `cli` and `wsgi` (entry points).
`devplatform` (the loopback LMS of the demo and the tests) stands apart.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`lti_microcred.create_app`, imported when asked for: importing a core module must not load the web app."""
    if name == "create_app":
        from lti_microcred.app.factory import create_app

        return create_app
    raise AttributeError(f"module 'lti_microcred' has no attribute {name!r}")
