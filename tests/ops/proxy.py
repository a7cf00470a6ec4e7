"""nginx in front of the web instances, as a production site runs it, and what its access log tells.

No upstream keep-alive: every proxied request opens its own connection, so a request to a dead instance fails
at connect (nothing sent) and nginx passes it, POSTs included, to the other instance. A request already sent
to an instance that dies is retried only when idempotent (GET); a POST then fails with 502, as it must: it
may have been committed. The log records, per request, when it ended, how long it took and which upstreams
it went to, so the requests in flight on a killed instance can be counted afterwards.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

LOG_FORMAT = '$msec $request_time $status $request_method "$upstream_addr" "$upstream_status"'

CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format scale '{log_format}';
    access_log {root}/nginx-access.log scale;
    client_body_temp_path {root}/client-body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    client_max_body_size 12m;
    client_body_buffer_size 1m;
    proxy_max_temp_file_size 0;
    upstream tool {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://tool;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
            proxy_next_upstream_timeout 15s;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    """nginx from the distribution (in /usr/sbin, which an unprivileged PATH often lacks)."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None


def write_config(root: Path, port: int, upstream_ports: list[int]) -> Path:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in upstream_ports)
    path = root / "nginx.conf"
    path.write_text(CONFIG.format(root=root, port=port, servers=servers, log_format=LOG_FORMAT))
    return path


def nginx_command(binary: str, root: Path, config: Path) -> list[str]:
    return [binary, "-p", str(root), "-c", str(config), "-e", str(root / "nginx-error.log")]


@dataclass(frozen=True)
class Logged:
    """One request as nginx logged it."""

    end: float
    seconds: float
    status: int
    method: str
    upstreams: tuple[str, ...]
    upstream_statuses: tuple[str, ...]

    @property
    def start(self) -> float:
        return self.end - self.seconds

    def overlaps(self, since: float, until: float, slack: float = 0.002) -> bool:
        """Under way at some moment between `since` and `until` (the log's times are in milliseconds)."""
        return self.start - slack <= until and since <= self.end + slack


def read_log(path: Path) -> list[Logged]:
    entries = []
    for line in path.read_text().splitlines():
        head, _, rest = line.partition(' "')
        end, seconds, status, method = head.split()
        addrs, _, statuses = rest.partition('" "')
        entries.append(Logged(float(end), float(seconds), int(status), method,
                              tuple(a.strip() for a in addrs.split(",") if a.strip() not in ("", "-")),
                              tuple(s.strip() for s in statuses.rstrip('"').split(",") if s.strip() != "-")))
    return entries


@dataclass(frozen=True)
class ProxyReport:
    total: int
    failed: int  # 5xx answered to the client
    in_flight_on_killed: int  # sent to the killed instance before the kill, still unanswered at it
    retried: int  # passed to the other instance and answered there
    failed_not_in_flight: int  # failures of requests that were not in flight on the killed instance

    @classmethod
    def of(cls, entries: list[Logged], killed: str, signalled: float, dead: float) -> ProxyReport:
        """`killed` was signalled at `signalled` and stopped accepting connections by `dead`."""
        in_flight = [e for e in entries if killed in e.upstreams and e.overlaps(signalled, dead)]
        failed = [e for e in entries if e.status >= 500]
        retried = [e for e in entries if len(e.upstreams) > 1 and e.status < 500]
        stray = [e for e in failed if e not in in_flight]
        return cls(len(entries), len(failed), len(in_flight), len(retried), len(stray))
