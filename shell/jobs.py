"""Every periodic job, listed in one place, run by ``ecc scheduler`` (one process only).

Jobs never overlap (``max_instances=1``) and missed runs are coalesced into one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, text

from alarms import jobs as alarm_jobs
from assets import ledger as asset_ledger
from footprints import jobs as footprint_jobs
from forecasting import jobs as forecast_jobs
from recommendations import jobs as recommendation_jobs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[Engine], object]
    seconds: int
    doc: str


def silent_meters(engine: Engine) -> list[dict]:
    """Meters with no reading for more than three expected intervals (data-quality finding)."""
    sql = text("""
        SELECT m.code, m.interval_s, max(r.ts) AS last_ts
        FROM meter m LEFT JOIN LATERAL (
            SELECT ts FROM reading WHERE meter_id = m.id ORDER BY ts DESC LIMIT 1) r ON true
        GROUP BY m.code, m.interval_s
        HAVING max(r.ts) IS NULL OR max(r.ts) < now() - make_interval(secs => 3 * m.interval_s)
    """)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sql)]
    for row in rows:
        log.warning("meter %s silent since %s", row["code"], row["last_ts"])
    return rows


def refresh_timescale_aggregates(engine: Engine) -> None:
    """On TimescaleDB the policies refresh the aggregates; this safety net refreshes the newest
    two days when background workers are disabled (``timescaledb.max_background_workers``)."""
    with engine.connect() as conn:
        path = conn.execute(
            text("SELECT value FROM ecc_meta WHERE key = 'timeseries_path'")
        ).scalar()
        if path != "timescaledb":
            return
        workers = conn.execute(text("SHOW timescaledb.max_background_workers")).scalar()
    if int(workers or 0) > 0:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for level in ("1m", "15m", "1h"):  # days are views on these
            conn.execute(
                text(
                    f"CALL refresh_continuous_aggregate('rollup_{level}', "
                    "now() - INTERVAL '2 days', NULL)"
                )
            )


JOBS: list[Job] = [
    Job("silent_meters", silent_meters, 60, "log meters silent for 3 expected intervals"),
    Job(
        "refresh_timescale_aggregates",
        refresh_timescale_aggregates,
        60,
        "refresh continuous aggregates when TimescaleDB runs without background workers",
    ),
    Job(
        "alarm_time_rules",
        alarm_jobs.evaluate_time_rules,
        10,
        "alarm rules on the clock: stale data, 15-minute demand, forecast deviation, budgets "
        "(re-projected every 15 min), shelving expiry",
    ),
    Job(
        "alarm_notifications",
        alarm_jobs.deliver_notifications,
        5,
        "alarm notifications: retries with backoff, flood summaries",
    ),
    Job(
        "forecast_nightly",
        forecast_jobs.nightly,
        3600,
        "forecast model selection by backtest and refit per meter and site (01:00-05:00 plant "
        "time; at once for a new meter, a group's with its group model)",
    ),
    Job(
        "forecast_refresh",
        forecast_jobs.refresh,
        900,
        "forecasts of the next 24 h for every meter and site from the selected model",
    ),
    Job(
        "forecast_tracking",
        forecast_jobs.track,
        3600,
        "score the last two complete days of every nightly forecast against the actuals "
        "(MAE, MAPE, WAPE, MASE, 90 % coverage per day, model and subject)",
    ),
    Job(
        "carbon_assets_expiry",
        asset_ledger.expire_job,
        3600,
        "carbon assets past their validity (GECs two years after generation) become expired",
    ),
    Job(
        "supplier_requests_expiry",
        footprint_jobs.expire_requests,
        3600,
        "supplier data requests still open after their due date become expired",
    ),
    Job(
        "recommendations",
        recommendation_jobs.analyse_sites,
        86400,
        "analyse every plant over the last four weeks: base load, load shifting, power factor, "
        "contracted demand, compressed air, transformers, equipment grades",
    ),
]


def build_scheduler(engine: Engine, jobs: list[Job] = JOBS):  # noqa: ANN201
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")
    for job in jobs:
        scheduler.add_job(
            job.func,
            "interval",
            seconds=job.seconds,
            args=[engine],
            id=job.id,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=job.seconds,
        )
    return scheduler
