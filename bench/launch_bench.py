#!/usr/bin/env python
"""Launch throughput / latency / CPU benchmark: lti_microcred (`microcred run`) vs. a bare pylti1p3 tool.

One "launch" is what a browser does inside Moodle: (1) GET the tool's OIDC login URL -> 302 to the
platform's auth URL (state, nonce, state cookie); (2) the platform signs an id_token (RS256) with that
nonce and the browser POSTs id_token+state to the tool's launch URL; (3) the browser shows the tool's
first page (lti_microcred: 303 -> GET /s/<token>/; bare tool: see bare_pylti1p3_tool.py, BARE_FLOW).

This script plays the browsers and the platform (no platform server: it signs id_tokens itself with a
cached RSA key). It starts every tool itself, on loopback: ours with `microcred run` (uWSGI: HTTP router
plus W worker processes with T threads), the bare tool under gunicorn (gthread, W workers, T threads,
keep-alive) as Flask apps are usually deployed, or under the same uWSGI command with --bare-server uwsgi:

  * lti_microcred: fresh instance dir, `microcred init`, the simulated platform registered with a
    *static* key set (PlatformSpec.key_set_json, through lti_microcred.lti.admin.add_platform in a
    `python -c` subprocess; --ours-keyset url registers the JWKS URL instead), then
    `microcred run --port P --workers W` (settings through LTI_MICROCRED_* env vars);
  * the bare tool: `gunicorn bare_pylti1p3_tool:app`, its pylti1p3 JSON config pointing at a JWKS URL
    served by a tiny HTTP server (python -m http.server, a separate process started here), which the
    bare tool fetches on every launch as pylti1p3 does by default.

Per backend and per concurrency it prints launches/s, p50/p99 latency (whole launch and per step),
the tool's CPU ms per launch (utime+stime of the server's child processes, before/after), and the
CPU of the helpers (driver, Redis / PostgreSQL backends, JWKS server) so that noise is visible.
For PostgreSQL it also prints transactions and rows per launch from pg_stat_database.

Usage (from the repository root):
  .venv/bin/python bench/launch_bench.py --backend both --users 1,16 --launches 300 --workers 3
See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import quote, unquote, urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1

ISSUER = "https://moodle.bench.test"
CLIENT_ID = "bench-moodle-client"
DEPLOYMENT_ID = "1"
KID = "bench-moodle-key-1"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789abcdef"
BROWSER_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) lti-microcred-bench/1.0",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9",
}

TARGETS = {"cpu_ratio_max": 0.5, "rate16_ratio_min": 1.5, "p99_1user_ms_max": 20.0}


# --- the simulated Moodle ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SimUser:
    sub: str
    given: str
    family: str
    email: str
    roles: tuple[str, ...]
    expected_role: str
    course: int


@dataclass(frozen=True)
class SimLink:
    id: str
    title: str
    course: int
    custom: dict[str, str] | None


class SimPlatform:
    """A Moodle-shaped LMS: a pool of users and courses, one RSA key (object cached), its JWKS."""

    def __init__(self, n_users: int, n_courses: int, links_per_course: int, key_bits: int) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=KID, alg="RS256", use="sig")
        self.jwks = {"keys": [jwk]}
        self.courses = [
            (str(1000 + c), f"MC{c:03d}", f"Micro-credential course {c}: Data analysis")
            for c in range(n_courses)
        ]
        self.users: list[SimUser] = []
        for i in range(n_users):
            course = i % n_courses
            roles: tuple[str, ...]
            if i == 0:  # the site admin, as Moodle sends for an admin who is also teacher of the course
                roles = (
                    LIS + "institution/person#Administrator",
                    LIS + "membership#ContentDeveloper",
                    LIS + "system/person#Administrator",
                    LIS + "membership#Instructor",
                )
                expected = "instructor"
            elif i < 2 * n_courses:  # two teachers per course
                roles, expected = (LIS + "membership#Instructor",), "instructor"
            else:
                roles, expected = (LIS + "membership#Learner",), "learner"
            given, family = f"Given{i}", f"Family{i}"
            self.users.append(
                SimUser(str(100 + i), given, family, f"user{i}@example.edu", roles, expected, course)
            )
        self.links: list[list[SimLink]] = []
        for c in range(n_courses):
            links = []
            for k in range(links_per_course):
                custom = {"microcred_module": f"mod-{c}-{k}"} if k % 2 == 1 else None
                links.append(SimLink(str(10 * c + k + 1), f"Micro-credential activity {k}", c, custom))
            self.links.append(links)

    def plan(self, n: int, seed: int) -> list[tuple[int, int]]:
        rnd = random.Random(seed)
        out = []
        for _ in range(n):
            u = rnd.randrange(len(self.users))
            out.append((u, rnd.randrange(len(self.links[self.users[u].course]))))
        return out

    def base_claims(self, user: SimUser, link: SimLink, target_link_uri: str) -> dict[str, Any]:
        cid, label, title = self.courses[user.course]
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": user.sub,
            LTI + "deployment_id": DEPLOYMENT_ID,
            LTI + "target_link_uri": target_link_uri,
            LTI + "lis": {"person_sourcedid": "", "course_section_sourcedid": ""},
            LTI + "roles": list(user.roles),
            LTI + "context": {"id": cid, "label": label, "title": title, "type": ["CourseSection"]},
            LTI + "resource_link": {"title": link.title, "description": "", "id": link.id},
            "given_name": user.given,
            "family_name": user.family,
            "name": f"{user.given} {user.family}",
            LTI + "ext": {"user_username": f"user{user.sub}", "lms": "moodle-2"},
            "email": user.email,
            LTI + "launch_presentation": {
                "locale": "en",
                "document_target": "iframe",
                "return_url": f"{ISSUER}/mod/lti/return.php?course={cid}&launch_container=3"
                f"&instanceid={link.id}"
                f"&sesskey=Qx8Lm2pZ4r",
            },
            LTI + "tool_platform": {
                "product_family_code": "moodle",
                "version": "2024100700",
                "guid": "moodle.bench.test",
                "name": "Bench Moodle",
                "description": "Bench Moodle",
            },
            LTI + "version": "1.3.0",
            LTI + "message_type": "LtiResourceLinkRequest",
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": AGS_SCOPES,
                "lineitems": f"{ISSUER}/mod/lti/services.php/{cid}/lineitems?type_id=1",
                "lineitem": f"{ISSUER}/mod/lti/services.php/{cid}/lineitems/{link.id}/lineitem?type_id=1",
            },
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": f"{ISSUER}/mod/lti/services.php/CourseSection/{cid}/bindings/1"
                "/memberships",
                "service_versions": ["1.0", "2.0"],
            },
        }
        if link.custom:
            claims[LTI + "custom"] = dict(link.custom)
        return claims


# --- the tools under test -----------------------------------------------------------------------------
class Tool:
    """How to reach one tool: its login URL per (user, link), what its launch answers, its first page."""

    name = "?"
    login_path = "/"
    launch_path = "/"

    def __init__(self, port: int, platform: SimPlatform, login_method: str) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.platform = platform
        self.login_method = login_method
        self.target = self.base + self.launch_path
        self._queries: dict[tuple[int, int], str] = {}
        self._claims: dict[tuple[int, int], dict[str, Any]] = {}
        for u, user in enumerate(platform.users):
            for k, link in enumerate(platform.links[user.course]):
                hint = json.dumps({"cmid": link.id, "launchid": f"ltilaunch{link.id}_{u}"})
                self._queries[(u, k)] = urlencode(
                    {
                        "iss": ISSUER,
                        "target_link_uri": self.target,
                        "login_hint": user.sub,
                        "lti_message_hint": hint,
                        "client_id": CLIENT_ID,
                        "lti_deployment_id": DEPLOYMENT_ID,
                    }
                )
                self._claims[(u, k)] = platform.base_claims(user, link, self.target)
        self.proc: subprocess.Popen[bytes] | None = None

    def login_request(self, u: int, k: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        query = self._queries[(u, k)]
        if self.login_method == "POST":
            return (
                "POST",
                self.login_path,
                query.encode(),
                {**BROWSER_HEADERS, "Content-Type": "application/x-www-form-urlencoded"},
            )
        return "GET", self.login_path + "?" + query, None, BROWSER_HEADERS

    def claims(self, u: int, k: int) -> dict[str, Any]:
        return self._claims[(u, k)]

    def page_role(self, u: int) -> str:
        """What the first page must say in its data-role attribute."""
        return self.platform.users[u].expected_role


class OursTool(Tool):
    name = "ours"
    env: dict[str, str]
    log: Path
    login_path = "/lti/login"
    launch_path = "/lti/launch"


class BareTool(Tool):
    name = "bare"
    login_path = "/login/"
    launch_path = "/launch/"


class FloorTool(Tool):
    """launch_floor.py: the least a secure launch does on this stack (it maps no roles)."""

    name = "floor"
    login_path = "/login"
    launch_path = "/launch"

    def page_role(self, u: int) -> str:
        return "floor"


# --- HTTP, cheaply ------------------------------------------------------------------------------------
class Conn:
    """One keep-alive connection per simulated browser and tool (http.client, no cookie jar)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.c: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[http.client.HTTPResponse, bytes]:
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.c.request(method, path, body=body, headers=headers)
                resp = self.c.getresponse()
                data = resp.read()
            except (
                http.client.RemoteDisconnected,
                http.client.CannotSendRequest,
                ConnectionResetError,
                BrokenPipeError,
            ):
                self.close()
                if attempt:
                    raise
                continue
            if resp.will_close:
                self.close()
            return resp, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.c is not None:
            self.c.close()
            self.c = None


