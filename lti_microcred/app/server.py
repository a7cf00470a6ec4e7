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

from lti_microcred.core.metrics_exposition import prepare_multiprocess_dir

# uWSGI's request log (4xx and 5xx only). Never %(uri) nor %(referer): paths carry secrets (a session token in
# /s/<token>/…), so the app hands over the path with its secret hashed as the request variable `mc_path`
# (app/request_log.py); a variable the app never set (a request that never reached it) logs as "-".
LOG_FORMAT = ("[pid: %(pid)|worker: %(wid)] %(addr) [%(ltime)] %(method) %(mc_path) => %(status) "
              "in %(msecs) msecs, %(size) bytes")
# With log_format = "json": one object per request, every request (the line that ties a page to its launch).
# uWSGI substitutes variables unescaped, so every string here is one the app escaped (app/request_log.py), the
# client's address or "-"; the rest are numbers.
JSON_LOG_FORMAT = ('{"time":"%(mc_time)","level":"INFO","logger":"uwsgi.request",'
                   '"message":"%(mc_method) %(mc_path) => %(status) in %(msecs) msecs",'
                   '"request_id":"%(mc_request_id)","launch_id":"%(mc_launch_id)","method":"%(mc_method)",'
                   '"path":"%(mc_path)","status":%(status),"msecs":%(msecs),"size":%(size),"addr":"%(addr)",'
                   '"pid":%(pid),"worker":%(wid)}')


def uwsgi_command(host: str, port: int, workers: int, threads: int,
                  module: str = "lti_microcred.wsgi:app", log_format: str = "text") -> list[str]:
    binary = Path(sys.executable).with_name("uwsgi")
    return [
        str(binary) if binary.exists() else "uwsgi",
        # The HTTP router (an async process) keeps browser and proxy connections alive without tying up a
        # worker thread, and hands each request to a worker over uWSGI's own protocol.
        "--http", f"{host}:{port}", "--http-keepalive", "--http-auto-chunked", "--http-timeout", "60",
        "--module", module,
        "--master", "--processes", str(workers or available_cpus() + 1), "--threads", str(threads),
        "--lazy-apps",  # each process builds its own app and database pool after the fork
        "--enable-threads", "--single-interpreter", "--need-app", "--die-on-term", "--vacuum",
        "--buffer-size", "32768",  # LMS login URLs carry long hints (Canvas sends a JWT)
        "--post-buffering", "65536",
        "--harakiri", "60", "--max-requests", "100000", "--thunder-lock",
        *(["--log-format", JSON_LOG_FORMAT] if log_format == "json" else
          ["--disable-logging", "--log-4xx", "--log-5xx", "--log-format", LOG_FORMAT]),
        # uWSGI's own error lines about a client gone mid-response would name the request's URI.
        "--ignore-sigpipe", "--ignore-write-errors", "--disable-write-exception",
        "--strict",
    ]


def serve(host: str, port: int, workers: int, threads: int, metrics_dir: str | None = None,
          log_format: str = "text") -> None:
    """Replace this process with the uWSGI master (signals and exit codes then belong to it). With a
    `metrics_dir`, its processes count into files there, emptied first, so /metrics sums them all."""
    if metrics_dir:
        prepare_multiprocess_dir(metrics_dir)
    command = uwsgi_command(host, port, workers, threads, log_format=log_format)
    os.execvp(command[0], command)  # noqa: S606 (an argument list, no shell involved)


def available_cpus(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """CPUs this process may really use: its affinity, lowered by a container's CPU limit (cgroup v2 cpu.max,
    or v1 cpu.cfs_quota_us / cpu.cfs_period_us), so a container limited to 2 CPUs on a 64-core host runs
    3 processes, not 65."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota = (cgroup / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (cgroup / "cpu" / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return max(1, cpus)
    if quota in ("max", "-1"):
        return max(1, cpus)
    try:
        return max(1, min(cpus, -(-int(quota) // int(period))))
    except (ValueError, ZeroDivisionError):
        return max(1, cpus)

