"""Scale-out on one machine: two `microcred run` (uWSGI) instances and two `microcred worker` processes on one
PostgreSQL database and one Redis, behind nginx. Learners launch from the LMS, send evidence and are awarded
concurrently, through the proxy, while one web instance (its whole process group) and one worker are killed
with SIGKILL. Whatever was retried, each learner ends with one award and one credential, the LMS gradebook
with the right values, and the only requests that failed are those the dead instance was answering.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest

from lti_microcred.services import Services
from tests.ops.cluster import Cluster
from tests.ops.course import MODULE_POINTS, build_course
from tests.ops.load import Tally, run_batch
from tests.ops.processes import WEB_PROCESSES, WEB_THREADS, WORKER_BATCH, WORKER_CONCURRENCY, Proc
from tests.ops.proxy import ProxyReport, read_log
from tests.ops.verdict import Gradebook, Ledger, awards, leases_of, outbox_states, wait_drained

pytestmark = pytest.mark.postgres_only
LANES = 16  # client threads, each an instructor's session reviewing its learners' evidence
DRAIN_SECONDS = 45.0
CREDENTIAL_FULL_MARKS = 100.0


@dataclass
class Kill:
    """When (epoch seconds, as nginx logs) and what was killed."""

    at: float = 0.0
    dead_at: float = 0.0  # when the killed web instance's port first refused a connection
    into_batch: float = 0.0
    web: str = ""
    worker_pid: int = 0
    worker_leases: int = 0
    error: str = ""


def _awarded_in_lms(cluster: Cluster) -> int:
    with cluster.dev.platform.lock:
        return sum(1 for s in cluster.dev.score_log if str(s.get("comment", "")).startswith("Micro-credential"))


def kill_midway(cluster: Cluster, services: Services, tally: Tally, kill: Kill, started: float) -> None:
    """Once a third of the learners hold their award and awards reach the LMS: SIGKILL one web instance
    (master, HTTP router and workers) and a worker in the middle of a batch, in the middle of the traffic."""
    deadline = time.monotonic() + 60
    while tally.awards < len(cluster.users) // 3 or _awarded_in_lms(cluster) < 3:
        if time.monotonic() > deadline:
            kill.error = f"never reached the kill point: {tally.awards} awards seen, {_awarded_in_lms(cluster)} sent"
            return
        time.sleep(0.02)
    web, worker = cluster.webs[0], busy_worker(cluster, services)
    kill.at, kill.into_batch = time.time(), time.monotonic() - started
    web.kill_group()
    kill.dead_at = refused_at(web.port or 0)  # at once: this closes the window of requests in flight on it
    worker.kill_group()
    kill.web, kill.worker_pid = f"127.0.0.1:{web.port}", worker.pid
    kill.worker_leases = leases_of(services, worker.pid)


def busy_worker(cluster: Cluster, services: Services, timeout: float = 5.0) -> Proc:
    """A worker holding leased rows (sending a batch), so that its death leaves rows for the other to take
    over; the first worker if none is seen busy in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in cluster.workers:
            if leases_of(services, worker.pid):
                return worker
        time.sleep(0.01)
    return cluster.workers[0]


