"""The scheduler's entry points (listed in ``shell.jobs.JOBS``). The job object, with the fitted
models it keeps, is built on the first run, in the scheduler process only."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

_jobs = None
_lock = threading.Lock()


def _instance():  # noqa: ANN202 - forecasting.runs.ForecastJobs, imported lazily
    global _jobs
    with _lock:
        if _jobs is None:
            from forecasting.runs import ForecastJobs

            _jobs = ForecastJobs()
        return _jobs


def nightly(engine: Engine) -> int:
    """Backtest, select and refit per meter and site (01:00–05:00 plant time; at once for a
    subject without a forecast); on the Ray cluster at ``ECC_RAY_ADDRESS`` when it is set."""
    from core.settings import get_settings

    settings = get_settings()
    if settings.ray_address:
        from forecasting import cluster

        return cluster.nightly(
            _instance(), engine, address=settings.ray_address, retries=settings.ray_task_retries
        )
    return _instance().nightly(engine)


def refresh(engine: Engine) -> int:
    """The next 24 h for every meter and site, from the selected model."""
    return _instance().refresh(engine)


def track(engine: Engine) -> int:
    """Score the last two complete days of every stored nightly forecast against what
    happened (``forecasting.tracking``; re-scoring a day replaces its scores)."""
    from datetime import UTC, datetime

    from forecasting import tracking

    return tracking.track(engine, datetime.now(UTC))
