"""Real OS processes for the scale-out test: `microcred run` (uWSGI) and `microcred worker` instances, each
with its own LTI_MICROCRED_* settings, and nginx in front of the web instances.

Every process starts in a process group of its own, so that one can be killed whole (uWSGI's master, HTTP
router and workers at once), as when a machine or container dies, and so that stopping touches nothing the
test did not start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

WEB_PROCESSES, WEB_THREADS = 2, 4
WORKER_BATCH, WORKER_CONCURRENCY, WORKER_LEASE_SECONDS = 20, 4, 5


def microcred() -> list[str]:
    """The installed `microcred` command (the module when the console script is missing)."""
    script = Path(sys.executable).with_name("microcred")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lti_microcred.cli"]


def tool_environment(*, base_url: str, database_url: str, redis_url: str, secret_key: str,
                     instance_path: str) -> dict[str, str]:
    """What an operator would set for every instance behind the proxy: one database, one Redis, one public
    URL (the proxy's), and no delivery thread in the web processes (`microcred worker` delivers)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTI_MICROCRED_")}
    env.update({
        "LTI_MICROCRED_ENV": "test", "LTI_MICROCRED_BASE_URL": base_url, "LTI_MICROCRED_DATABASE_URL": database_url,
        "LTI_MICROCRED_REDIS_URL": redis_url, "LTI_MICROCRED_SECRET_KEY": secret_key,
        "LTI_MICROCRED_INSTANCE_PATH": instance_path, "LTI_MICROCRED_WORKER_IN_PROCESS": "0",
        "LTI_MICROCRED_THREADS": str(WEB_THREADS), "LTI_MICROCRED_LOG_LEVEL": "WARNING",
        "LTI_MICROCRED_WORKER_POLL_SECONDS": "0.2", "LTI_MICROCRED_DELIVERY_BACKOFF_SECONDS": "0.2",
        "LTI_MICROCRED_DELIVERY_BACKOFF_MAX_SECONDS": "2",
    })
    return env


@dataclass
class Proc:
    """One started process and the group it leads. The leader is reaped only once its group has been
    signalled for the last time: until then its pid (the group id) cannot be reused by another process."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        """Running, without reaping it (a dead leader stays a zombie, so its group id stays ours)."""
        if self.popen.returncode is not None:
            return False
        return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None

    def signal_group(self, signum: int) -> None:
        if self.popen.returncode is None:  # not reaped yet: the group id is still this test's
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)

    def kill_group(self) -> None:
        """SIGKILL the whole group (uWSGI master, router and workers, or a worker), then reap the leader."""
        self.signal_group(signal.SIGKILL)
        self.popen.wait(10)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} (pid {self.pid}) ---\n" + "\n".join(text.splitlines()[-lines:])


class Fleet:
    """The processes this test started, and only those; stopped group by group at the end."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.procs: list[Proc] = []

    def start(self, name: str, argv: list[str], port: int | None = None) -> Proc:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:  # the child keeps its own copy of the descriptor
            popen = subprocess.Popen(argv, cwd=self.workdir, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        proc = Proc(name, popen, log, port)
        self.procs.append(proc)
        return proc

    def web(self, name: str, port: int) -> Proc:
        return self.start(name, [*microcred(), "run", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(WEB_PROCESSES)], port)

    def worker(self, name: str) -> Proc:
        return self.start(name, [*microcred(), "worker", "--batch", str(WORKER_BATCH), "--concurrency",
                                 str(WORKER_CONCURRENCY), "--lease-seconds", str(WORKER_LEASE_SECONDS)])

    def stop_all(self) -> None:
        """SIGTERM every live group (uWSGI dies on term, a worker settles its batch), then SIGKILL each group,
        leftovers included, before its leader is reaped."""
        for proc in self.procs:
            if proc.alive():
                proc.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs:
            while proc.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            proc.kill_group()

    def tails(self) -> str:
        return "\n".join(proc.tail() for proc in self.procs)


def wait_ready(proc: Proc, url: str, timeout: float = 60.0) -> None:
    """Until `url` answers 200 (or the process dies: then its log explains why)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise AssertionError(f"{proc.name} exited before it was ready\n{proc.tail()}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{proc.name} not ready at {url} after {timeout} s\n{proc.tail()}")
