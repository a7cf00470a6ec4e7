"""The matrix page and rules re-evaluation at scale, on SQLite and PostgreSQL.

    .venv/bin/python bench/matrix_bench.py                       # both backends, 200 + 2,000 learners
    .venv/bin/python bench/matrix_bench.py --backend sqlite --requests 30 --profile

Builds, with bulk inserts (PostgreSQL: COPY), one platform with two courses of 200 and 2,000 learners; each
course has a published micro-credential of 30 competencies and every learner 10 evidence records per
competency (6 submissions, 5 of them decided; 4 rubric judgements), i.e. 300 per learner, plus the
materialised `competency_progress` rows and some awards. PostgreSQL uses the scratch database `bench`
(schema dropped and migrated again with the Alembic scripts); SQLite a temporary file.

Then it measures, in-process through the Flask test client (server time, no network):
* the matrix page (`/s/<token>/matrix/`, 50 learners per page; first, middle and last page and a name
  search) for each course: p50/p99 ms and SQL statements per request (`before_cursor_execute`);
* the CSV export of the 2,000-learner course (whole response, streamed);
* one new evidence record for one learner with 300 records: the domain's `record_evidence` (which
  re-evaluates the credential, stores progress and would award), p50/p99 ms, statements; rolled back
  after each run so every run sees the same data. `--profile` prints where that time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, event, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdb import reset_postgres  # noqa: E402

from lti_microcred import create_app  # noqa: E402
from lti_microcred.competencies import operations as ops  # noqa: E402
from lti_microcred.competencies.models import (  # noqa: E402
    Assessment,
    Award,
    Competency,
    CompetencyProgress,
    Evidence,
    Framework,
    MicroCredential,
    Module,
    Requirement,
)
from lti_microcred.core.config import load_settings  # noqa: E402
from lti_microcred.core.db import utcnow  # noqa: E402
from lti_microcred.core.migrate import upgrade  # noqa: E402
from lti_microcred.lti.models import Context, Deployment, LaunchSession, Membership, Platform, User  # noqa: E402
from lti_microcred.lti.persistence import token_hash  # noqa: E402
from lti_microcred.services import Services  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
SECRET = "bench-secret-key-that-is-long-enough-0123456789abcdef"
CHUNK = 20_000
RESET_SEQUENCES = tuple(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))"  # noqa: S608
                        for t in ("users", "evidence", "assessments"))


@dataclass
class Course:
    learners: int
    context_id: int = 0
    credential_id: int = 0
    token: str = ""
    learner_ids: list[int] = field(default_factory=list)


@dataclass
class World:
    platform_id: int
    competency_ids: list[int]
    courses: list[Course]


# --- building ---------------------------------------------------------------------------------------------
def reset(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        reset_postgres(engine.url.render_as_string(hide_password=False))
    upgrade(engine)


def bulk(engine: Engine, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert many rows: COPY on PostgreSQL, executemany on SQLite; in chunks, never all in memory."""
    count = 0
    for chunk in _chunks(rows, CHUNK):
        count += len(chunk)
        if engine.dialect.name == "postgresql":
            _copy(engine, table, chunk)
        else:
            with engine.begin() as conn:
                conn.execute(table.insert(), chunk)
    return count


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _copy(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_plain(row[c]) for c in columns])
        raw.commit()
    finally:
        raw.close()


