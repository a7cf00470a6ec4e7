"""Prometheus exposition for every kind of process.

Under `microcred run`, uWSGI's processes each answer part of the requests, so each writes its counters to
files in one directory (prometheus_client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR, set before uWSGI
starts so every process inherits it) and a scrape, whichever process answers it, sums them all. Anywhere
else (tests, `microcred demo`, `microcred worker`) the process's own registry is the whole truth.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import REGISTRY, generate_latest, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from lti_microcred.core.config import host_and_port

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The classic text format, which generate_latest writes for names like ours and every Prometheus reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Collector(Protocol):
    def collect(self) -> Iterable[Any]: ...


def multiprocess_dir() -> str | None:
    """The shared directory when this process records into files (None: in-process values)."""
    return os.environ.get(MULTIPROCESS_ENV) or None


def prepare_multiprocess_dir(path: str) -> None:
    """Create or empty the directory and name it for the processes about to start: counters from a previous
    run would otherwise be summed with this one's, and files of processes long gone would slow every scrape."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_ENV] = str(folder.resolve())


def mark_dead_at_exit() -> None:
    """In multiprocess mode, a process that ends drops its live-gauge files (counters and histograms stay, so
    totals never go down when uWSGI replaces a process)."""
    if multiprocess_dir() is not None:
        atexit.register(mark_process_dead, os.getpid())


class _Together:
    def __init__(self, parts: list[Collector]) -> None:
        self.parts = parts

    def collect(self) -> Iterator[Any]:
        for part in self.parts:
            yield from part.collect()


def exposition(state: Iterable[Collector] = ()) -> bytes:
    """The text format: the events of every process (or of this one), then the state collectors' gauges."""
    path = multiprocess_dir()
    events: Collector = MultiProcessCollector(None, path) if path else REGISTRY
    return generate_latest(_Together([events, *state]))


def serve(listen: str) -> Any:
    """This process's metrics over plain HTTP on `host:port` (a `microcred worker`), in a daemon thread.
    No authentication: bind it to a loopback or private address."""
    host, port = host_and_port(listen)
    server, _thread = start_http_server(port, host)
    return server
