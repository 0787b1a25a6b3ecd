"""The nightly forecasts spread over a Ray cluster (``ECC_RAY_ADDRESS``), one task per subject.

The scheduler (the Ray *driver*) lists the subjects that are due at its clock's ``now`` and
submits one task per subject; each task opens its own database connection on the worker,
selects, fits and stores the subject's day- and week-ahead runs in one transaction, exactly
as the local path does (``ForecastJobs.nightly_subject``). ``now`` travels with the task, so a
task retried after its worker died computes the same forecast origin and the same run keys:
a run committed before the worker died is not stored again (insert-once on
``forecast_run.run_key``), one not committed is stored by the retry. Tasks are retried
``ECC_RAY_TASK_RETRIES`` times when their worker dies; a subject its data cannot serve is
logged and skipped as locally.

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
from forecasting import subjects
from forecasting.runs import ForecastJobs
from forecasting.subjects import Subject

log = logging.getLogger(__name__)

# a test's fault injection: called with the subject and "before_commit" / "after_commit"
Hook = Callable[[Subject, str], None]

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


def run_subject(
    url: str, spec: JobSpec, subject: Subject, now: datetime, first: bool, hook: Hook | None
) -> int:
    """One subject's nightly runs, on a worker; 1 when stored now, 0 when stored before."""
    jobs = ForecastJobs(
        spec.holidays,
        lambda: now,
        folds=spec.folds,
        candidates=spec.candidates,
        night_candidates=spec.night_candidates,
    )
    with Session(_engine(url)) as session:
        try:
            done = jobs.nightly_subject(session, subject, now, first)
        except Invalid as exc:
            log.info("no forecast for %s %s: %s", subject.kind, subject.code, exc)
            session.rollback()
            return 0
        if hook is not None:
            hook(subject, "before_commit")
        session.commit()
    if hook is not None:
        hook(subject, "after_commit")
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
    connected to): one task per subject due at ``jobs.clock()``, waited for; returns how
    many subjects got new runs. ``hook``: a test's fault injection in every task."""
    import ray

    if address is not None:
        connect(address)
    now = jobs.clock()
    spec = JobSpec(
        jobs.holidays, dict(jobs.folds), tuple(jobs.candidates), tuple(jobs.night_candidates)
    )
    with Session(engine) as session:
        todo: list[tuple[Subject, bool]] = []
        for subject in subjects.all_subjects(session, site):
            first = jobs.due(session, subject, now)
            if first is not None:
                todo.append((subject, first))
    if not todo:
        return 0
    url = engine.url.render_as_string(hide_password=False)
    task: Any = ray.remote(run_subject).options(
        max_retries=retries, retry_exceptions=False, num_cpus=1
    )
    refs = [task.remote(url, spec, subject, now, first, hook) for subject, first in todo]
    return sum(int(n) for n in ray.get(refs))
