"""The nightly forecasts spread over a Ray cluster (``ECC_RAY_ADDRESS``), one task per unit.

The scheduler (the Ray *driver*) lists the nightly's units that are due at its clock's
``now`` (``ForecastJobs.plan``: a site's counted meters as one group trained by the global
model, every other subject alone; ``forecasting.groups``) and submits one task per unit;
each task opens its own database connection on the worker, selects, fits and stores the
unit's day- and week-ahead runs in one transaction, exactly as the local path does
(``ForecastJobs.nightly_unit``). ``now`` travels with the task, so a task retried after its
worker died computes the same forecast origin and the same run keys: a run committed before
the worker died is not stored again (insert-once on ``forecast_run.run_key``), one not
committed is stored by the retry. Tasks are retried ``ECC_RAY_TASK_RETRIES`` times when
their worker dies; a unit its data cannot serve is logged and skipped as locally.

Ray is an optional dependency (``pip install '.[cluster]'``); nothing here imports it until a
cluster is used. Every worker node needs this package installed and the database reachable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from core.errors import Invalid
from forecasting.groups import Unit
from forecasting.runs import ForecastJobs

log = logging.getLogger(__name__)

# a test's fault injection: called with the unit's label (a subject's code, or
# ``group:<site>``) and "before_commit" / "after_commit"
Hook = Callable[[str, str], None]

_engines: dict[str, Engine] = {}


@dataclass(frozen=True)
class JobSpec:
    """What a worker rebuilds the scheduler's ``ForecastJobs`` from (no clock: ``now`` is
    given)."""

    holidays: str
    folds: dict[timedelta, int]
    candidates: tuple[str, ...]
    night_candidates: tuple[str, ...]


def connect(address: str) -> None:
    """Join the Ray cluster at ``address`` once per process."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)


def _engine(url: str) -> Engine:
    if url not in _engines:
        _engines[url] = create_engine(url, pool_size=1, max_overflow=1, pool_pre_ping=True)
    return _engines[url]


def run_unit(url: str, spec: JobSpec, unit: Unit, now: datetime, hook: Hook | None) -> int:
    """One unit's nightly runs, on a worker; how many of its subjects got runs now (0 when
    stored before)."""
    jobs = ForecastJobs(
        spec.holidays,
        lambda: now,
        folds=spec.folds,
        candidates=spec.candidates,
        night_candidates=spec.night_candidates,
    )
    with Session(_engine(url)) as session:
        try:
            done = jobs.nightly_unit(session, unit, now)
        except Invalid as exc:
            log.info("no forecast for %s: %s", unit.label, exc)
            session.rollback()
            return 0
        if hook is not None:
            hook(unit.label, "before_commit")
        session.commit()
    if hook is not None:
        hook(unit.label, "after_commit")
    return done


def nightly(
    jobs: ForecastJobs,
    engine: Engine,
    *,
    address: str | None,
    site: str | None = None,
    retries: int = 3,
    hook: Hook | None = None,
) -> int:
    """``jobs.nightly`` on the cluster at ``address`` (None: the one this process is
    connected to): one task per unit due at ``jobs.clock()``, waited for; returns how many
    subjects got new runs. ``hook``: a test's fault injection in every task."""
    import ray

    if address is not None:
        connect(address)
    now = jobs.clock()
    spec = JobSpec(
        jobs.holidays, dict(jobs.folds), tuple(jobs.candidates), tuple(jobs.night_candidates)
    )
    with Session(engine) as session:
        todo = jobs.plan(session, site, now)
    if not todo:
        return 0
    url = engine.url.render_as_string(hide_password=False)
    task: Any = ray.remote(run_unit).options(
        max_retries=retries, retry_exceptions=False, num_cpus=1
    )
    refs = [task.remote(url, spec, unit, now, hook) for unit in todo]
    return sum(int(n) for n in ray.get(refs))
