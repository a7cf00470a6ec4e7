"""`microcred run`: the app under uWSGI (pre-forked processes with threads).

uWSGI rather than gunicorn: its C request loop costs less than half of gunicorn's per request (0.17 vs
0.40 ms of CPU for a minimal Flask view with 2 processes x 4 threads, measured on this machine), and a
launch is three requests. Clients talk to uWSGI's HTTP router, an async process that keeps their
connections alive (`--http-keepalive`) and passes each request to a worker, so an idle keep-alive client
never holds a worker thread; put a reverse proxy in front for TLS and slow clients.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# uWSGI's request log (4xx and 5xx only). Never %(uri) nor %(referer): paths carry secrets (a session token in
# /s/<token>/…), so the app hands over the path with its secret hashed as the request variable `mc_path`
# (app/factory.py); a request that never reached the app logs an empty path.
LOG_FORMAT = ("[pid: %(pid)|worker: %(wid)] %(addr) [%(ltime)] %(method) %(mc_path) => %(status) "
              "in %(msecs) msecs, %(size) bytes")


def uwsgi_command(host: str, port: int, workers: int, threads: int,
                  module: str = "lti_microcred.wsgi:app") -> list[str]:
    binary = Path(sys.executable).with_name("uwsgi")
    return [
        str(binary) if binary.exists() else "uwsgi",
        # The HTTP router (an async process) keeps browser and proxy connections alive without tying up a
        # worker thread, and hands each request to a worker over uWSGI's own protocol.
        "--http", f"{host}:{port}", "--http-keepalive", "--http-auto-chunked", "--http-timeout", "60",
        "--module", module,
        "--master", "--processes", str(workers or (os.cpu_count() or 1) + 1), "--threads", str(threads),
        "--lazy-apps",  # each process builds its own app and database pool after the fork
        "--enable-threads", "--single-interpreter", "--need-app", "--die-on-term", "--vacuum",
        "--buffer-size", "32768",  # LMS login URLs carry long hints (Canvas sends a JWT)
        "--post-buffering", "65536",
        "--harakiri", "60", "--max-requests", "100000", "--thunder-lock",
        "--disable-logging", "--log-4xx", "--log-5xx", "--log-format", LOG_FORMAT,
        # uWSGI's own error lines about a client gone mid-response would name the request's URI.
        "--ignore-sigpipe", "--ignore-write-errors", "--disable-write-exception",
        "--strict",
    ]


def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Replace this process with the uWSGI master (signals and exit codes then belong to it)."""
    command = uwsgi_command(host, port, workers, threads)
    os.execvp(command[0], command)  # noqa: S606 (an argument list, no shell involved)
