"""The nightly forecasts on a Ray cluster: two nodes on this machine (``ray.cluster_utils``),
one task per unit (a site's meters as one group, its total alone), workers killed mid-run;
every subject's runs are stored exactly once."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forecasting import cluster
from forecasting.runs import DAY_AHEAD, WEEK_AHEAD, ForecastJobs
from metering import registry
from models.forecasting import ForecastPoint, ForecastRun
from shell.bench.hourly import add_hourly_site
from tests.support.paths import REPO_ROOT

ray = pytest.importorskip("ray")

NOW = datetime(2026, 5, 4, 1, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAYS = 20


@dataclass(frozen=True)
class KillOnce:
    """Kills the worker running a unit's task at the given stage, the first time only
    (a marker file remembers): ``before_commit`` (its transaction is lost) or
    ``after_commit`` (stored, but the task never reports)."""

    markers: str
    plan: tuple[tuple[str, str], ...]  # (unit label, stage)

    def __call__(self, label: str, stage: str) -> None:
        if (label, stage) not in self.plan:
            return
        marker = Path(self.markers) / f"{label.replace(':', '-')}.{stage}"
        if marker.exists():
            return
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[object]:
    from ray.cluster_utils import Cluster

    # the workers import the house and this module from the checkout under test
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), old) if p)
    for attempt in range(3):  # a node gives up after 30 s when the machine is overloaded
        cluster = Cluster()
        try:
            cluster.add_node(num_cpus=1, include_dashboard=False)  # the head
            cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            break
        except Exception:
            cluster.shutdown()
            if attempt == 2:
                raise
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@pytest.fixture(scope="module")
def three_meters(client, admin_headers) -> dict:  # noqa: ANN001
    uid = uuid.uuid4().hex[:6]
    site = f"RAY-{uid}"
    codes = [f"RAY{k}-{uid}" for k in range(3)]
    stamps = [NOW.replace(minute=0) - HOUR * k for k in range(DAYS * 24, -1, -1)]
    hours = np.array([(t + timedelta(hours=8)).hour for t in stamps])
    series = {
        code: np.where((hours >= 8) & (hours < 18), 100.0 * (k + 1), 10.0)
        for k, code in enumerate(codes)
    }
    add_hourly_site(client, admin_headers, site, series, stamps)
    return {"site": site, "meters": codes}


def test_every_run_stored_once_when_workers_die(two_nodes, three_meters, engine, tmp_path):  # noqa: ANN001
    assert sum(1 for n in ray.nodes() if n["Alive"]) == 2
    site = three_meters["site"]
    group = f"group:{site}"
    hook = KillOnce(str(tmp_path), ((group, "before_commit"), (site, "after_commit")))
    jobs = ForecastJobs(
        "none",
        clock=lambda: NOW,
        folds={DAY_AHEAD: 1, WEEK_AHEAD: 1},
        candidates=("naive_daily", "naive_weekly", "lgbm_global"),
    )
    address = two_nodes.address  # type: ignore[attr-defined]
    # 2 units: the site's 3 meters as one group (the global model trained across them) and
    # the site's electricity total. The group's task died before its commit: its retry
    # stores the 3 meters' runs; the total's died after: its retry finds the runs stored and
    # stores nothing (0).
    assert cluster.nightly(jobs, engine, address=address, site=site, hook=hook) == 3
    assert {p.name for p in tmp_path.iterdir()} == {
        f"group-{site}.before_commit",
        f"{site}.after_commit",
    }
    with Session(engine) as session:
        site_id = registry.get_site(session, three_meters["site"]).id
        meter_ids = [registry.get_meter(session, c).id for c in three_meters["meters"]]
        runs = session.scalars(
            select(ForecastRun).where(
                (ForecastRun.site_id == site_id) | ForecastRun.meter_id.in_(meter_ids)
            )
        ).all()
        points = {
            r.id: session.scalar(select(func.count()).where(ForecastPoint.run_id == r.id))
            for r in runs
        }
    per_subject: dict[tuple, list[int]] = {}
    for r in runs:
        per_subject.setdefault((r.site_id, r.meter_id), []).append(r.horizon_steps)
    assert len(per_subject) == 4
    meter_runs = [r for r in runs if r.meter_id is not None]
    # the group model was backtested across the site's meters, on the worker
    assert all(r.scores["group"] == {"site": site, "series": 3} for r in meter_runs)
    assert all("lgbm_global" in r.scores["candidates"] for r in meter_runs)
    assert all(sorted(h) == [24, 168] for h in per_subject.values())  # once each, no more
    assert all(points[r.id] == r.horizon_steps for r in runs)
    assert len({r.run_key for r in runs}) == 8
    origin = (NOW.replace(minute=0) - HOUR).isoformat()  # the newest complete hour
    assert all(
        r.run_key.endswith(origin) and r.train_end == NOW.replace(minute=0) - HOUR for r in runs
    )
    # the night is done: nothing is due again
    assert cluster.nightly(jobs, engine, address=address, site=three_meters["site"]) == 0


def test_the_scheduler_job_goes_to_the_cluster_when_configured(monkeypatch) -> None:  # noqa: ANN001
    from core.settings import get_settings
    from forecasting import jobs as forecast_jobs

    calls: list[dict] = []

    def submitted(jobs: ForecastJobs, engine: object, **kw: object) -> int:
        calls.append({"jobs": type(jobs).__name__, "engine": engine, **kw})
        return 7

    monkeypatch.setenv("ECC_RAY_ADDRESS", "ray://head:10001")
    monkeypatch.setenv("ECC_RAY_TASK_RETRIES", "5")
    monkeypatch.setattr(cluster, "nightly", submitted)
    get_settings.cache_clear()
    try:
        assert forecast_jobs.nightly("the engine") == 7  # type: ignore[arg-type]
    finally:
        get_settings.cache_clear()
    assert calls == [
        {
            "jobs": "ForecastJobs",
            "engine": "the engine",
            "address": "ray://head:10001",
            "retries": 5,
        }
    ]