def _plain(value: Any) -> Any:
    """UTCDateTime stores naive UTC; COPY bypasses the type, so do what it does."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def build(services: Services, sizes: Sequence[int], competencies: int, per: int, bystanders: int = 0) -> World:
    engine = services.engine
    with services.sessions() as s:
        platform = Platform(name="Bench LMS", issuer="https://bench.example", client_id="bench",
                            auth_login_url="https://bench.example/auth", auth_token_url="https://bench.example/token",
                            status="active")
        s.add(platform)
        s.flush()
        deployment = Deployment(platform_id=platform.id, lti_deployment_id="1", status="active")
        framework = Framework(platform_id=platform.id, identifier="bench-fw", title="Bench skills", source="manual")
        s.add_all([deployment, framework])
        s.flush()
        comps = [Competency(framework_id=framework.id, identifier=f"B.{i}", code=f"B.{i}", short_name=f"Skill {i}",
                             sort_order=i) for i in range(1, competencies + 1)]
        s.add_all(comps)
        teacher = User(platform_id=platform.id, sub="teacher", name="Terry Teacher")
        s.add(teacher)
        s.flush()
        world = World(platform.id, [c.id for c in comps], [Course(n) for n in sizes])
        for n, course in enumerate(world.courses):
            _course(s, course, n, platform.id, deployment.id, teacher.id, world.competency_ids)
        s.commit()
    next_user = 10_000_000
    next_evidence = 1
    for course in world.courses:
        course.learner_ids = list(range(next_user, next_user + course.learners))
        next_user += course.learners
        next_evidence = _learners(engine, world, course, next_evidence, per)
    if bystanders:
        _bystanders(services, world.platform_id, next_user, bystanders)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for statement in RESET_SEQUENCES:
                conn.execute(text(statement))
            conn.execute(text("ANALYZE"))
    return world


def _course(s: Any, course: Course, n: int, platform_id: int, deployment_id: int, teacher_id: int,
            competency_ids: list[int]) -> None:
    context = Context(platform_id=platform_id, deployment_id=deployment_id, lti_context_id=f"C{n}",
                      title=f"Course of {course.learners}")
    s.add(context)
    s.flush()
    credential = MicroCredential(key=secrets.token_hex(8), platform_id=platform_id, context_id=context.id,
                                 title=f"Credential {n}", learning_outcomes='["x"]', workload_hours=25,
                                 assessment_type="x", quality_assurance="x", awarding_body="x", country="IE",
                                 status="published")
    s.add(credential)
    s.flush()
    module = Module(key=secrets.token_hex(8), context_id=context.id, title="Module", micro_credential_id=credential.id)
    s.add(module)
    s.flush()
    s.add_all(Requirement(micro_credential_id=credential.id, module_id=module.id, competency_id=cid,
                          kind="evidence_count" if i % 2 else "rubric", min_count=3 if i % 2 else None,
                          min_level=None if i % 2 else 3, evidence_kinds="submission,workplace" if i % 2 else None)
              for i, cid in enumerate(competency_ids))
    s.add(Membership(context_id=context.id, user_id=teacher_id, role="instructor"))
    course.token = secrets.token_urlsafe(32)
    now = utcnow()
    s.add(LaunchSession(token_hash=token_hash(course.token), nonce=secrets.token_hex(16), id_token_hash="x",
                        state_hash="x", status="active", platform_id=platform_id, deployment_id=deployment_id,
                        user_id=teacher_id, context_id=context.id, role="instructor",
                        message_type="LtiResourceLinkRequest", claims_json="{}", created_dt=now,
                        expires_dt=now + dt.timedelta(hours=8)))
    course.context_id, course.credential_id = context.id, credential.id


def _learners(engine: Engine, world: World, course: Course, first_evidence: int, per: int) -> int:
    now = utcnow()
    bulk(engine, User.__table__, ({"id": uid, "platform_id": world.platform_id, "sub": f"u{uid}",
                                   "name": f"Learner {uid - course.learner_ids[0]:05d} of {course.learners}",
                                   "email": f"u{uid}@bench.example", "created_dt": now, "updated_dt": now}
                                  for uid in course.learner_ids))
    bulk(engine, Membership.__table__, ({"context_id": course.context_id, "user_id": uid, "role": "learner",
                                         "lti_roles": "[]", "created_dt": now, "updated_dt": now}
                                        for uid in course.learner_ids))
    evidence_rows = list(_evidence(world, course, first_evidence, per, now))
    bulk(engine, Evidence.__table__, (row for row, _ in evidence_rows))
    bulk(engine, Assessment.__table__, (decision for _, decision in evidence_rows if decision))
    bulk(engine, CompetencyProgress.__table__, (
        {"micro_credential_id": course.credential_id, "learner_id": uid, "competency_id": cid,
         "state": ("achieved", "in_progress", "not_started")[(uid + cid) % 3], "met": 1, "required": 1,
         "via": "requirements", "updated_dt": now}
        for uid in course.learner_ids for cid in world.competency_ids))
    bulk(engine, Award.__table__, ({"key": secrets.token_hex(12), "platform_id": world.platform_id,
                                    "micro_credential_id": course.credential_id, "learner_id": uid,
                                    "status": "active", "basis": "rules", "reason": "bench", "evidence_ids": "{}",
                                    "awarded_dt": now} for uid in course.learner_ids[::4]))
    return first_evidence + len(evidence_rows)


def _bystanders(services: Services, platform_id: int, first: int, count: int) -> None:
    """Users of the same LMS in another course: the matrix must not slow down with the institution's size."""
    with services.sessions() as s:
        deployment_id = s.scalar(select(Deployment.id).where(Deployment.platform_id == platform_id))
        other = Context(platform_id=platform_id, deployment_id=deployment_id, lti_context_id="OTHER", title="Other")
        s.add(other)
        s.commit()
        other_id = other.id
    now = utcnow()
    ids = range(first, first + count)
    bulk(services.engine, User.__table__, ({"id": uid, "platform_id": platform_id, "sub": f"u{uid}",
                                            "name": f"Bystander {uid}", "email": None, "created_dt": now,
                                            "updated_dt": now} for uid in ids))
    bulk(services.engine, Membership.__table__, ({"context_id": other_id, "user_id": uid, "role": "learner",
                                                  "lti_roles": "[]", "created_dt": now, "updated_dt": now}
                                                 for uid in ids))


