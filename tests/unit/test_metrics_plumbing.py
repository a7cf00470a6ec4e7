"""The parts of the metrics that need no app: settings, page groups, label bounds, counting on commit, and a
worker's own metrics server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.config import ConfigError, load_settings
from lti_microcred.core.metrics import bounded, count_credential_after_commit
from lti_microcred.core.metrics_exposition import MULTIPROCESS_ENV, prepare_multiprocess_dir, serve
from lti_microcred.lms.delivery.gauges import DeliveryGauges
from lti_microcred.web.request_metrics import group_of
from tests.conftest import free_port

PRODUCTION = {"LTI_MICROCRED_ENV": "production", "LTI_MICROCRED_BASE_URL": "https://tool.example.edu",
              "LTI_MICROCRED_SECRET_KEY": "x" * 40}


def test_production_refuses_a_short_metrics_token() -> None:
    with pytest.raises(ConfigError, match="metrics_token"):
        load_settings(environ={**PRODUCTION, "LTI_MICROCRED_METRICS_TOKEN": "too-short"})
    assert load_settings(environ={**PRODUCTION, "LTI_MICROCRED_METRICS_TOKEN": "t" * 32}).metrics_token == "t" * 32


@pytest.mark.parametrize("listen", ["9464", "localhost", ":9464", "127.0.0.1:0", "127.0.0.1:http", "h:99999"])
def test_metrics_listen_must_be_host_and_port(listen: str) -> None:
    with pytest.raises(ConfigError, match="metrics_listen"):
        load_settings(environ={"LTI_MICROCRED_METRICS_LISTEN": listen})


def test_the_metrics_directory_defaults_to_the_instance(tmp_path: Path) -> None:
    settings = load_settings(environ={"LTI_MICROCRED_INSTANCE_PATH": str(tmp_path)})
    assert settings.resolved_metrics_dir == str(tmp_path.resolve() / "metrics")


@pytest.mark.parametrize("module, group", [
    ("lti_microcred.web.staff.review", "staff"), ("lti_microcred.web.learner.dashboard", "learner"),
    ("lti_microcred.web.public.credentials", "public"), ("lti_microcred.web.lti.views", "lti"),
    ("lti_microcred.web.common.files", "files"), ("lti_microcred.web.home", "home"),
])
def test_page_groups_come_from_the_blueprint_folders(module: str, group: str) -> None:
    assert group_of(module) == group


def test_label_values_stay_codes() -> None:
    assert bounded("unknown_issuer") == "unknown_issuer"
    assert [bounded(v) for v in ("", "Not A Code", "x" * 41, "a/b")] == ["other"] * 4


def _issued() -> float:
    return REGISTRY.get_sample_value("microcred_credential_changes_total", {"change": "issued"}) or 0.0


def test_a_change_counts_only_when_the_outer_transaction_commits() -> None:
    engine = create_engine("sqlite://")
    before = _issued()
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        with session.begin_nested():  # a savepoint released is not a commit yet
            count_credential_after_commit(session, "issued")
        assert _issued() == before
        session.rollback()
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        count_credential_after_commit(session, "issued")
        session.commit()
        session.execute(text("SELECT 1"))
        session.commit()  # counted once, not again on the next commit
    assert _issued() == before + 1


def test_preparing_the_directory_empties_it_and_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MULTIPROCESS_ENV, "")  # restored (unset) after the test: the suite runs in-process
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old")
    prepare_multiprocess_dir(str(folder))
    assert list(folder.iterdir()) == [] and os.environ[MULTIPROCESS_ENV] == str(folder.resolve())


def test_a_worker_serves_its_own_metrics() -> None:
    port = free_port()
    server: Any = serve(f"127.0.0.1:{port}")
    try:
        answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert answer.status_code == 200 and "microcred_deliveries_total" in answer.text
    finally:
        server.shutdown()
        server.server_close()


def test_a_scrape_without_its_database_says_so_instead_of_failing(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'none.sqlite3'}")
    families = list(DeliveryGauges(sessionmaker(engine), ["module_result"]).collect())
    assert [(f.name, [s.value for s in f.samples]) for f in families] == [("microcred_metrics_database_up", [0])]