def query_value(url: str, name: str) -> str:
    """The value of one query parameter, without parsing the whole query."""
    for sep in ("?", "&"):
        i = url.find(sep + name + "=")
        if i >= 0:
            i += len(name) + 2
            j = url.find("&", i)
            return unquote(url[i:] if j < 0 else url[i:j])
    return ""


def cookies_of(resp: http.client.HTTPResponse) -> str:
    return "; ".join(v.split(";", 1)[0] for v in resp.msg.get_all("Set-Cookie") or [])


def path_of(location: str) -> str:
    if location.startswith("http"):
        i = location.find("/", location.find("//") + 2)
        return location[i:] if i >= 0 else "/"
    return location


class LaunchFailed(Exception):
    def __init__(self, step: str, status: int, body: bytes) -> None:
        super().__init__(f"{step}: HTTP {status}: {body[:300]!r}")
        self.step = step


def one_launch(tool: Tool, conn: Conn, key: Any, u: int, k: int) -> tuple[float, float, float, float]:
    """Login + launch + first page; returns the tool's latency per step (seconds) and the signing time."""
    pc = time.perf_counter
    method, path, body, headers = tool.login_request(u, k)
    t0 = pc()
    resp, data = conn.request(method, path, body, headers)
    t1 = pc()
    if resp.status != 302:
        raise LaunchFailed("login", resp.status, data)
    location = resp.getheader("Location") or ""
    state, nonce = query_value(location, "state"), query_value(location, "nonce")
    cookie = cookies_of(resp)
    # The platform: sign the id_token for this login.
    now = int(time.time())
    claims = dict(tool.claims(u, k))
    claims["nonce"], claims["iat"], claims["exp"] = nonce, now, now + 60
    id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})
    form = ("id_token=" + id_token + "&state=" + quote(state, safe="")).encode()
    t2 = pc()
    resp, data = conn.request(
        "POST",
        tool.launch_path,
        form,
        {
            **BROWSER_HEADERS,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "Origin": ISSUER,
        },
    )
    t3 = pc()
    page_time = 0.0
    if resp.status in (302, 303):
        target = path_of(resp.getheader("Location") or "")
        t4 = pc()
        resp, data = conn.request("GET", target, None, BROWSER_HEADERS)
        page_time = pc() - t4
        step = "page"
    else:
        step = "launch"
    if resp.status != 200 or b'data-role="' + tool.page_role(u).encode() not in data:
        raise LaunchFailed(step, resp.status, data)
    return t1 - t0, t3 - t2, page_time, t2 - t1


