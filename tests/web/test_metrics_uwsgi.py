"""Under `microcred run` (uWSGI, several processes) /metrics sums the counters of every process, whichever
process answers the scrape, and a new run starts from an emptied metrics directory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from lti_microcred.services import Services
from tests.conftest import TEST_SECRET, free_port

TOKEN = "uwsgi-metrics-token-0123456789-abcdefgh"
LTI_2XX = {"group": "lti", "status": "2xx"}


@pytest.fixture
def tool(services: Services, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`microcred run --workers 2` on the suite's database, counting into tmp_path/metrics."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left by an earlier run")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LTI_MICROCRED_", "PROMETHEUS_"))}
    env.update(LTI_MICROCRED_DATABASE_URL=services.settings.resolved_database_url, LTI_MICROCRED_ENV="test",
               LTI_MICROCRED_SECRET_KEY=TEST_SECRET, LTI_MICROCRED_INSTANCE_PATH=str(tmp_path),
               LTI_MICROCRED_BASE_URL=f"http://127.0.0.1:{port}", LTI_MICROCRED_WORKER_IN_PROCESS="0",
               LTI_MICROCRED_METRICS_TOKEN=TOKEN, LTI_MICROCRED_METRICS_DIR=str(metrics_dir),
               LTI_MICROCRED_THREADS="2")
    process = subprocess.Popen([sys.executable, "-m", "lti_microcred.cli", "run", "--port", str(port),
                                "--workers", "2"], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, url)
        yield url, metrics_dir
    finally:
        process.terminate()
        process.communicate(timeout=30)


def _wait_until_up(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("microcred run did not start:\n" + (process.communicate()[0] or ""))
        time.sleep(0.2)


def per_process(metrics_dir: Path) -> dict[str, float]:
    """The lti group's 2xx count in each process's own file, for processes that answered some (pid -> count)."""
    found = {}
    for path in metrics_dir.glob("counter_*.db"):
        for metric in MultiProcessCollector.merge([str(path)]):
            for s in metric.samples:
                if s.name == "microcred_requests_total" and s.labels == LTI_2XX and s.value:
                    found[path.stem.split("_")[1]] = s.value
    return found


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def test_both_processes_count_and_a_scrape_sums_them(tool: tuple[str, Path]) -> None:
    url, metrics_dir = tool
    assert not (metrics_dir / "counter_1.db").exists()  # emptied before uWSGI started
    sent = 0
    with ThreadPoolExecutor(8) as pool:
        for _ in range(20):  # rounds of concurrent requests until both processes have answered some
            answers = list(pool.map(lambda _: requests.get(f"{url}/lti/jwks", timeout=10).status_code, range(40)))
            assert set(answers) == {200}
            sent += len(answers)
            if len(per_process(metrics_dir)) >= 2:
                break
    counts = per_process(metrics_dir)
    assert len(counts) == 2 and all(c > 0 for c in counts.values()), counts
    assert sum(counts.values()) == sent
    for _ in range(4):  # whichever process answers the scrape, it reports the sum
        samples = scrape(url)
        assert samples[("microcred_requests_total", frozenset(LTI_2XX.items()))] == sent
        assert samples[("microcred_request_duration_seconds_count", frozenset({("group", "lti")}))] == sent
        assert samples[("microcred_metrics_database_up", frozenset())] == 1
