#!/usr/bin/env python
"""Where does a launch's server-side time go? Profile lti_microcred in-process, without a server.

Builds the app with lti_microcred.create_app(config) on a temporary SQLite database (or PostgreSQL with
--backend postgres), migrates it (lti_microcred.core.migrate.upgrade), creates the tool keys
(lti_microcred.lti.keys.ensure_keys), registers the simulated Moodle of launch_bench.py with a static key
set, then drives complete launches (login -> launch -> first page) by calling the WSGI app directly with
prepared environs. Only the WSGI call is timed / profiled: building requests and signing id_tokens (the
browser's and the platform's work) happen outside.

Three passes: warm-up; a timed pass without the profiler (real per-request cost); a pass under cProfile
with an SQLAlchemy cursor-execute counter on the engine (statements per request; the listener lives in
this script, nothing in the package changes). The report gives, per step and overall:
  * wall ms per request (unprofiled), SQL statements and commits per request;
  * own time grouped into Flask/Werkzeug, JWT decode/verify (PyJWT, cryptography), SQLAlchemy, DB driver,
    templates (Jinja2, MarkupSafe), pylti1p3, our code (lti_microcred); time in C built-ins and the
    standard library is charged to whoever called it (split by caller, recursively);
  * the top functions by cumulative and by own time, and our own functions by cumulative time;
  * the SQL statements of one first-time launch and of one repeat launch.
The .prof files are written to bench/results/ (open with snakeviz or pstats).

Usage: .venv/bin/python bench/profile_launch.py [--launches 300] [--backend sqlite|postgres]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from launch_bench import (  # noqa: E402
    BROWSER_HEADERS,
    CLIENT_ID,
    DEPLOYMENT_ID,
    ISSUER,
    KID,
    SECRET_KEY,
    SimPlatform,
    StoreMeter,
    pct,
    query_value,
    reset_postgres,
    start_jwks_server,
    stop,
    write_bare_config,
)
from werkzeug.test import EnvironBuilder  # noqa: E402

BASE_URL = "http://localhost"
STEPS = ("login", "launch", "page")
CATEGORIES = {
    "flask": "Flask/Werkzeug request handling",
    "jwt": "JWT decode/verify (PyJWT, cryptography)",
    "sqlalchemy": "SQLAlchemy",
    "driver": "DB driver (sqlite3 / psycopg)",
    "templates": "template rendering (Jinja2, MarkupSafe)",
    "pylti1p3": "pylti1p3",
    "cache": "launch data cache (Flask-Caching, cachelib, redis-py)",
    "http": "HTTP client (requests, urllib3)",
    "ours": "the tool's own code (lti_microcred / bare_pylti1p3_tool.py)",
    "other": "other (stdlib with no categorised caller)",
}
PATH_RULES = (
    ("/lti_microcred/", "ours"),
    ("/site-packages/flask/", "flask"),
    ("/site-packages/werkzeug/", "flask"),
    ("/site-packages/itsdangerous/", "flask"),
    ("/site-packages/blinker/", "flask"),
    ("/site-packages/click/", "flask"),
    ("/site-packages/jwt/", "jwt"),
    ("/site-packages/cryptography/", "jwt"),
    ("/site-packages/jwcrypto/", "jwt"),
    ("/site-packages/sqlalchemy/", "sqlalchemy"),
    ("/site-packages/alembic/", "sqlalchemy"),
    ("/sqlite3/", "driver"),
    ("/site-packages/psycopg", "driver"),
    ("/site-packages/jinja2/", "templates"),
    ("/site-packages/markupsafe/", "templates"),
    ("/site-packages/pylti1p3/", "pylti1p3"),
    ("/site-packages/flask_caching/", "cache"),
    ("/site-packages/cachelib/", "cache"),
    ("/site-packages/redis/", "cache"),
    ("/site-packages/requests/", "http"),
    ("/site-packages/urllib3/", "http"),
    ("/site-packages/idna/", "http"),
    ("/site-packages/charset_normalizer/", "http"),
    ("/site-packages/certifi/", "http"),
    ("/bench/bare_pylti1p3_tool.py", "ours"),
)


# --- the app ------------------------------------------------------------------------------------------
def build_app(args: argparse.Namespace, platform: SimPlatform, tmp: Path) -> Any:
    from lti_microcred import create_app
    from lti_microcred.core.db import transaction
    from lti_microcred.core.migrate import upgrade
    from lti_microcred.lti.admin import PlatformSpec, add_platform
    from lti_microcred.lti.keys import ensure_keys

    if args.backend == "postgres":
        reset_postgres(args.pg_url)
        db_url = args.pg_url
    else:
        db_url = f"sqlite:///{tmp / 'profile.sqlite3'}"
    app = create_app(
        {
            "env": "development",
            "base_url": BASE_URL,
            "instance_path": str(tmp),
            "database_url": db_url,
            "secret_key": SECRET_KEY,
            "log_level": "WARNING",
            "worker_in_process": 0,  # no delivery thread: only the three requests are measured
        }
    )
    services = app.extensions["microcred"]
    upgrade(services.engine)
    spec = PlatformSpec(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        auth_login_url=ISSUER + "/mod/lti/auth.php",
        auth_token_url=ISSUER + "/mod/lti/token.php",
        key_set_json=json.dumps(platform.jwks),
        name="Bench Moodle",
        deployment_policy="hold",
    )
    with transaction(services.sessions) as session:
        ensure_keys(session, services.box)
        add_platform(session, spec, [DEPLOYMENT_ID])
    services.reset_caches()
    return app


def call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    out: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        out[:] = [status, headers]
        return lambda data: None

    iterable = app(environ, start_response)
    try:
        body = b"".join(iterable)
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    return out[0], out[1], body


def header(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in headers if k.lower() == name]


class LaunchDriver:
    """Prepared requests for one tool; the profiled part is exactly the three WSGI calls."""

    def __init__(self, app: Any, platform: SimPlatform, login_path: str, launch_path: str) -> None:
        self.app = app
        self.platform = platform
        self.login_path = login_path
        self.launch_path = launch_path
        self.target = BASE_URL + launch_path
        self.claims = {}
        self.queries = {}
        for u, user in enumerate(platform.users):
            for k, link in enumerate(platform.links[user.course]):
                self.claims[(u, k)] = platform.base_claims(user, link, self.target)
                self.queries[(u, k)] = {
                    "iss": ISSUER,
                    "target_link_uri": self.target,
                    "login_hint": user.sub,
                    "lti_message_hint": json.dumps({"cmid": link.id, "launchid": f"ltilaunch{link.id}_{u}"}),
                    "client_id": CLIENT_ID,
                    "lti_deployment_id": DEPLOYMENT_ID,
                }

    def launch(self, u: int, k: int, hooks: dict[str, Any]) -> dict[str, float]:
        """One launch; hooks[step] = (enter, leave) callables run around each WSGI call."""
        times: dict[str, float] = {}
        env = EnvironBuilder(
            path=self.login_path,
            base_url=BASE_URL,
            query_string=self.queries[(u, k)],
            headers=list(BROWSER_HEADERS.items()),
        ).get_environ()
        status, headers, body = self._timed("login", env, hooks, times)
        if not status.startswith("302"):
            raise RuntimeError(f"login: {status} {body[:300]!r}")
        location = header(headers, "location")[0]
        state, nonce = query_value(location, "state"), query_value(location, "nonce")
        cookie = "; ".join(c.split(";", 1)[0] for c in header(headers, "set-cookie"))
        now = int(time.time())
        claims = dict(self.claims[(u, k)], nonce=nonce, iat=now, exp=now + 60)
        id_token = jwt.encode(claims, self.platform.key, algorithm="RS256", headers={"kid": KID})
        env = EnvironBuilder(
            path=self.launch_path,
            base_url=BASE_URL,
            method="POST",
            data=f"id_token={id_token}&state={quote(state, safe='')}",
            content_type="application/x-www-form-urlencoded",
            headers=[*BROWSER_HEADERS.items(), ("Cookie", cookie), ("Origin", ISSUER)],
        ).get_environ()
        status, headers, body = self._timed("launch", env, hooks, times)
        if status.startswith("200") and b'data-role="' in body:
            times["page"] = times["page:cpu"] = 0.0  # bare tool, inline flow: the launch answered the page
            return times
        if not status.startswith("303"):
            raise RuntimeError(f"launch: {status} {body[:500]!r}")
        target = header(headers, "location")[0]
        env = EnvironBuilder(
            path=target, base_url=BASE_URL, headers=list(BROWSER_HEADERS.items())
        ).get_environ()
        status, headers, body = self._timed("page", env, hooks, times)
        if not status.startswith("200") or b'data-role="' not in body:
            raise RuntimeError(f"page: {status} {body[:500]!r}")
        return times

    def _timed(self, step: str, env: dict[str, Any], hooks: dict[str, Any], times: dict[str, float]) -> Any:
        enter, leave = hooks.get(step, (None, None))
        if enter:
            enter()
        t0, c0 = time.perf_counter(), time.process_time()
        result = call(self.app, env)
        times[step] = time.perf_counter() - t0
        times[step + ":cpu"] = time.process_time() - c0
        if leave:
            leave()
        return result


# --- grouping profile entries ---------------------------------------------------------------------------
def definite_category(key: tuple[str, int, str]) -> str | None:
    filename, _, name = key
    if filename == "~":
        if "sqlite3" in name or "psycopg" in name:
            return "driver"
        return None
    for fragment, category in PATH_RULES:
        if fragment in filename:
            return category
    return None  # stdlib, site-packages we do not name: charged to the caller


def own_time_by_category(stats: pstats.Stats) -> dict[str, float]:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    memo: dict[Any, dict[str, float]] = {}
    active: set[Any] = set()

    def dist(key: Any) -> dict[str, float]:
        category = definite_category(key)
        if category:
            return {category: 1.0}
        if key in memo:
            return memo[key]
        if key in active:
            return {"other": 1.0}
        active.add(key)
        callers = raw[key][4] if key in raw else {}
        weights = {c: v[2] + 1e-12 for c, v in callers.items()}  # own time of key when called by c
        total = sum(weights.values())
        result: dict[str, float] = defaultdict(float)
        if not total:
            result["other"] = 1.0
        for caller, w in weights.items():
            for cat, share in dist(caller).items():
                result[cat] += share * w / total
        active.discard(key)
        memo[key] = dict(result)
        return memo[key]

    totals: dict[str, float] = defaultdict(float)
    for key, (_, _, tt, _, _) in raw.items():
        for cat, share in dist(key).items():
            totals[cat] += tt * share
    return totals


def label(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    short = filename
    for marker in ("/site-packages/", "/lti_microcred/", "/lib/python3.11/"):
        if marker in filename:
            short = ("lti_microcred/" if marker == "/lti_microcred/" else "") + filename.split(marker, 1)[1]
            break
    return f"{short}:{line}({name})"


def print_top(
    stats: pstats.Stats, n_requests: int, field: int, title: str, top: int, only: str | None = None
) -> None:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = sorted(raw.items(), key=lambda kv: kv[1][field], reverse=True)
    if only:
        rows = [kv for kv in rows if only in kv[0][0]]
    print(f"\n{title}  (ms per launch under the profiler; calls per launch)")
    print(f"  {'cum ms':>8} {'own ms':>8} {'calls':>7}  {'group':<10} function")
    for key, (_, nc, tt, ct, _) in rows[:top]:
        print(
            f"  {1000 * ct / n_requests:8.3f} {1000 * tt / n_requests:8.3f} {nc / n_requests:7.1f}  "
            f"{definite_category(key) or '(caller)':<10} {label(key)}"
        )


# --- main ---------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--launches", type=int, default=300, help="launches per pass (timed, then profiled)")
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument(
        "--tool",
        choices=["ours", "bare"],
        default="ours",
        help="ours: lti_microcred; bare: bench/bare_pylti1p3_tool.py (Redis cache, JWKS fetched over HTTP)",
    )
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite", help="ours: the database")
    p.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    p.add_argument("--bare-cache", choices=["redis", "filesystem", "simple"], default="redis")
    p.add_argument("--bare-flow", choices=["inline", "redirect"], default="inline")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    p.add_argument("--pool-users", type=int, default=200)
    p.add_argument("--courses", type=int, default=10)
    p.add_argument("--links-per-course", type=int, default=3)
    p.add_argument("--top", type=int, default=25)
    p.add_argument(
        "--timer",
        choices=["cpu", "wall"],
        default="wall",
        help="profiler clock: wall (default; low overhead, includes waiting on sockets) or process CPU time "
        "(a system call per event: much slower, inflates functions called often)",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--results-dir", default=str(BENCH_DIR / "results"))
    args = p.parse_args(argv)

    load = os.getloadavg()
    what = (
        f"backend {args.backend}"
        if args.tool == "ours"
        else f"cache {args.bare_cache}, flow {args.bare_flow}"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"tool {args.tool}, {what}; {args.launches} launches per pass"
    )
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="lmc-profile-"))
    platform = SimPlatform(args.pool_users, args.courses, args.links_per_course, 2048)
    jwks_proc = None
    engine = None
    prefix = f"lmcprofile-{os.getpid()}-{int(time.time())}-"
    try:
        if args.tool == "bare":
            jwks_proc, jwks_url = start_jwks_server(platform, tmp, out_dir)
            os.environ.update(
                {
                    "BARE_LTI_CONFIG": str(write_bare_config(tmp, jwks_url)),
                    "BARE_CACHE": args.bare_cache,
                    "BARE_REDIS_URL": args.redis_url,
                    "BARE_CACHE_DIR": str(tmp / "cache"),
                    "BARE_FLOW": args.bare_flow,
                    "BARE_CACHE_KEY_PREFIX": prefix,
                }
            )
            import bare_pylti1p3_tool

            driver = LaunchDriver(bare_pylti1p3_tool.app, platform, "/login/", "/launch/")
        else:
            app = build_app(args, platform, tmp)
            engine = app.extensions["microcred"].engine
            driver = LaunchDriver(app, platform, "/lti/login", "/lti/launch")
        return run(args, platform, driver, engine, out_dir)
    finally:
        stop(jwks_proc)
        if engine is not None:
            engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
        if args.tool == "bare" and args.bare_cache == "redis":
            meter = StoreMeter("redis", redis_url=args.redis_url)
            meter.delete_keys(prefix)
            meter.close()


def run(
    args: argparse.Namespace, platform: SimPlatform, driver: LaunchDriver, engine: Any, out_dir: Path
) -> int:
    # 1. warm-up, 2. timed pass without profiler (fresh users in both: the plan draws from the whole pool).
    for u, k in platform.plan(args.warmup, args.seed):
        driver.launch(u, k, {})
    timed: dict[str, list[float]] = defaultdict(list)
    for u, k in platform.plan(args.launches, args.seed + 1):
        for step, seconds in driver.launch(u, k, {}).items():
            timed[step].append(1000 * seconds)

    # 3. profiled pass, with a statement counter on the engine.
    from sqlalchemy import event

    current = {"step": ""}
    statements: Counter[str] = Counter()
    commits: Counter[str] = Counter()
    log: list[tuple[str, str]] = []

    def on_execute(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        statements[current["step"]] += 1
        log.append((current["step"], " ".join(statement.split())))

    def on_commit(conn: Any) -> None:
        commits[current["step"]] += 1

    if engine is not None:
        event.listen(engine, "before_cursor_execute", on_execute)
        event.listen(engine, "commit", on_commit)
    timer = time.process_time if args.timer == "cpu" else time.perf_counter
    profiles = {step: cProfile.Profile(timer) for step in STEPS}

    def hooks_for(step: str) -> tuple[Any, Any]:
        def enter() -> None:
            current["step"] = step
            profiles[step].enable()

        def leave() -> None:
            profiles[step].disable()
            current["step"] = ""

        return enter, leave

    hooks = {step: hooks_for(step) for step in STEPS}
    seen: set[int] = set()
    for u, _ in platform.plan(args.warmup, args.seed) + platform.plan(args.launches, args.seed + 1):
        seen.add(u)
    plan = platform.plan(args.launches, args.seed + 2)
    samples: dict[str, list[tuple[str, str]]] = {}
    for u, k in plan:
        first = u not in seen
        seen.add(u)
        start = len(log)
        driver.launch(u, k, hooks)
        kind = "first launch of a user" if first else "repeat launch of a user"
        samples.setdefault(kind, log[start:])
    n = len(plan)
    if engine is not None:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    prefix = f"profile-{args.tool}-{args.backend if args.tool == 'ours' else args.bare_cache}-{stamp}"
    merged = None
    steps = [s for s in STEPS if profiles[s].getstats()]
    print(
        f"\n== per step: {n} profiled launches ({args.timer} timer); wall and CPU ms from the "
        f"unprofiled pass of {args.launches} =="
    )
    print(
        f"  {'step':<7} {'wall ms':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>7} {'SQL/req':>8} "
        f"{'commits':>8}   own time under profiler by group"
    )
    per_step_groups = {}
    for step in steps:
        prof = profiles[step]
        prof.dump_stats(str(out_dir / f"{prefix}-{step}.prof"))
        stats = pstats.Stats(prof)
        groups = own_time_by_category(stats)
        per_step_groups[step] = groups
        total = sum(groups.values())
        parts = "  ".join(
            f"{g} {100 * v / total:.0f}%"
            for g, v in sorted(groups.items(), key=lambda kv: -kv[1])
            if v / total >= 0.01
        )
        values = timed[step]
        sql = (
            f"{statements[step] / n:8.2f} {commits[step] / n:8.2f}"
            if engine is not None
            else f"{'n/a':>8} {'n/a':>8}"
        )
        print(
            f"  {step:<7} {sum(values) / len(values):8.3f} {pct(values, 50):7.3f} {pct(values, 99):7.3f} "
            f"{sum(timed[step + ':cpu']) / len(values):7.3f} {sql}   {parts}"
        )
        merged = pstats.Stats(prof) if merged is None else merged.add(prof)
    totals_ms = [sum(timed[s][i] for s in STEPS) for i in range(len(timed["login"]))]
    cpu_ms = sum(sum(timed[s + ":cpu"]) for s in STEPS) / len(totals_ms)
    sql = (
        f"{sum(statements.values()) / n:8.2f} {sum(commits.values()) / n:8.2f}" if engine is not None else ""
    )
    print(
        f"  {'all':<7} {sum(totals_ms) / len(totals_ms):8.3f} {pct(totals_ms, 50):7.3f} "
        f"{pct(totals_ms, 99):7.3f} {cpu_ms:7.3f} {sql}"
    )
    assert merged is not None

    groups = own_time_by_category(merged)
    total = sum(groups.values())
    print(
        f"\n== own time by group, whole launch ({1000 * total / n:.2f} ms per launch under the profiler) =="
    )
    for g, v in sorted(groups.items(), key=lambda kv: -kv[1]):
        by_step = "  ".join(f"{s} {1000 * per_step_groups[s].get(g, 0) / n:.3f}" for s in steps)
        print(f"  {CATEGORIES[g]:<62} {1000 * v / n:7.3f} ms  {100 * v / total:5.1f}%   ({by_step})")

    print_top(merged, n, 3, "== top functions by cumulative time ==", args.top)
    print_top(merged, n, 2, "== top functions by own time ==", args.top)
    own = "/lti_microcred/" if args.tool == "ours" else "/bench/bare_pylti1p3_tool.py"
    print_top(merged, n, 3, "== the tool's own code by cumulative time ==", args.top, only=own)

    if engine is not None:
        print("\n== SQL statements of one launch ==")
        for kind, entries in samples.items():
            print(f"  -- {kind}: {len(entries)} statements")
            for step, sql_text in entries:
                print(f"     [{step}] {sql_text[:160]}")
    print(f"\nprofiles: {out_dir}/{prefix}-<step>.prof   (python -m pstats FILE, or snakeviz)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
