"""The tool scaled out on one machine: a loopback LMS that knows the tool only by the proxy's address, two web
instances and two workers with their own settings on one database and one Redis, and nginx in front."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lti_microcred.devplatform.services import DevServices, dev_services
from lti_microcred.services import Services
from tests.ops.course import enrol, register, start_lms
from tests.ops.processes import Fleet, Proc, tool_environment, wait_ready
from tests.ops.proxy import nginx_command, write_config
from tests.support.driver import LmsHandle


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    proxy_url: str
    fleet: Fleet
    webs: list[Proc]
    workers: list[Proc]
    lms: LmsHandle
    dev: DevServices
    users: list[str]
    root: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def access_log(self) -> Path:
        return self.root / "nginx-access.log"


def _start(fleet: Fleet, nginx: str, proxy_port: int) -> tuple[list[Proc], list[Proc]]:
    """Two web instances and two workers, then nginx in front of the web instances once they answer."""
    webs = [fleet.web(f"web-{i}", free_port()) for i in (1, 2)]
    workers = [fleet.worker(f"worker-{i}") for i in (1, 2)]
    for web in webs:
        wait_ready(web, f"http://127.0.0.1:{web.port}/ready")
    config = write_config(fleet.workdir, proxy_port, [web.port for web in webs if web.port])
    proxy = fleet.start("nginx", nginx_command(nginx, fleet.workdir, config), proxy_port)
    wait_ready(proxy, f"http://127.0.0.1:{proxy_port}/health")
    return webs, workers


@contextmanager
def scale_out(services: Services, database_url: str, redis_url: str, nginx: str, learners: int,
              workdir: Path) -> Iterator[Cluster]:
    """The LMS, registered with `learners` enrolled; then the processes, on this run's database and the
    proxy's address; everything this started is stopped on the way out."""
    started = time.monotonic()
    proxy_port = free_port()
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    platform, lms_server = start_lms(proxy_url, free_port())
    s = services.settings
    fleet = Fleet(workdir, tool_environment(base_url=proxy_url, database_url=database_url, redis_url=redis_url,
                                            secret_key=s.secret_key, instance_path=s.instance_path))
    try:
        users = enrol(platform, learners)
        lms = register(services, platform)
        webs, workers = _start(fleet, nginx, proxy_port)
        yield Cluster(proxy_url, fleet, webs, workers, lms, dev_services(platform), users, workdir, started)
    finally:
        fleet.stop_all()
        lms_server.shutdown()
        lms_server.server_close()
