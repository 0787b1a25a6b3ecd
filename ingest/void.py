"""Voiding a stored reading: the repair path for data that should never have been stored.

Nothing is deleted for good: the reading moves, whole, from ``reading`` to ``reading_void``
with who voided it, when and why. In the same transaction (holding the writers' per-meter
lock) a counter's successor gets its energy recomputed from the reading before the voided
one, and the touched range is queued for the rollups, so rollups, site totals, carbon
figures and reports all leave the voided reading out once the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from metering import registry
from metering.registry import MeterInfo
from metering.rollups import LOCK_CLASS
from models import ReadingVoid

_MOVE = """
WITH gone AS (
  DELETE FROM reading WHERE meter_id = %(m)s AND ts = %(ts)s
  RETURNING meter_id, ts, value, energy, received_at
)
INSERT INTO reading_void (meter_id, ts, value, energy, received_at, reason, voided_by)
SELECT meter_id, ts, value, energy, received_at, %(reason)s, %(who)s FROM gone
RETURNING id, value, energy, voided_at
"""

# The next reading of a counter takes its increase from the reading before the voided one.
_SUCCESSOR = """
WITH nxt AS (
  SELECT ts, value FROM reading WHERE meter_id = %(m)s AND ts > %(ts)s ORDER BY ts LIMIT 1
), prv AS (
  SELECT value FROM reading WHERE meter_id = %(m)s AND ts < %(ts)s ORDER BY ts DESC LIMIT 1
)
UPDATE reading r
SET energy = ecc_counter_delta((SELECT value FROM prv), nxt.value, %(rollover)s)
FROM nxt WHERE r.meter_id = %(m)s AND r.ts = nxt.ts
RETURNING r.ts
"""


@dataclass(frozen=True)
class Voided:
    id: int
    meter: str
    ts: datetime
    value: float
    energy: float | None
    reason: str
    voided_by: str | None
    voided_at: datetime


def void_reading(conn: Any, meter: MeterInfo, ts: datetime, reason: str, who: str | None) -> Voided:
    """Void the reading of ``meter`` at ``ts`` on the psycopg connection ``conn`` (commits)."""
    reason = reason.strip()
    if not reason:
        raise Invalid("reason", "say why the reading is voided")
    if ts.tzinfo is None:
        raise Invalid("ts", "timestamp without UTC offset")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, meter.id))
        params = {"m": meter.id, "ts": ts, "reason": reason, "who": who}
        row = conn.execute(_MOVE, params).fetchone()
        if row is None:
            raise NotFound("ts", f"meter {meter.code!r} has no stored reading at {ts.isoformat()}")
        hi = ts
        if meter.kind == "counter":
            nxt = conn.execute(_SUCCESSOR, {**params, "rollover": meter.rollover}).fetchone()
            if nxt is not None:
                hi = nxt[0]
        conn.execute(
            "INSERT INTO rollup_pending (meter_id, lo, hi) VALUES (%s, %s, %s)",
            (meter.id, ts, hi),
        )
    void_id, value, energy, voided_at = row
    return Voided(void_id, meter.code, ts, value, energy, reason, who, voided_at)


def list_voided(session: Session, code: str) -> list[Voided]:
    """Every voided reading of a meter, oldest reading first."""
    meter = registry.get_meter(session, code)
    rows = session.scalars(
        select(ReadingVoid).where(ReadingVoid.meter_id == meter.id).order_by(ReadingVoid.ts)
    )
    return [
        Voided(r.id, code, r.ts, r.value, r.energy, r.reason, r.voided_by, r.voided_at)
        for r in rows
    ]
