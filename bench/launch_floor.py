#!/usr/bin/env python
"""The floor of a launch in this stack: the least CPU a three-request launch can cost on Flask + SQLAlchemy
Core + uWSGI, measured the way launch_bench.py measures the tool.

The app below does only what any secure launch must do, with none of the tool's features:
  1. GET /login: a random state, a nonce derived from it by HMAC (nothing stored), a state cookie, a 302;
  2. POST /launch: the cookie checked against the state, the id_token verified (RS256, aud, exp, iat, nonce),
     one INSERT of a session row (unique nonce = replay protection), one commit, a 303 to /s/<token>/;
  3. GET /s/<token>/: one SELECT of the session by the token's hash, one small Jinja template.
No registry lookup, no users/courses/links/memberships, no roles mapping, no error pages, no security headers,
no CSRF, no storage fallbacks. Whatever the tool costs above this number is the price of its features; this
number itself is what Flask, SQLAlchemy, PyJWT and the server cost, and no change to the tool removes it.

Usage (from the repository root):
  .venv/bin/python bench/launch_floor.py [--users 1,16] [--launches 1000] [--workers 3] [--threads 4]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jwt

BENCH_DIR = Path(__file__).resolve().parent
ISSUER, CLIENT_ID, KID = "https://moodle.floor.test", "floor-client", "floor-key"
SECRET = b"floor-secret-0123456789abcdef0123456789abcdef"


# --- the app (imported by uWSGI as launch_floor:app; reads its settings from the environment) ---------------
def create_app() -> Any:
    from flask import Flask, redirect, request
    from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, create_engine, event, insert, select
    from werkzeug.wrappers import Response

    metadata = MetaData()
    sessions = Table(
        "floor_sessions", metadata,
        Column("id", Integer, primary_key=True), Column("token_hash", String(64), unique=True),
        Column("nonce", String(64), unique=True), Column("sub", String(255)), Column("name", String(255)),
        Column("role", String(32)), Column("context_id", String(255)), Column("created", Integer),
    )
    engine = create_engine(os.environ["FLOOR_DATABASE_URL"], connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _wal(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    public_key = jwt.PyJWK(json.loads(os.environ["FLOOR_JWK"])).key
    insert_session = insert(sessions)
    select_session = select(sessions.c.sub, sessions.c.name, sessions.c.role, sessions.c.context_id).where(
        sessions.c.token_hash == bindparam("token_hash"))
    page = "<!doctype html><title>Home</title><main data-role=\"{{ role }}\"><h1>Hello {{ name }}</h1>" \
           "<p>Course {{ context }}</p></main>"
    app = Flask(__name__)
    template = app.jinja_env.from_string(page)  # compiled once, as Flask does for template files

    def mac(value: str) -> str:
        return hmac.new(SECRET, value.encode(), hashlib.sha256).hexdigest()

    @app.get("/login")
    def login() -> Response:
        state = secrets.token_urlsafe(24)
        query = urlencode({"scope": "openid", "response_type": "id_token", "client_id": CLIENT_ID,
                           "redirect_uri": request.args["target_link_uri"], "login_hint": request.args["login_hint"],
                           "state": state, "nonce": mac("nonce" + state), "response_mode": "form_post",
                           "prompt": "none"})
        response = redirect(ISSUER + "/auth?" + query, 302)
        response.set_cookie("floor_state", mac("cookie" + state), httponly=True, path="/")
        return response

    @app.post("/launch")
    def launch() -> Response | tuple[str, int]:
        state = request.form["state"]
        if not hmac.compare_digest(request.cookies.get("floor_state", ""), mac("cookie" + state)):
            return "state mismatch", 400
        claims = jwt.decode(request.form["id_token"], public_key, algorithms=["RS256"], audience=CLIENT_ID,
                            issuer=ISSUER, options={"require": ["exp", "iat", "nonce", "sub"]})
        if claims["nonce"] != mac("nonce" + state):
            return "nonce mismatch", 400
        token = secrets.token_urlsafe(32)
        with engine.begin() as conn:
            conn.execute(insert_session, {
                "token_hash": hashlib.sha256(token.encode()).hexdigest(), "nonce": claims["nonce"],
                "sub": claims["sub"], "name": claims.get("name"), "role": "learner",
                "context_id": claims.get("https://purl.imsglobal.org/spec/lti/claim/context", {}).get("id"),
                "created": int(time.time())})
        return redirect(f"/s/{token}/", 303)

    @app.get("/s/<token>/")
    def home(token: str) -> str | tuple[str, int]:
        with engine.connect() as conn:
            row = conn.execute(select_session, {"token_hash": hashlib.sha256(token.encode()).hexdigest()}).first()
        if row is None:
            return "no session", 403
        return template.render(role=row.role, name=row.name, context=row.context_id)

    metadata.create_all(engine)
    return app


if __name__ != "__main__" and os.environ.get("FLOOR_DATABASE_URL"):
    app = create_app()


# --- the driver -------------------------------------------------------------------------------------------
def main() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    sys.path.insert(0, str(BENCH_DIR))
    from launch_bench import children_of, free_port, pct, proc_cpu, query_value, stop

    sys.path.insert(0, str(BENCH_DIR.parent))
    from lti_microcred.server import uwsgi_command

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", default="1,16")
    p.add_argument("--launches", type=int, default=1000)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--threads", type=int, default=4)
    args = p.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=KID, alg="RS256", use="sig")
    workdir = tempfile.mkdtemp(prefix="lmc-floor-")
    port = free_port()
    env = {**os.environ, "FLOOR_DATABASE_URL": f"sqlite:///{workdir}/floor.db", "FLOOR_JWK": json.dumps(jwk)}
    os.environ.update(FLOOR_DATABASE_URL=env["FLOOR_DATABASE_URL"], FLOOR_JWK=env["FLOOR_JWK"])
    create_app()  # the table, before the processes start
    command = uwsgi_command("127.0.0.1", port, args.workers, args.threads, module="launch_floor:app")
    log = open(Path(workdir) / "server.log", "wb")  # noqa: SIM115 (closed with the server)
    server = subprocess.Popen(command, cwd=BENCH_DIR, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while len(children_of(server.pid)) < args.workers + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)

        def one(conn: http.client.HTTPConnection, n: int) -> list[float]:
            t0 = time.perf_counter()
            conn.request("GET", "/login?" + urlencode({"iss": ISSUER, "login_hint": str(n), "client_id": CLIENT_ID,
                                                      "target_link_uri": f"http://127.0.0.1:{port}/launch"}))
            resp = conn.getresponse()
            resp.read()
            t1 = time.perf_counter()
            location = resp.getheader("Location") or ""
            cookie = (resp.getheader("Set-Cookie") or "").split(";", 1)[0]
            now = int(time.time())
            token = jwt.encode({"iss": ISSUER, "aud": CLIENT_ID, "sub": f"user-{n % 200}", "name": f"User {n % 200}",
                                "iat": now, "exp": now + 60, "nonce": query_value(location, "nonce"),
                                "https://purl.imsglobal.org/spec/lti/claim/context": {"id": str(n % 10)}},
                               key, algorithm="RS256", headers={"kid": KID})
            body = f"id_token={token}&state={quote(query_value(location, 'state'), safe='')}"
            t2 = time.perf_counter()
            conn.request("POST", "/launch", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                   "Cookie": cookie})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 303, resp.status
            conn.request("GET", resp.getheader("Location") or "")
            resp = conn.getresponse()
            page = resp.read()
            t3 = time.perf_counter()
            assert resp.status == 200 and b'data-role="learner"' in page, page[:200]
            return [1000 * (t1 - t0 + t3 - t2)]

        def phase(users: int, launches: int) -> tuple[float, float, list[float]]:
            latencies: list[float] = []
            lock = threading.Lock()
            counter = iter(range(launches))

            def loop() -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                for n in counter:
                    got = one(conn, n)
                    with lock:
                        latencies.extend(got)
                conn.close()

            pids = children_of(server.pid)
            cpu0 = {pid: proc_cpu(pid) for pid in pids}
            t0 = time.perf_counter()
            threads = [threading.Thread(target=loop) for _ in range(users)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            cpu = sum(proc_cpu(pid) - cpu0.get(pid, 0.0) for pid in children_of(server.pid))
            return launches / wall, 1000 * cpu / launches, latencies

        phase(4, 200)  # warm-up: every process imports, connects and compiles
        print(f"launch floor: Flask + SQLAlchemy Core + PyJWT under `microcred run`'s uWSGI command, "
              f"{args.workers} processes x {args.threads} threads, SQLite WAL")
        for users in [int(u) for u in args.users.split(",")]:
            rate, cpu_ms, lat = phase(users, args.launches)
            print(f"  users={users:<3} {rate:7.1f} launches/s   server CPU {cpu_ms:.2f} ms/launch   "
                  f"latency p50 {pct(lat, 50):.1f} ms  p99 {pct(lat, 99):.1f} ms")
    finally:
        stop(server)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