def _evidence(world: World, course: Course, first: int, per: int,
              now: dt.datetime) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Per learner and competency: submissions (most decided) and rubric judgements."""
    eid = first
    for uid in course.learner_ids:
        for cid in world.competency_ids:
            for k in range(per):
                kind = "submission" if k < per * 6 // 10 else "rubric"
                row = {"id": eid, "key": f"{eid:024x}", "platform_id": world.platform_id,
                       "context_id": course.context_id, "learner_id": uid, "kind": kind, "competency_id": cid,
                       "rubric_level": 1 + k % 4 if kind == "rubric" else None, "text": "bench",
                       "source": "tool", "created_dt": now - dt.timedelta(minutes=eid % 10_000)}
                decision = None
                if kind == "submission" and k % 6 != 5:
                    decision = {"evidence_id": eid, "decision": "rejected" if k % 6 == 4 else "accepted",
                                "rubric_level": None, "comment": "", "assessor_label": "bench", "created_dt": now}
                yield row, decision
                eid += 1


# --- measuring ----------------------------------------------------------------------------------------------
@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def measure_page(client: Any, engine: Engine, url: str, runs: int) -> dict[str, Any]:
    client.get(url)  # warm-up: templates compiled, statements cached
    times, counts = [], []
    for _ in range(runs):
        with counting(engine) as seen:
            start = time.perf_counter()
            response = client.get(url)
            body = response.get_data()
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, body[:300]
        counts.append(len(seen))
    p50, p99 = percentiles(times)
    return {"p50_ms": round(p50, 2), "p99_ms": round(p99, 2), "statements": sorted(set(counts)),
            "bytes": len(body)}


def measure_reevaluation(services: Services, world: World, runs: int, profile: bool) -> dict[str, Any]:
    course = world.courses[-1]
    learner = course.learner_ids[len(course.learner_ids) // 2 + 1]  # no award (every 4th has one)
    actor = ops.Actor(world.platform_id, course.context_id, None, "bench assessor", "instructor")
    competency = world.competency_ids[0]  # a rubric requirement
    with services.sessions() as session:  # the learner's stored progress as the rules compute it, as in real life
        ops.reevaluate(session, actor, learner, course.context_id, [course.credential_id])
        session.commit()
    times, counts = [], []
    profiler = cProfile.Profile() if profile else None
    for i in range(runs + 3):
        with services.sessions() as session:
            session.execute(text("SELECT 1"))  # the transaction is open before timing (BEGIN IMMEDIATE on SQLite)
            with counting(services.engine) as seen:
                if profiler and i >= 3:
                    profiler.enable()
                start = time.perf_counter()
                ops.record_evidence(session, actor, learner, "rubric", competency_id=competency,
                                    rubric_level=1 + i % 4)
                elapsed = (time.perf_counter() - start) * 1000
                if profiler:
                    profiler.disable()
            session.rollback()
        if i >= 3:
            times.append(elapsed)
            counts.append(len(seen))
    with services.read_sessions() as session:
        records = session.scalar(text("SELECT count(*) FROM evidence WHERE learner_id = :id"), {"id": learner})
    p50, p99 = percentiles(times)
    result = {"learner_evidence": records, "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
              "statements": sorted(set(counts)), "statement_texts": [" ".join(q.split())[:160] for q in seen]}
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(r"lti_microcred|sqlalchemy/orm/session|engine/base", 22)
        stats.sort_stats("tottime").print_stats(14)
        result["profile"] = out.getvalue()
    return result


class TimedTransactions:
    """The job's sessionmaker, timing each write transaction (how long one batch holds the writer's lock)."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self.times: list[float] = []

    def __call__(self) -> Any:
        return self.sessions()

    @contextmanager
    def begin(self) -> Iterator[Any]:
        start = time.perf_counter()
        with self.sessions.begin() as session:
            yield session
        self.times.append((time.perf_counter() - start) * 1000)


