"""Energy aggregates of meters over a period, from the coarsest rollups that tile it exactly
(``metering.series.range_sums`` chooses), with the reading count for verifiers."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from metering import series

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Aggregate:
    energy: float  # canonical unit of the meter, over (lo, hi]
    n: int  # readings in (lo, hi]
    resolution: str  # raw | 15m | 1h | 15m+1h


def ensure_fresh(session: Session, meter_ids: list[int], wait_s: float = 10.0) -> None:
    """``metering.series.ensure_fresh``, then wait (bounded) while queued rollup work of these
    meters is still held by another refresher (the API's background worker takes queue rows
    with SKIP LOCKED, so a reader can otherwise read before that worker commits)."""
    series.ensure_fresh(session, meter_ids)
    path = session.execute(text("SELECT value FROM ecc_meta WHERE key = 'timeseries_path'"))
    if path.scalar() != "postgresql" or not meter_ids:
        return
    deadline = time.monotonic() + wait_s
    pending = text("SELECT 1 FROM rollup_pending WHERE meter_id = ANY(:m) LIMIT 1")
    while session.execute(pending, {"m": meter_ids}).first() is not None:
        if time.monotonic() > deadline:
            log.warning("rollup work of meters %s still pending after %.0f s", meter_ids, wait_s)
            return
        time.sleep(0.02)
        series.ensure_fresh(session, meter_ids)


def energy_by_meter(
    session: Session, meter_ids: list[int], lo: datetime, hi: datetime
) -> dict[int, Aggregate]:
    """Energy per meter over (lo, hi]; meters without readings are absent."""
    if not meter_ids or hi <= lo:
        return {}
    if series.rollup_tiles(lo, hi) is not None:
        ensure_fresh(session, meter_ids)  # also waits for work another refresher holds
    sums = series.range_sums(session, meter_ids, lo, hi)
    return {mid: Aggregate(r.energy, r.n, r.resolution) for mid, r in sums.items()}