# --- CPU accounting -----------------------------------------------------------------------------------
def proc_cpu(pid: int) -> float:
    """utime+stime of one process in seconds (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_of(pid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(name))
    return found


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, over all cores."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    total = sum(values[:8])
    idle = values[3] + values[4]
    return (total - idle) / CLK_TCK, total / CLK_TCK


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


class StoreMeter:
    """CPU of the tool's shared store during a phase: Redis (INFO cpu) or this database's PG backends."""

    def __init__(
        self,
        kind: str,
        pg_admin_dsn: str | None = None,
        pg_db: str | None = None,
        redis_url: str | None = None,
    ) -> None:
        self.kind = kind
        self.pg_db = pg_db
        self._pg = None
        self._redis = None
        if kind == "postgres":
            import psycopg

            self._pg = psycopg.connect(pg_admin_dsn or "", autocommit=True)
        elif kind == "redis":
            import redis

            self._redis = redis.Redis.from_url(redis_url or "redis://127.0.0.1:6379/0")

    def snapshot(self) -> dict[str, Any]:
        if self._pg is not None:
            pids = [
                r[0]
                for r in self._pg.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.pg_db,)
                ).fetchall()
            ]
            row = self._pg.execute(
                "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, "
                "tup_deleted, blks_hit, blks_read FROM pg_stat_database WHERE datname = %s",
                (self.pg_db,),
            ).fetchone()
            names = (
                "xact_commit",
                "xact_rollback",
                "tup_returned",
                "tup_fetched",
                "tup_inserted",
                "tup_updated",
                "tup_deleted",
                "blks_hit",
                "blks_read",
            )
            return {
                "cpu": {pid: proc_cpu(pid) for pid in pids},
                "stats": dict(zip(names, row or (0,) * 9, strict=True)),
            }
        if self._redis is not None:
            info = self._redis.info("cpu")
            return {"cpu": {"redis": float(info["used_cpu_sys"]) + float(info["used_cpu_user"])}, "stats": {}}
        return {"cpu": {}, "stats": {}}

    @staticmethod
    def cpu_delta(before: dict[str, Any], after: dict[str, Any]) -> float:
        return sum(v - before["cpu"].get(k, 0.0) for k, v in after["cpu"].items())

    @staticmethod
    def stats_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
        return {k: int(v) - int(before["stats"].get(k, 0)) for k, v in after["stats"].items()}

    def delete_keys(self, prefix: str) -> int:
        """Remove the bare tool's launch data (pylti1p3 keeps them 24 h) once its run is over."""
        if self._redis is None or not prefix:
            return 0
        deleted, batch = 0, []
        for key in self._redis.scan_iter(match=prefix + "*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += int(self._redis.delete(*batch))
                batch = []
        if batch:
            deleted += int(self._redis.delete(*batch))
        return deleted

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()
        if self._redis is not None:
            self._redis.close()


# --- one phase: N launches with C simulated users -------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100.0 * len(s) + 0.5) - 1))]


@dataclass
class PhaseResult:
    tool: str
    backend: str
    users: int
    launches: int
    errors: int
    wall_s: float
    login_ms: list[float] = field(default_factory=list)
    launch_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    sign_ms: list[float] = field(default_factory=list)
    tool_cpu_s: float = 0.0
    master_cpu_s: float = 0.0
    driver_cpu_s: float = 0.0
    store_cpu_s: float = 0.0
    jwks_cpu_s: float = 0.0
    machine_busy_s: float = 0.0
    first_user_launches: int = 0
    error_samples: list[str] = field(default_factory=list)
    worker_pids_changed: bool = False
    round: int = 1

    @property
    def ok(self) -> int:
        return self.launches - self.errors

    @property
    def other_cpu_s(self) -> float:
        """Machine CPU not spent by the tool, its store, the JWKS server or this driver (noise)."""
        return (
            self.machine_busy_s
            - self.tool_cpu_s
            - self.master_cpu_s
            - self.store_cpu_s
            - self.jwks_cpu_s
            - self.driver_cpu_s
        )

    @property
    def rate(self) -> float:
        return self.ok / self.wall_s if self.wall_s else 0.0

    def per_launch_ms(self, seconds: float) -> float:
        return 1000.0 * seconds / self.ok if self.ok else float("nan")

    def summary(self) -> dict[str, Any]:
        steps = {
            name: {"p50": pct(v, 50), "p99": pct(v, 99), "mean": sum(v) / len(v) if v else float("nan")}
            for name, v in (
                ("total", self.total_ms),
                ("login", self.login_ms),
                ("launch", self.launch_ms),
                ("page", self.page_ms),
                ("sign(driver)", self.sign_ms),
            )
        }
        return {
            "tool": self.tool,
            "backend": self.backend,
            "round": self.round,
            "users": self.users,
            "launches": self.launches,
            "errors": self.errors,
            "wall_s": self.wall_s,
            "launches_per_s": self.rate,
            "latency_ms": steps,
            "tool_cpu_ms_per_launch": self.per_launch_ms(self.tool_cpu_s),
            "master_cpu_ms_per_launch": self.per_launch_ms(self.master_cpu_s),
            "driver_cpu_ms_per_launch": self.per_launch_ms(self.driver_cpu_s),
            "store_cpu_ms_per_launch": self.per_launch_ms(self.store_cpu_s),
            "jwks_server_cpu_ms_per_launch": self.per_launch_ms(self.jwks_cpu_s),
            "machine_busy_ms_per_launch": self.per_launch_ms(self.machine_busy_s),
            "machine_busy_pct": 100.0 * self.machine_busy_s / (self.wall_s * NCPU)
            if self.wall_s
            else float("nan"),
            "first_user_launches": self.first_user_launches,
            "other_cpu_ms_per_launch": self.per_launch_ms(self.other_cpu_s),
            "error_samples": self.error_samples,
            "worker_pids_changed": self.worker_pids_changed,
        }


class Runner:
    def __init__(self, tool: Tool, backend: str, store: StoreMeter, jwks_pid: int | None) -> None:
        self.tool = tool
        self.backend = backend
        self.store = store
        self.jwks_pid = jwks_pid
        self.seen_users: set[int] = set()

    def run(self, users: int, plan: list[tuple[int, int]], label: str) -> PhaseResult:
        tool, key = self.tool, self.tool.platform.key
        assert tool.proc is not None
        result = PhaseResult(tool.name, self.backend, users, len(plan), 0, 0.0)
        for (
            u,
            _,
        ) in plan:  # launches that create the user's row (approximately, as order varies under concurrency)
            if u not in self.seen_users:
                self.seen_users.add(u)
                result.first_user_launches += 1
        lock = threading.Lock()
        next_index = iter(range(len(plan)))
        barrier = threading.Barrier(users + 1)
        per_thread: list[tuple[list[tuple[float, float, float, float]], list[str]]] = []

        def user_loop() -> None:
            conn = Conn(tool.port)
            samples: list[tuple[float, float, float, float]] = []
            errors: list[str] = []
            per_thread.append((samples, errors))
            barrier.wait()
            try:
                while True:
                    with lock:
                        i = next(next_index, None)
                    if i is None:
                        return
                    u, k = plan[i]
                    try:
                        samples.append(one_launch(tool, conn, key, u, k))
                    except (LaunchFailed, OSError, http.client.HTTPException) as exc:
                        errors.append(f"{exc.__class__.__name__}: {exc}")
                        conn.close()
            finally:
                conn.close()

        threads = [threading.Thread(target=user_loop, name=f"user-{n}", daemon=True) for n in range(users)]
        for t in threads:
            t.start()
        workers = sorted(children_of(tool.proc.pid))
        cpu0 = {pid: proc_cpu(pid) for pid in workers}
        master0, driver0, jwks0 = proc_cpu(tool.proc.pid), self_cpu(), proc_cpu(self.jwks_pid or 0)
        store0, (busy0, _) = self.store.snapshot(), machine_cpu()
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        result.wall_s = time.perf_counter() - t0
        workers_after = sorted(children_of(tool.proc.pid))
        result.tool_cpu_s = sum(proc_cpu(pid) - cpu0.get(pid, 0.0) for pid in workers_after)
        result.worker_pids_changed = workers_after != workers
        result.master_cpu_s = proc_cpu(tool.proc.pid) - master0
        result.driver_cpu_s = self_cpu() - driver0
        result.jwks_cpu_s = proc_cpu(self.jwks_pid or 0) - jwks0 if self.jwks_pid else 0.0
        result.machine_busy_s = machine_cpu()[0] - busy0
        result.store_cpu_s = StoreMeter.cpu_delta(store0, self.store.snapshot())
        for samples, errors in per_thread:
            for login, launch, page, sign in samples:
                result.login_ms.append(1000 * login)
                result.launch_ms.append(1000 * launch)
                result.page_ms.append(1000 * page)
                result.total_ms.append(1000 * (login + launch + page))
                result.sign_ms.append(1000 * sign)
            result.errors += len(errors)
            result.error_samples.extend(errors)
        del result.error_samples[3:]
        return result


# --- starting and stopping the tools ------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(port: int, path: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; log {log}:\n{tail(log)}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no answer from 127.0.0.1:{port}{path} in {timeout} s; log {log}:\n{tail(log)}")


def wait_workers(proc: subprocess.Popen[bytes], workers: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(children_of(proc.pid)) < workers:
        time.sleep(0.1)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 25.0) -> None:
    """Stop one process we started (gunicorn: SIGTERM = graceful shutdown of its workers)."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("LTI_MICROCRED_", "BARE_"))}


def run_checked(cmd: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as fh:
        done = subprocess.run(cmd, env=env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}); log {log}:\n{tail(log)}")


REGISTER_SNIPPET = """
import json, os
from lti_microcred.core.config import load_settings
from lti_microcred.core.db import transaction
from lti_microcred.lti.admin import PlatformSpec, add_platform
from lti_microcred.services import Services
s = Services.from_settings(load_settings())
spec = PlatformSpec(issuer=os.environ["BENCH_ISSUER"], client_id=os.environ["BENCH_CLIENT_ID"],
    auth_login_url=os.environ["BENCH_ISSUER"] + "/mod/lti/auth.php",
    auth_token_url=os.environ["BENCH_ISSUER"] + "/mod/lti/token.php",
    key_set_url=os.environ.get("BENCH_KEY_SET_URL") or None,
    key_set_json=os.environ.get("BENCH_KEY_SET_JSON") or None,
    name="Bench Moodle", deployment_policy="hold", source="manual")
with transaction(s.sessions) as session:
    row = add_platform(session, spec, [os.environ["BENCH_DEPLOYMENT_ID"]])
    print("registered platform", row.id, "key set:", "url" if spec.key_set_url else "static")
s.engine.dispose()
"""


def pg_dsns(url: str) -> tuple[str, str, str]:
    """(psycopg DSN of the bench database, DSN of the `postgres` database, database name)."""
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    base, _, dbname = plain.rpartition("/")
    dbname = dbname.split("?", 1)[0]
    return plain, base + "/postgres", dbname


def reset_postgres(url: str) -> None:
    from benchdb import reset_postgres as reset

    reset(url)


def prepare_ours(
    args: argparse.Namespace, backend: str, platform: SimPlatform, run_dir: Path, tmp: Path, jwks_url: str
) -> OursTool:
    port = free_port()
    instance = tmp / f"instance-{backend}"
    instance.mkdir()
    if backend == "sqlite":
        db_url = f"sqlite:///{instance / 'microcred.sqlite3'}"
    else:
        reset_postgres(args.pg_url)
        db_url = args.pg_url
    env = clean_env()
    env.update(
        {
            "LTI_MICROCRED_ENV": "development",
            "LTI_MICROCRED_BASE_URL": f"http://127.0.0.1:{port}",
            "LTI_MICROCRED_DATABASE_URL": db_url,
            "LTI_MICROCRED_SECRET_KEY": SECRET_KEY,
            "LTI_MICROCRED_INSTANCE_PATH": str(instance),
            "LTI_MICROCRED_WORKERS": str(args.workers),
            "LTI_MICROCRED_THREADS": str(args.threads),
            "LTI_MICROCRED_LOG_LEVEL": "WARNING",
            "LTI_MICROCRED_WORKER_IN_PROCESS": "1" if args.ours_delivery == "in-process" else "0",
        }
    )
    log = run_dir / f"ours-{backend}.log"
    run_checked([str(BIN / "microcred"), "init"], env, log)
    reg_env = {
        **env,
        "BENCH_ISSUER": ISSUER,
        "BENCH_CLIENT_ID": CLIENT_ID,
        "BENCH_DEPLOYMENT_ID": DEPLOYMENT_ID,
    }
    if args.ours_keyset == "url":
        reg_env["BENCH_KEY_SET_URL"] = jwks_url
    else:
        reg_env["BENCH_KEY_SET_JSON"] = json.dumps(platform.jwks)
    run_checked([sys.executable, "-c", REGISTER_SNIPPET], reg_env, log)
    tool = OursTool(port, platform, args.login_method)
    tool.env, tool.log = env, log
    return tool


def run_ours(tool: OursTool, args: argparse.Namespace) -> None:
    """`microcred run --port P --workers W`, or the same app under the bare tool's gunicorn command."""
    command = [str(BIN / "microcred"), "run", "--port", str(tool.port), "--workers", str(args.workers)]
    if args.ours_server == "gunicorn":
        command = _gunicorn_command(tool.port, args, "lti_microcred.wsgi:app", REPO)
    serve(tool, command, tool.env, tool.log, args.workers)


def serve(tool: Tool, command: list[str], env: dict[str, str], log: Path, workers: int) -> None:
    """Start one tool's server (output to its log), then wait for /health and for every worker process."""
    with log.open("ab") as fh:
        tool.proc = subprocess.Popen(command, env=env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
    wait_http(tool.port, "/health", tool.proc, log)
    wait_workers(tool.proc, workers)


def _uwsgi_command(port: int, args: argparse.Namespace, app: str) -> list[str]:
    """The very uWSGI command `microcred run` uses, serving an app of this folder."""
    sys.path.insert(0, str(REPO))
    from lti_microcred.app.server import uwsgi_command

    command = uwsgi_command("127.0.0.1", port, args.workers, args.threads, app)
    command[1:1] = ["--chdir", str(BENCH_DIR)]
    return command


def write_bare_config(conf_dir: Path, jwks_url: str) -> Path:
    """The bare tool's pylti1p3 JSON config and key files, as the pylti1p3 example keeps them on disk."""
    tool_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (conf_dir / "private.key").write_bytes(
        tool_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    (conf_dir / "public.key").write_bytes(
        tool_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (conf_dir / "tool.json").write_text(
        json.dumps(
            {
                ISSUER: [
                    {
                        "default": True,
                        "client_id": CLIENT_ID,
                        "auth_login_url": ISSUER + "/mod/lti/auth.php",
                        "auth_token_url": ISSUER + "/mod/lti/token.php",
                        "auth_audience": None,
                        "key_set_url": jwks_url,
                        "key_set": None,
                        "private_key_file": "private.key",
                        "public_key_file": "public.key",
                        "deployment_ids": [DEPLOYMENT_ID],
                    }
                ]
            },
            indent=2,
        )
    )
    return conf_dir / "tool.json"


def start_bare(
    args: argparse.Namespace, platform: SimPlatform, run_dir: Path, tmp: Path, jwks_url: str
) -> BareTool:
    port = free_port()
    conf_dir = tmp / "bare"
    conf_dir.mkdir()
    write_bare_config(conf_dir, jwks_url)
    env = clean_env()
    env.update(
        {
            "BARE_LTI_CONFIG": str(conf_dir / "tool.json"),
            "BARE_CACHE": args.bare_cache,
            "BARE_REDIS_URL": args.redis_url,
            "BARE_CACHE_DIR": str(conf_dir / "cache"),
            "BARE_FLOW": args.bare_flow,
            "BARE_CACHE_KEY_PREFIX": args.cache_key_prefix,
        }
    )
    if args.bare_server == "uwsgi":
        cmd = _uwsgi_command(port, args, "bare_pylti1p3_tool:app")
    else:
        cmd = _gunicorn_command(port, args)
    tool = BareTool(port, platform, args.login_method)
    serve(tool, cmd, env, run_dir / "bare.log", args.workers)
    return tool


def start_floor(args: argparse.Namespace, platform: SimPlatform, run_dir: Path, tmp: Path) -> FloorTool:
    """launch_floor.py's app under the very uWSGI command `microcred run` uses, on a SQLite file."""
    from launch_floor import create_tables

    port = free_port()
    database_url = f"sqlite:///{tmp / 'floor.sqlite3'}"
    create_tables(database_url)
    env = clean_env()
    env.update({"FLOOR_DATABASE_URL": database_url, "FLOOR_JWK": json.dumps(platform.jwks["keys"][0]),
                "FLOOR_ISSUER": ISSUER, "FLOOR_CLIENT_ID": CLIENT_ID, "FLOOR_SECRET": SECRET_KEY})
    tool = FloorTool(port, platform, "GET")  # its login answers GET only
    serve(tool, _uwsgi_command(port, args, "launch_floor:app"), env, run_dir / "floor.log", args.workers)
    return tool


def _gunicorn_command(port: int, args: argparse.Namespace, app: str = "bare_pylti1p3_tool:app",
                      chdir: Path = BENCH_DIR) -> list[str]:
    """gthread workers with threads and keep-alive: how Flask apps are commonly served."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--chdir",
        str(chdir),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(args.threads),
        "--keep-alive",
        "5",
        "--timeout",
        "60",
        "--graceful-timeout",
        "20",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "--forwarded-allow-ips",
        "127.0.0.1",
        app,
    ]


def start_jwks_server(platform: SimPlatform, tmp: Path, run_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The platform's key set URL: python -m http.server on a directory holding certs.json."""
    directory = tmp / "platform"
    directory.mkdir()
    (directory / "certs.json").write_text(json.dumps(platform.jwks))
    port = free_port()
    log = run_dir / "jwks-server.log"
    with log.open("ab") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                str(port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(directory),
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    wait_http(port, "/certs.json", proc, log)
    return proc, f"http://127.0.0.1:{port}/certs.json"


# --- reporting ----------------------------------------------------------------------------------------
def postgres_totals(store: StoreMeter, before: dict[str, Any], launches: int) -> dict[str, float]:
    """pg_stat_database counters over the tool's whole life (warm-up included), read once its backends
    have exited: a backend flushes its statistics on exit, but while idle only every ~10 s."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and store.snapshot()["cpu"]:
        time.sleep(0.2)
    delta = StoreMeter.stats_delta(before, store.snapshot())
    per = {k: v / launches for k, v in delta.items()} if launches else {}
    print(
        f"  PostgreSQL, whole tool life ({launches} launches incl. warm-up), per launch: "
        + "  ".join(f"{k} {v:.2f}" for k, v in per.items())
    )
    return per


def fmt(v: float, digits: int = 1) -> str:
    return "n/a" if v != v else f"{v:.{digits}f}"


def print_phase(r: PhaseResult) -> None:
    s = r.summary()
    lat = s["latency_ms"]
    print(
        f"  {r.tool:>4} {r.backend:<8} round {r.round} users={r.users:<3} ok={r.ok}/{r.launches}"
        f"  {fmt(r.rate)} launches/s  (first-time users {r.first_user_launches})"
    )
    print(
        "      latency ms p50/p99: total {}/{}  login {}/{}  launch {}/{}  page {}/{}"
        "   [driver signing {}/{}]".format(
            *(
                fmt(lat[k][p])
                for k in ("total", "login", "launch", "page", "sign(driver)")
                for p in ("p50", "p99")
            )
        )
    )
    print(
        f"      CPU ms/launch: tool(server processes) {fmt(s['tool_cpu_ms_per_launch'], 2)}"
        f"  | master {fmt(s['master_cpu_ms_per_launch'], 2)}  store {fmt(s['store_cpu_ms_per_launch'], 2)}"
        f"  jwks-server {fmt(s['jwks_server_cpu_ms_per_launch'], 2)}"
        f"  driver {fmt(s['driver_cpu_ms_per_launch'], 2)}"
        f"  | machine busy {fmt(s['machine_busy_ms_per_launch'], 2)}"
        f" ({fmt(s['machine_busy_pct'], 0)}% of {NCPU} cores)"
        f", of which other processes {fmt(s['other_cpu_ms_per_launch'], 2)}"
    )
    if s["other_cpu_ms_per_launch"] > 0.5 * s["tool_cpu_ms_per_launch"]:
        print("      NOTE: other processes used the CPU during this phase; rates and latencies are disturbed")
    if r.worker_pids_changed:
        print("      WARNING: the set of server processes changed during the phase (a worker restarted?)")
    for e in r.error_samples:
        print(f"      error: {e[:400]}")


def compare(results: list[PhaseResult], users: list[int]) -> list[dict[str, Any]]:
    """Each ratio is taken within one round (the two tools ran minutes apart at most, under the same machine
    conditions); the verdicts use the median over rounds, and the spread is printed beside it."""
    rounds = sorted({r.round for r in results})
    bare = {(r.round, r.users): r for r in results if r.tool == "bare"}
    verdicts = []
    print(
        "\n(reference, measured before on this machine for the bare pattern: ~100 launches/s at 1 user, "
        "~160/s at 16 users, ~6 ms tool CPU per launch)"
    )
    groups = [("ours", b) for b in sorted({r.backend for r in results if r.tool == "ours"})]
    groups += [("floor", "sqlite")] if any(r.tool == "floor" for r in results) else []
    for kind, backend in groups:
        measured = {(r.round, r.users): r for r in results if r.tool == kind and r.backend == backend}
        title = "ours" if kind == "ours" else "the floor of the stack (launch_floor.py)"
        print(f"\n== {title} ({backend}) vs bare pylti1p3, {len(rounds)} round(s) ==")
        cpu: dict[int, list[float]] = {u: [] for u in users}
        rate: dict[int, list[float]] = {u: [] for u in users}
        p99: dict[int, list[float]] = {u: [] for u in users}
        for rnd in rounds:
            for u in users:
                o, b = measured.get((rnd, u)), bare.get((rnd, u))
                if not o or not b:
                    continue
                o_cpu, b_cpu = o.per_launch_ms(o.tool_cpu_s), b.per_launch_ms(b.tool_cpu_s)
                cpu[u].append(o_cpu / b_cpu)
                rate[u].append(o.rate / b.rate)
                p99[u].append(pct(o.total_ms, 99))
                print(
                    f"  round {rnd} users={u:<3} launches/s {fmt(o.rate)} vs {fmt(b.rate)} = x{fmt(o.rate / b.rate, 2)}"
                    f"   tool CPU ms/launch {fmt(o_cpu, 2)} vs {fmt(b_cpu, 2)} = x{fmt(o_cpu / b_cpu, 2)}"
                    f"   p99 {fmt(pct(o.total_ms, 99))} vs {fmt(pct(b.total_ms, 99))} ms"
                )
        for u in users:
            if cpu[u]:
                print(
                    f"  median users={u:<3} launches/s x{fmt(median(rate[u]), 2)} ({spread(rate[u])})"
                    f"   tool CPU x{fmt(median(cpu[u]), 2)} ({spread(cpu[u])})"
                    f"   p99 {fmt(median(p99[u]))} ms ({spread(p99[u], 1)})"
                )
        checks = []
        medians = [median(cpu[u]) for u in users if cpu[u]]
        if medians:
            worst = max(medians)
            checks.append(("tool CPU per launch <= 0.5x bare (worst median over user counts)", f"x{fmt(worst, 2)}",
                           worst <= TARGETS["cpu_ratio_max"]))
        hi = max(users)
        if rate[hi]:
            ratio = median(rate[hi])
            checks.append((f"launches/s at {hi} users >= 1.5x bare (median)", f"x{fmt(ratio, 2)}",
                           ratio >= TARGETS["rate16_ratio_min"]))
        if p99.get(1):
            value = median(p99[1])
            checks.append(("p99 of a whole launch at 1 user < 20 ms (median)", f"{fmt(value)} ms",
                           value < TARGETS["p99_1user_ms_max"]))
        errors = sum(r.errors for r in measured.values())
        if errors:
            checks.append(("no failed launches", f"{errors} failed", False))
        for name, value, ok in checks:
            # The targets are the tool's; the floor's line says whether even the least launch would meet them.
            verdict = ("PASS" if ok else "FAIL") if kind == "ours" else ("floor meets" if ok else "floor misses")
            print(f"  {verdict}  {name}: {value}")
            verdicts.append({"tool": kind, "backend": backend, "target": name, "value": value, "pass": ok})
    return verdicts


def spread(values: list[float], digits: int = 2) -> str:
    return f"{fmt(min(values), digits)}..{fmt(max(values), digits)}" if len(values) > 1 else "one round"


def machine_report() -> dict[str, Any]:
    load = os.getloadavg()
    busy0, total0 = machine_cpu()
    time.sleep(1.0)
    busy1, total1 = machine_cpu()
    busy_pct = 100.0 * (busy1 - busy0) / (total1 - total0) if total1 > total0 else float("nan")
    info = {
        "load_avg": load,
        "cpus": NCPU,
        "busy_pct_1s_before_start": busy_pct,
        "python": sys.version.split()[0],
    }
    print(
        f"machine: {NCPU} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"CPU busy {busy_pct:.0f}% over the last second (before starting anything)"
    )
    return info


# --- main -----------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument(
        "--users", default="1,16", help="concurrent simulated users, comma-separated (one phase each)"
    )
    p.add_argument("--launches", type=int, default=300, help="launches per phase")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds of phases; the tools take turns within each round, and the verdicts use the "
                        "median of the per-round ratios (this machine's speed drifts by tens of percent)")
    p.add_argument(
        "--warmup", type=int, default=60, help="warm-up launches per tool (at the highest concurrency)"
    )
    p.add_argument(
        "--workers", type=int, default=3, help="worker processes for both tools (microcred default: CPUs+1)"
    )
    p.add_argument("--threads", type=int, default=4, help="threads per worker process for both tools")
    p.add_argument("--no-bare", action="store_true", help="do not run the bare pylti1p3 tool")
    p.add_argument("--no-floor", action="store_true",
                   help="do not run launch_floor.py (the least a launch costs on this stack) beside the tools")
    p.add_argument("--bare-only", action="store_true", help="run only the bare pylti1p3 tool")
    p.add_argument("--bare-cache", choices=["redis", "filesystem", "simple"], default="redis")
    p.add_argument(
        "--bare-flow",
        choices=["inline", "redirect"],
        default="inline",
        help="bare tool: page in the launch response (as the example) or 303 + from_cache page",
    )
    p.add_argument(
        "--bare-server",
        choices=["gunicorn", "uwsgi"],
        default="gunicorn",
        help="bare tool's server: gunicorn gthread (usual for Flask) or the uWSGI command microcred run uses",
    )
    p.add_argument(
        "--ours-server",
        choices=["uwsgi", "gunicorn"],
        default="uwsgi",
        help="lti_microcred's server: `microcred run` (uWSGI), or lti_microcred.wsgi:app under the bare tool's "
        "gunicorn command",
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    p.add_argument(
        "--ours-delivery",
        choices=["in-process", "separate"],
        default="in-process",
        help="in-process: each web process also runs the outbox delivery thread (the default set-up, its CPU "
        "counts as the tool's); separate: LTI_MICROCRED_WORKER_IN_PROCESS=0, as with `microcred worker`",
    )
    p.add_argument(
        "--ours-keyset",
        choices=["static", "url"],
        default="static",
        help="register the simulated platform with a static JWKS or with the JWKS URL",
    )
    p.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/bench",
        help="database for the postgres backend (created if missing; its schema public is dropped)",
    )
    p.add_argument("--login-method", choices=["GET", "POST"], default="GET")
    p.add_argument("--pool-users", type=int, default=200)
    p.add_argument("--courses", type=int, default=10)
    p.add_argument("--links-per-course", type=int, default=3)
    p.add_argument("--key-bits", type=int, default=2048, help="the platform's RSA key size")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--results-dir", default=str(BENCH_DIR / "results"))
    p.add_argument("--keep", action="store_true", help="keep the temporary instance directories")
    args = p.parse_args(argv)
    args.user_counts = [int(x) for x in args.users.split(",") if x.strip()]
    args.cache_key_prefix = f"lmcbench-{os.getpid()}-{int(time.time())}-"
    return args


@dataclass
class Running:
    """One tool started for the whole run, with what its phases need."""

    kind: str
    backend: str
    label: str
    tool: Tool
    store: StoreMeter
    runner: Runner
    db_before: dict[str, Any]
    launched: int = 0


def start_target(args: argparse.Namespace, kind: str, backend: str, platform: SimPlatform, run_dir: Path,
                 tmp: Path, jwks_url: str, jwks_pid: int) -> Running:
    print(f"\n-- starting {kind} {'' if backend == '-' else backend} ...", flush=True)
    db_before: dict[str, Any] = {}
    if kind == "bare":
        store = StoreMeter("redis", redis_url=args.redis_url) if args.bare_cache == "redis" else StoreMeter("none")
        tool: Tool = start_bare(args, platform, run_dir, tmp, jwks_url)
        label = f"{args.bare_cache}-cache"
    elif kind == "floor":
        store, tool, label = StoreMeter("none"), start_floor(args, platform, run_dir, tmp), "sqlite"
    else:
        ours = prepare_ours(args, backend, platform, run_dir, tmp, jwks_url)
        if backend == "postgres":
            _, admin, dbname = pg_dsns(args.pg_url)
            store = StoreMeter("postgres", pg_admin_dsn=admin, pg_db=dbname)
        else:
            store = StoreMeter("none")
        db_before = store.snapshot()
        tool = ours
        run_ours(ours, args)
        label = backend
    return Running(kind, backend, f"{kind} {label}", tool, store, Runner(tool, label, store, jwks_pid), db_before)


def warm_up(target: Running, users: int, plan: list[tuple[int, int]]) -> None:
    if not plan:
        return
    warm = target.runner.run(users, plan, "warmup")
    target.launched += warm.ok
    print(f"  warm-up: {warm.ok}/{warm.launches} ok, {fmt(warm.rate)} launches/s")
    for e in warm.error_samples:
        print(f"      error: {e[:400]}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = Path(args.results_dir) / f"launch-{stamp}"
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="lmc-bench-"))
    info = machine_report()
    print(f"run directory: {run_dir}   temp: {tmp}")
    print(
        f"settings: rounds={args.rounds} launches/phase={args.launches} users={args.user_counts} warmup={args.warmup} "
        f"workers={args.workers} threads={args.threads} bare-cache={args.bare_cache} "
        f"bare-flow={args.bare_flow} ours-server={args.ours_server} ours-keyset={args.ours_keyset} "
        f"ours-delivery={args.ours_delivery} "
        f"login={args.login_method} pool={args.pool_users} users/"
        f"{args.courses} courses/{args.links_per_course} links per course, platform key {args.key_bits} bits"
    )
    platform = SimPlatform(args.pool_users, args.courses, args.links_per_course, args.key_bits)
    backends = (
        [] if args.bare_only else (["sqlite", "postgres"] if args.backend == "both" else [args.backend])
    )
    plans = {
        (rnd, u): platform.plan(args.launches, args.seed * 1000 + 100 * (rnd - 1) + u)
        for rnd in range(1, args.rounds + 1)
        for u in args.user_counts
    }
    warm_plan = platform.plan(args.warmup, args.seed * 1000 + 999)
    results: list[PhaseResult] = []
    db_stats: dict[str, dict[str, float]] = {}
    jwks_proc, jwks_url = start_jwks_server(platform, tmp, run_dir)
    running: list[Running] = []
    try:
        targets: list[tuple[str, str]] = [] if args.no_bare else [("bare", "-")]
        targets += [] if args.no_floor or args.bare_only else [("floor", "sqlite")]
        targets += [("ours", b) for b in backends]
        for kind, backend in targets:  # every tool runs from here on; they idle while another one is measured
            running.append(start_target(args, kind, backend, platform, run_dir, tmp, jwks_url, jwks_proc.pid))
            warm_up(running[-1], max(args.user_counts), warm_plan)
        for rnd in range(1, args.rounds + 1):
            # Alternate the order from round to round, so that a drift of the machine favours no tool.
            order = running if rnd % 2 else running[::-1]
            print(f"\n-- round {rnd}/{args.rounds}: " + ", ".join(t.label for t in order), flush=True)
            for u in args.user_counts:
                for target in order:
                    r = target.runner.run(u, plans[(rnd, u)], f"users={u}")
                    r.round = rnd
                    results.append(r)
                    target.launched += r.ok
                    print_phase(r)
        for target in running:
            if target.kind == "ours" and target.backend == "postgres":
                stop(target.tool.proc)  # exiting backends flush their statistics at once (idle ones every ~10 s)
                db_stats[target.backend] = postgres_totals(target.store, target.db_before, target.launched)
    finally:
        for target in running:
            stop(target.tool.proc)
            if target.kind == "bare":
                target.store.delete_keys(args.cache_key_prefix)
            target.store.close()
        stop(jwks_proc)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    verdicts = compare(results, args.user_counts) if not args.no_bare and not args.bare_only else []
    out = {
        "machine": info,
        "args": {k: v for k, v in vars(args).items()},
        "phases": [r.summary() for r in results],
        "verdicts": verdicts,
        "targets": TARGETS,
        "postgres_per_launch": db_stats,
        "reference_note": "bare pattern measured before on this machine: ~100 launches/s at 1 user, "
        "~160/s at 16 users, ~6 ms tool CPU per launch",
    }
    (run_dir / "results.json").write_text(json.dumps(out, indent=2, default=str))
    print(f"\nresults: {run_dir / 'results.json'}   load average now {os.getloadavg()[0]:.2f}")
    failed = sum(r.errors for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
