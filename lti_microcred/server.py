"""`microcred run`: the app under gunicorn (pre-fork workers with threads), configured from our settings."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication


class ToolServer(BaseApplication):  # type: ignore[misc]
    """Each worker builds its own app (and database pool) after the fork."""

    def __init__(self, options: dict[str, Any], overrides: dict[str, Any] | None = None) -> None:
        self.options = options
        self.overrides = overrides or {}
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        return create_app(self.overrides)


def serve(host: str, port: int, workers: int, threads: int, overrides: dict[str, Any] | None = None) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers or max(2, (os.cpu_count() or 1) + 1),
        "worker_class": "gthread",
        "threads": threads,
        "keepalive": 5,
        "timeout": 60,
        "graceful_timeout": 20,
        "accesslog": "-",
        "errorlog": "-",
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }
    ToolServer(options, overrides).run()