def refused_at(port: int, timeout: float = 3.0) -> float:
    """When nothing listened any more (uWSGI's HTTP router died with its group); 0.0 if it still does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return time.time()
        time.sleep(0.005)
    return 0.0


def figures(cluster: Cluster, tally: Tally, kill: Kill, proxy: ProxyReport, book: Gradebook, ledger: Ledger,
            timings: dict[str, float]) -> str:
    batch = timings["batch"]
    return "\n".join([
        f"\n== scale-out: nginx -> 2 x uWSGI ({WEB_PROCESSES} processes x {WEB_THREADS} threads), 2 workers "
        f"(batch {WORKER_BATCH}, concurrency {WORKER_CONCURRENCY}), PostgreSQL, Redis",
        f"   {len(cluster.users)} learners over {LANES} client threads; batch {batch:.1f} s",
        f"   in the mixed batch: launches/s {tally.launches / batch:.2f} ({tally.launches} launches), "
        f"awards/s {tally.awards / batch:.2f} ({tally.awards} awards)",
        f"   requests through the proxy: {tally.requests} from the clients, {tally.failed} failed; nginx logged "
        f"{proxy.total}, {proxy.failed} failed, {proxy.in_flight_on_killed} in flight on the killed instance, "
        f"{proxy.retried} passed to the other instance",
        f"   killed {kill.into_batch:.1f} s into the batch: web {kill.web} (process group, gone in "
        f"{(kill.dead_at - kill.at) * 1000:.0f} ms), worker pid {kill.worker_pid} holding {kill.worker_leases} "
        "leased rows",
        f"   evidence committed although its answer was lost (sent again by the learner): {ledger.evidence_resent}",
        f"   LMS score POSTs {book.posts} (module column {book.module_posts}, credential column "
        f"{book.credential_posts}), duplicates (same score and timestamp, sent again) {book.duplicates}",
        f"   drain after the batch {timings['drain']:.1f} s; start-up {timings['startup']:.1f} s; "
        f"test wall {timings['wall']:.1f} s",
    ])


def check_tool(ledger: Ledger, users: list[str], outbox: dict[str, int]) -> None:
    assert ledger.awards == {sub: ["active"] for sub in users}, "awards missing or made twice"
    assert ledger.credentials == dict.fromkeys(users, 1), "credentials missing or issued twice"
    assert not [k for k in outbox if k.endswith(("/failed", "/pending"))], outbox
    assert set(ledger.delivery_states) == {"sent"}, ledger.delivery_states


def check_gradebook(book: Gradebook, ledger: Ledger, users: list[str], kill: Kill) -> None:
    assert book.credential_columns == 1, "the credential's column was created more than once"
    for sub in users:
        decided = ledger.module_results[sub]
        module, credential = book.module.get(sub), book.credential.get(sub)
        assert module is not None and credential is not None, f"{sub}: grade lost"
        assert decided["score_given"] == MODULE_POINTS, decided
        when = dt.datetime.fromisoformat(decided["timestamp"])
        assert (module["scoreGiven"], module["timestamp"]) == (decided["score_given"], when), f"{sub}: {module}"
        assert credential["resultScore"] == CREDENTIAL_FULL_MARKS, f"{sub}: credential column holds {credential}"
        assert str(credential["comment"]).startswith("Micro-credential awarded"), credential
    assert not book.out_of_order, f"an older score was sent after a newer one: {book.out_of_order}"
    # Only rows the killed worker held may be sent twice (sent, not yet recorded), at most batch + concurrency.
    assert book.duplicates <= min(kill.worker_leases, WORKER_BATCH + WORKER_CONCURRENCY), (book.duplicates, kill)


def check_proxy(proxy: ProxyReport, tally: Tally, fleet_tails: str) -> None:
    assert tally.failed <= proxy.in_flight_on_killed, (tally.failures, proxy, fleet_tails)
    assert proxy.failed_not_in_flight == 0, (proxy, fleet_tails)


def test_scale_out_survives_a_killed_web_instance_and_worker(cluster: Cluster, services: Services) -> None:
    timings: dict[str, Any] = {"startup": time.monotonic() - cluster.started}
    course = build_course(services, cluster.lms)
    tally, kill = Tally(), Kill()
    started = time.monotonic()
    killer = threading.Thread(target=kill_midway, args=(cluster, services, tally, kill, started))
    killer.start()
    errors = run_batch(course, tally, cluster.users, LANES)
    timings["batch"] = time.monotonic() - started
    killer.join(60)
    assert not errors, f"{errors[:3]}\n{cluster.fleet.tails()}"
    assert kill.at and not kill.error, kill.error or "the kill did not happen"
    assert kill.dead_at, "the killed web instance still accepts connections"
    assert awards(services) == len(cluster.users)
    timings["drain"] = wait_drained(services, DRAIN_SECONDS)
    timings["wall"] = time.monotonic() - cluster.started
    ledger = Ledger.read(services, cluster.lms.platform_id, course.credential_key)
    book = Gradebook.read(cluster.dev, course.module_key, course.credential_key)
    proxy = ProxyReport.of(read_log(cluster.access_log), kill.web, kill.at, kill.dead_at)
    print(figures(cluster, tally, kill, proxy, book, ledger, timings))
    check_tool(ledger, cluster.users, outbox_states(services))
    check_gradebook(book, ledger, cluster.users, kill)
    check_proxy(proxy, tally, cluster.fleet.tails())
