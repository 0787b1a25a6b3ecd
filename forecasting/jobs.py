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
            from core.settings import get_settings
            from forecasting.runs import ForecastJobs

            settings = get_settings()
            _jobs = ForecastJobs(
                ray_address=settings.ray_address, ray_retries=settings.ray_task_retries
            )
        return _jobs


def nightly(engine: Engine) -> int:
    """Backtest, select and refit per meter and site (01:00–05:00 plant time; at once for a
    subject without a forecast); on the Ray cluster at ``ECC_RAY_ADDRESS`` when it is set."""
    return _instance().nightly(engine)


def refresh(engine: Engine) -> int:
    """The next 24 h for every meter and site, from the selected model."""
    return _instance().refresh(engine)
