#!/usr/bin/env python
"""Gradebook delivery benchmark: 10,000 scores for 2,000 learners to a loopback AGS stub.

Three ways of sending the same scores, side by side:

  * pylti1p3, as its Flask example does it: a new ServiceConnector (hence a new access token, a private key
    loaded from PEM and a new connection) per score;
  * pylti1p3 with one connector kept alive and its token cached (the best the library can do);
  * lti_microcred: MODULE_RESULT rows in the outbox (written beforehand, as the domain writes them), delivered
    by ONE worker (`Worker.drain`, the loop of `microcred worker`) with its pooled keep-alive connections and
    its shared token cache, then settled in the database (SQLite and/or PostgreSQL).

Some learner x column values are decided several times before the worker runs (`--repeats` of them,
`--versions` decisions each): the superseded ones must coalesce into one post, and the stub must end with the
last decided value. Then the same delivery with the stub failing 20 % of requests at random (500, 503 with
Retry-After: 1, 429, dropped connections): time to drain, and a check that the stub's final state is exactly
the intended one (every learner and column: the last decided value and its timestamp).

Ends with PASS/FAIL against the targets (exit status 1 if any fails): at least 1,000 scores/s with one worker,
one token request per token lifetime, superseded values coalesced, never an older value after a newer one
(the stub refuses those, as Canvas does), and the final state equal to the last decided values.

The stub runs in its own process (`ags_bench.py --stub`): a threaded HTTP/1.1 keep-alive server that
counts token requests, applies scores unless their timestamp is older than the one it holds (Canvas
semantics), lists a learner's result (the tool reads it before every score after a cell's first, as it does
for Canvas, to leave a teacher's grade alone) and reports its state as JSON.

Usage (from the repository root; a few minutes at most, mostly the slow pylti1p3 pattern):
  .venv/bin/python bench/ags_bench.py                       # SQLite, all variants
  .venv/bin/python bench/ags_bench.py --backend both        # also PostgreSQL (database `bench_lms`, reset)
  .venv/bin/python bench/ags_bench.py --per-call 100 --kept-alive 2000 --scores 10000 --learners 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/score",
          "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
          "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"]
# Its own scratch database (created when missing): `bench` is reset by the launch benchmark, maybe meanwhile.
# A 429 here has no Retry-After: a 429 with one pauses the whole platform by design (see lms/access.py), which
# against random 429s would measure the pauses rather than the delivery.
FAULTS = ("500", "503", "429", "drop")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_lms"
TOKEN_LIFETIME = 3600  # seconds, as the stub's tokens say (expires_in)
TARGET_RATE = 1000.0  # scores/s with one worker


# --- the stub LMS (its own process) -----------------------------------------------------------------------------
class Stub:
    def __init__(self, fail_rate: float, seed: int) -> None:
        self.lock = threading.Lock()
        self.fail_rate, self.rng = fail_rate, random.Random(seed)
        self.tokens = self.posts = self.failed = self.refused_older = 0
        self.results: dict[str, tuple[float, str]] = {}


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and a body are two writes: without it each answer with a body waits ~40 ms
    stub: Stub

    def log_message(self, *_: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), "Content-Type": "application/json",
                            **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        stub = self.stub
        if self.path == "/token":
            with stub.lock:
                stub.tokens += 1
            return self._answer(200, json.dumps({"access_token": f"tok-{stub.tokens}", "token_type": "bearer",
                                                 "expires_in": TOKEN_LIFETIME, "scope": " ".join(SCOPES)}).encode())
        if self.path == "/config":
            stub.fail_rate = json.loads(body)["fail_rate"]
            return self._answer(200, b"{}")
        with stub.lock:
            stub.posts += 1
            fault = stub.rng.choice(FAULTS) if stub.rng.random() < stub.fail_rate else None
            if fault:
                stub.failed += 1
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if fault:
            return self._answer(int(fault), b'{"error":"injected"}', {"Retry-After": "1"} if fault == "503" else {})
        score = json.loads(body)
        key = f"{self.path.split('/')[2]}/{score['userId']}"
        with stub.lock:
            held = stub.results.get(key)
            if held is not None and held[1] > score["timestamp"]:
                stub.refused_older += 1
                return self._answer(400, b'{"error":"timestamp older than the last score"}')
            stub.results[key] = (score.get("scoreGiven"), score["timestamp"])
        return self._answer(200)

    def do_GET(self) -> None:
        stub = self.stub
        if "/results" in self.path:  # Canvas's results of one learner, read before every score after a cell's first
            item, query = self.path.split("/")[2], self.path.partition("?")[2]
            user = dict(parse_qsl(query)).get("user_id", "")
            with stub.lock:
                held = stub.results.get(f"{item}/{user}")
            rows = [{"userId": user, "resultScore": held[0]}] if held and held[0] is not None else []
            return self._answer(200, json.dumps(rows).encode())
        with stub.lock:
            state = {"tokens": stub.tokens, "posts": stub.posts, "failed": stub.failed,
                     "refused_older": stub.refused_older, "results": stub.results}
        self._answer(200, json.dumps(state).encode())


def serve_stub(port: int, fail_rate: float, seed: int) -> None:
    StubHandler.stub = Stub(fail_rate, seed)
    server = ThreadingHTTPServer(("127.0.0.1", port), StubHandler)
    server.daemon_threads = True
    server.serve_forever()


class StubProcess:
    """The stub in a separate process, so its CPU is not the worker's."""

    def __init__(self, fail_rate: float = 0.0, seed: int = 1) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, __file__, "--stub", "--port", str(self.port),
                                         "--fail-rate", str(fail_rate), "--seed", str(seed)])
        for _ in range(100):
            try:
                requests.get(self.url + "/state", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("the stub did not start")

    def state(self) -> dict[str, Any]:
        return requests.get(self.url + "/state", timeout=10).json()  # type: ignore[no-any-return]

    def cpu_seconds(self) -> float:
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(5)


# --- pylti1p3 --------------------------------------------------------------------------------------------------
def _pylti1p3_registration(stub: StubProcess, pem: str) -> Any:
    from pylti1p3.registration import Registration

    return (Registration().set_issuer("https://lms.example").set_client_id("bench-client")
            .set_auth_token_url(stub.url + "/token").set_tool_private_key(pem))


def pylti1p3_run(stub: StubProcess, pem: str, count: int, keep_alive: bool) -> dict[str, Any]:
    """Sequential put_grade calls; per call a new connector (the example) or one connector with a cache."""
    from pylti1p3.assignments_grades import AssignmentsGradesService
    from pylti1p3.grade import Grade
    from pylti1p3.service_connector import ServiceConnector

    class PerInstanceCache(ServiceConnector):  # pylti1p3 2.0's behaviour: the token lives as long as the connector
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._tokens: dict[str, str] = {}

        def _get_cached_access_token(self, scope_key: str) -> str | None:
            return self._tokens.get(scope_key)

        def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
            self._tokens[scope_key] = access_token

    registration = _pylti1p3_registration(stub, pem)
    shared = PerInstanceCache(registration)
    before, lost = stub.state(), 0
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(count):
        connector = shared if keep_alive else PerInstanceCache(registration)
        ags = AssignmentsGradesService(connector, {"scope": SCOPES, "lineitem": f"{stub.url}/lineitems/p{i % 5}"})
        grade = (Grade().set_score_given(i % 50).set_score_maximum(50).set_user_id(f"u{i}")
                 .set_timestamp(dt.datetime.now(dt.UTC).isoformat()).set_activity_progress("Completed")
                 .set_grading_progress("FullyGraded"))
        try:
            ags.put_grade(grade)
        except Exception:  # pylti1p3 raises on any error; the score is simply lost
            lost += 1
    elapsed = time.perf_counter() - started
    after = stub.state()
    return {"scores": count, "seconds": elapsed, "rate": count / elapsed, "tokens": after["tokens"] - before["tokens"],
            "cpu_ms_per_score": 1000 * (time.process_time() - cpu) / count, "lost": lost}


# --- lti_microcred -------------------------------------------------------------------------------------------------
def prepare(backend: str, tmp: Path, stub: StubProcess, learners: int, modules: int) -> Any:
    """A migrated database with keys, a platform whose token URL is the stub, learners and columns."""
    from benchdb import reset_postgres

    from lti_microcred.competencies.models import Module
    from lti_microcred.core.config import load_settings
    from lti_microcred.core.db import transaction
    from lti_microcred.core.migrate import upgrade
    from lti_microcred.lms.models import GradebookColumn
    from lti_microcred.lti.keys import ensure_keys
    from lti_microcred.lti.models import Context, Deployment, Platform, User
    from lti_microcred.services import Services

    url = PG_URL if backend == "postgres" else f"sqlite:///{tmp / 'bench.sqlite3'}"
    services = Services.from_settings(load_settings({
        "env": "development", "base_url": "http://127.0.0.1:9", "instance_path": str(tmp), "database_url": url,
        "secret_key": "bench-secret-key-" + "x" * 40, "log_level": "WARNING"}, environ={}))
    if backend == "postgres":
        reset_postgres(PG_URL)
    upgrade(services.engine)
    with transaction(services.sessions) as session:
        ensure_keys(session, services.box)
        platform = Platform(name="Stub", issuer="https://lms.example", client_id="bench-client",
                            auth_login_url=stub.url + "/auth", auth_token_url=stub.url + "/token",
                            key_set_url=stub.url + "/jwks", status="active", product_family_code="canvas")
        session.add(platform)
        session.flush()
        deployment = Deployment(platform_id=platform.id, lti_deployment_id="1", status="active")
        session.add(deployment)
        session.flush()
        context = Context(platform_id=platform.id, deployment_id=deployment.id, lti_context_id="C1", title="Bench")
        session.add(context)
        session.flush()
        session.add_all(User(platform_id=platform.id, sub=f"u{i}", name=f"Learner {i}") for i in range(learners))
        items = [Module(key=f"m{n}", context_id=context.id, title=f"Module {n}", score_maximum=50) for n in
                 range(modules)]
        session.add_all(items)
        session.flush()
        session.add_all(GradebookColumn(platform_id=platform.id, context_id=context.id, subject_kind="module",
                                        subject_id=m.id, lineitem_url=f"{stub.url}/lineitems/{m.id}",
                                        label=m.title, score_maximum=50, source="deep_link") for m in items)
    return services


def enqueue(services: Any, scores: int, learners: int, salt: int = 0, repeats: float = 0.0,
            versions: int = 1) -> tuple[dict[str, tuple[float, str]], int]:
    """The outbox rows the domain would have written: `scores` learner x column values, the first `repeats`
    of them decided `versions` times (later decisions, later timestamps). Returns the intended final state per
    item/user (the last decision of each) and the number of rows written."""
    from sqlalchemy import select

    from lti_microcred.competencies.models import Module
    from lti_microcred.core import outbox
    from lti_microcred.core.db import transaction
    from lti_microcred.lms.ags import iso
    from lti_microcred.lti.models import User

    intended: dict[str, tuple[float, str]] = {}
    rows = 0
    with transaction(services.sessions) as session:
        users = session.execute(select(User.id, User.sub).order_by(User.id)).all()[:learners]
        modules = session.execute(select(Module.id, Module.context_id).order_by(Module.id)).all()
        platform_id = session.execute(select(outbox.OutboxMessage.platform_id).limit(1)).scalar() or 1
        start = dt.datetime.now(dt.UTC)
        repeated = int(scores * repeats)
        for version in range(max(1, versions)):
            for n in range(scores if version == 0 else repeated):
                user, module = users[n % len(users)], modules[(n // len(users)) % len(modules)]
                when = iso(start + dt.timedelta(microseconds=version * scores + n))
                score = float((n * 7 + salt + 13 * version) % 51)
                outbox.enqueue(session, outbox.MODULE_RESULT, platform_id, {
                    "module_id": module.id, "context_id": module.context_id, "learner_id": user.id,
                    "user_sub": user.sub, "score_given": score, "score_maximum": 50.0, "met": 1, "required": 1,
                    "timestamp": when, "activity": "Completed"}, f"module:{module.id}:{user.id}")
                intended[f"{module.id}/{user.sub}"] = (score, when)
                rows += 1
    return intended, rows


def ours(services: Any, stub: StubProcess, intended: dict[str, tuple[float, str]], backoff: float,
         backoff_max: float, concurrency: int, batch: int) -> dict[str, Any]:
    from lti_microcred.lms.delivery.worker import WorkerOptions
    from lti_microcred.services import lms_runtime

    runtime = lms_runtime(services)
    worker = runtime.worker(WorkerOptions(batch=batch, concurrency=concurrency, backoff_seconds=backoff,
                                          backoff_max_seconds=backoff_max, poll_seconds=0.05))
    before, stub_cpu = stub.state(), stub.cpu_seconds()
    started, cpu = time.perf_counter(), time.process_time()
    delivered = worker.drain(timeout=900)
    elapsed = time.perf_counter() - started
    cpu_used, stub_used = time.process_time() - cpu, stub.cpu_seconds() - stub_cpu
    worker.stop()
    after = stub.state()
    wrong = [k for k, v in intended.items() if tuple(after["results"].get(k, (None, None))) != v]
    return {"scores": len(intended), "rows": delivered, "seconds": elapsed, "rate": len(intended) / elapsed,
            "tokens": after["tokens"] - before["tokens"], "posts": after["posts"] - before["posts"],
            "refused_older": after["refused_older"] - before["refused_older"],
            "failed_posts": after["failed"] - before["failed"], "wrong_or_missing": len(wrong),
            "cpu_ms_per_score": 1000 * cpu_used / len(intended), "stub_cpu_ms_per_post":
                1000 * stub_used / max(1, after["posts"] - before["posts"])}


# --- the run ---------------------------------------------------------------------------------------------------------
def report(label: str, r: dict[str, Any]) -> None:
    extra = "".join(f", {k}={v}" for k, v in r.items()
                    if k in ("lost", "posts", "failed_posts", "refused_older", "wrong_or_missing"))
    if "stub_cpu_ms_per_post" in r:
        extra += f", stub cpu={r['stub_cpu_ms_per_post']:.2f} ms/post"
    print(f"  {label:<58} {r['rate']:>8.0f} scores/s  {r['seconds']:>7.2f} s  tokens={r['tokens']}"
          f"  cpu={r['cpu_ms_per_score']:.2f} ms/score{extra}", flush=True)


class Verdicts:
    """PASS/FAIL lines against the targets; any FAIL makes the exit status 1."""

    def __init__(self) -> None:
        self.failed = 0

    def check(self, ok: bool, what: str) -> None:
        self.failed += not ok
        print(f"    {'PASS' if ok else 'FAIL'}  {what}", flush=True)


def judge(verdicts: Verdicts, clean: dict[str, Any], faulty: dict[str, Any], rows: int) -> None:
    """The targets, from the fault-free run (`clean`, `rows` outbox rows) and the run with faults."""
    seconds = clean["seconds"] + faulty["seconds"]
    tokens, allowed = clean["tokens"] + faulty["tokens"], -(-seconds // TOKEN_LIFETIME)
    verdicts.check(clean["rate"] >= TARGET_RATE,
                   f">= {TARGET_RATE:,.0f} scores/s with one worker: {clean['rate']:,.0f} scores/s")
    verdicts.check(tokens <= allowed, f"one token request per token lifetime ({TOKEN_LIFETIME} s): {tokens} in "
                                      f"{seconds:.1f} s")
    verdicts.check(clean["posts"] == clean["scores"], f"superseded scores coalesce: {rows} decisions -> "
                                                      f"{clean['posts']} posts for {clean['scores']} values")
    for label, r in (("fault-free", clean), ("with faults", faulty)):
        verdicts.check(r["refused_older"] == 0, f"never an older score after a newer one ({label}): the stub "
                                                f"refused {r['refused_older']}")
        verdicts.check(r["wrong_or_missing"] == 0, f"final state equals the last decided values ({label}): "
                                                   f"{r['scores'] - r['wrong_or_missing']}/{r['scores']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stub", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--fail-rate", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    p.add_argument("--scores", type=int, default=10_000, help="learner x column values to deliver")
    p.add_argument("--learners", type=int, default=2_000)
    p.add_argument("--repeats", type=float, default=0.2, help="share of the values decided several times")
    p.add_argument("--versions", type=int, default=3, help="decisions of each repeated value")
    p.add_argument("--per-call", type=int, default=100, help="scores sent the pylti1p3 example's way")
    p.add_argument("--kept-alive", type=int, default=2_000, help="scores sent by pylti1p3 with a kept connector")
    p.add_argument("--concurrency", type=int, default=4,
                   help="deliveries in flight (loopback is CPU-bound: 2-4 is best here; a real LMS's latency wants 8+)")
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--backoff", type=float, default=2.0, help="delivery_backoff_seconds (the setting's default: 2)")
    p.add_argument("--backoff-max", type=float, default=3600.0, help="delivery_backoff_max_seconds (default: 3600)")
    p.add_argument("--failing", type=float, default=0.2)
    args = p.parse_args(argv)
    if args.stub:
        serve_stub(args.port, args.fail_rate, args.seed)
        return 0
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    stub = StubProcess(seed=args.seed)
    verdicts = Verdicts()
    try:
        print("pylti1p3 (sequential put_grade):", flush=True)
        if args.per_call:
            report("new connector + token per score (the Flask example)", pylti1p3_run(stub, pem, args.per_call, False))
        if args.kept_alive:
            report("one connector, kept-alive connection, cached token", pylti1p3_run(stub, pem, args.kept_alive, True))
        for backend in (("sqlite", "postgres") if args.backend == "both" else (args.backend,)):
            with tempfile.TemporaryDirectory(prefix="ags-bench-") as tmp:
                services = prepare(backend, Path(tmp), stub, args.learners, 5)
                print(f"lti_microcred, one worker, {backend} ({args.scores} scores, {args.learners} learners, "
                      f"{args.repeats:.0%} decided {args.versions} times, batch {args.batch}, {args.concurrency} "
                      "in flight):", flush=True)
                intended, rows = enqueue(services, args.scores, args.learners, 0, args.repeats, args.versions)
                clean = ours(services, stub, intended, args.backoff, args.backoff_max, args.concurrency, args.batch)
                report("outbox -> worker -> stub", clean)
                requests.post(stub.url + "/config", json={"fail_rate": args.failing}, timeout=5)
                intended, _ = enqueue(services, args.scores, args.learners, 1, args.repeats, args.versions)
                faulty = ours(services, stub, intended, args.backoff, args.backoff_max, args.concurrency, args.batch)
                report(f"same, stub failing {args.failing:.0%} at random (back-off from {args.backoff:g} s)", faulty)
                requests.post(stub.url + "/config", json={"fail_rate": 0.0}, timeout=5)
                services.engine.dispose()
                judge(verdicts, clean, faulty, rows)
    finally:
        stub.stop()
    print(f"{'all targets met' if not verdicts.failed else f'{verdicts.failed} target(s) missed'}", flush=True)
    return 1 if verdicts.failed else 0


if __name__ == "__main__":
    sys.exit(main())