def measure_reevaluate_everyone(services: Services, world: World) -> dict[str, Any]:
    """The queued job after an instructor changes a published credential: every learner of the largest course
    evaluated again, in batches (nothing is granted: the stored progress is already what the rules say)."""
    course = world.courses[-1]
    actor = ops.Actor(world.platform_id, course.context_id, None, "bench instructor", "instructor")
    data = {"credential_id": course.credential_id, "actor": asdict(actor)}
    timed = TimedTransactions(services.sessions)
    start = time.perf_counter()
    ops.reevaluate_in_batches(timed, data)
    total = time.perf_counter() - start
    return {"learners": course.learners, "total_s": round(total, 2), "batches": len(timed.times),
            "learners_per_s": round(course.learners / total), "longest_batch_ms": round(max(timed.times), 1)}


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="matrix-bench-") as tmp:
        url = args.pg_url if backend == "postgres" else f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        settings = load_settings({"env": "development", "base_url": "http://127.0.0.1:9", "instance_path": tmp,
                                  "database_url": url, "secret_key": SECRET, "log_level": "WARNING",
                                  "worker_in_process": 0}, environ={})
        services = Services.from_settings(settings)
        started = time.perf_counter()
        reset(services.engine)
        world = build(services, args.learners, args.competencies, args.per, args.bystanders)
        built_s = time.perf_counter() - started
        with services.read_sessions() as session:
            evidence = session.scalar(text("SELECT count(*) FROM evidence"))
            users = session.scalar(text("SELECT count(*) FROM users"))
        gc.collect()
        gc.freeze()  # the builder's objects are not the server's: keep them out of the collector's full passes
        app = create_app(services=services)
        client = app.test_client()
        results: dict[str, Any] = {"backend": backend, "build_s": round(built_s, 1), "evidence_rows": evidence,
                                   "platform_users": users, "matrix": {}}
        for course in world.courses:
            base = f"/s/{course.token}/matrix/"
            last = -(-course.learners // 50)
            pages = {"page 1": base, f"page {last // 2}": f"{base}?page={last // 2}",
                     f"page {last} (last)": f"{base}?page={last}", "search": f"{base}?q=learner+00042",
                     "state=earned": f"{base}?state=earned"}
            results["matrix"][course.learners] = {name: measure_page(client, services.engine, u, args.requests)
                                                  for name, u in pages.items()}
        big = world.courses[-1]
        results["csv_export"] = measure_page(client, services.engine, f"/s/{big.token}/matrix/export.csv",
                                             max(3, args.requests // 10))
        results["reevaluation"] = measure_reevaluation(services, world, args.reeval_runs, args.profile)
        results["reevaluate_everyone"] = measure_reevaluate_everyone(services, world)
        services.engine.dispose()
        return results


def report(results: dict[str, Any]) -> None:
    print(f"\n== {results['backend']}: built in {results['build_s']} s, {results['evidence_rows']:,} evidence rows, "
          f"{results['platform_users']:,} users of the LMS")
    for learners, pages in results["matrix"].items():
        for name, r in pages.items():
            print(f"  matrix {learners:>5} learners  {name:<18} p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms"
                  f"  statements {r['statements']}")
    r = results["csv_export"]
    print(f"  CSV export (all learners)             p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms"
          f"  statements {r['statements']}  {r['bytes']:,} bytes")
    r = results["reevaluation"]
    print(f"  one new evidence record + re-evaluation ({r['learner_evidence']} records of the learner):"
          f" p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  statements {r['statements']}")
    if "profile" in r:
        print(r["profile"])
    r = results["reevaluate_everyone"]
    print(f"  everyone again after a change ({r['learners']} learners, queued job): {r['total_s']} s,"
          f" {r['learners_per_s']} learners/s, {r['batches']} transactions, longest {r['longest_batch_ms']} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--learners", type=lambda s: [int(x) for x in s.split(",")], default=[200, 2000],
                        help="learners per course, comma-separated (default 200,2000)")
    parser.add_argument("--competencies", type=int, default=30)
    parser.add_argument("--per", type=int, default=10, help="evidence records per learner and competency")
    parser.add_argument("--bystanders", type=int, default=0,
                        help="more users of the same LMS, enrolled in another course (default 0)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--reeval-runs", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="profile the re-evaluation")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_URL))
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    all_results = []
    for backend in backends:
        results = run(backend, args)
        report(results)
        all_results.append(results)
    if args.json:
        Path(args.json).write_text(json.dumps(all_results, indent=2, default=str))


if __name__ == "__main__":
    main()
