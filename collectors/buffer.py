"""The on-disk store-and-forward queue: SQLite in WAL mode, one row per acquired reading.

Everything acquired is appended here first (one transaction per poll), forwarded in acquisition
order, and deleted only once the center has acknowledged it. A collector killed at any moment
loses nothing it had acquired: at worst it sends a batch twice, which the center counts once.

Limits (policy): when the queue holds more than ``max_rows`` readings or its oldest reading is
older than ``max_age_s``, the oldest readings are dropped, counted in ``dropped`` and a warning
is logged, so a plant cut off for longer than planned keeps its most recent data and its disk.
Counters (acquired, forwarded, duplicates, rejected, dropped) live in the same file and survive
restarts; items the center rejected are kept in ``rejected`` with the reason.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    meter TEXT NOT NULL,
    ts TEXT NOT NULL,
    value REAL NOT NULL,
    unit TEXT,
    acquired_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    seq INTEGER PRIMARY KEY,
    meter TEXT NOT NULL,
    ts TEXT NOT NULL,
    value REAL NOT NULL,
    unit TEXT,
    reason TEXT NOT NULL,
    rejected_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
COUNTERS = ("acquired", "forwarded", "duplicates", "rejected", "dropped")


@dataclass(frozen=True)
class Queued:
    seq: int
    meter: str
    ts: str
    value: float
    unit: str | None

    def as_json(self) -> dict:
        out = {"meter": self.meter, "ts": self.ts, "value": self.value}
        if self.unit:
            out["unit"] = self.unit
        return out


class Buffer:
    """A thread-safe handle on the queue file (one connection, one lock)."""

    def __init__(
        self, path: Path, *, max_rows: int = 5_000_000, max_age_s: float = 30 * 86_400.0
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_rows = max_rows
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed poll survives a power cut
        self._db.executescript(_SCHEMA)
        for name in COUNTERS:
            self._db.execute("INSERT OR IGNORE INTO counter VALUES (?, 0)", (name,))
        self._rows = self._db.execute("SELECT count(*) FROM queue").fetchone()[0]
        self.full_warned = False

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _bump(self, name: str, n: int) -> None:
        if n:
            self._db.execute("UPDATE counter SET value = value + ? WHERE name = ?", (n, name))

    def put(
        self, readings: list[tuple[str, str, float, str | None]], now: float | None = None
    ) -> None:
        """Append ``(meter, ts, value, unit)`` rows in one transaction, then apply the limits."""
        if not readings:
            return
        now = time.time() if now is None else now
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO queue (meter, ts, value, unit, acquired_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(m, t, v, u, now) for m, t, v, u in readings],
                )
                self._bump("acquired", len(readings))
                self._rows += len(readings)
                self._enforce_limits(now)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._rows = self._db.execute("SELECT count(*) FROM queue").fetchone()[0]
                raise

    def _enforce_limits(self, now: float) -> None:
        dropped = 0
        if self._rows > self.max_rows:
            over = self._rows - self.max_rows
            cur = self._db.execute(
                "DELETE FROM queue WHERE seq IN (SELECT seq FROM queue ORDER BY seq LIMIT ?)",
                (over,),
            )
            dropped += cur.rowcount
        cur = self._db.execute("DELETE FROM queue WHERE acquired_at < ?", (now - self.max_age_s,))
        dropped += cur.rowcount
        if dropped:
            self._rows -= dropped
            self._bump("dropped", dropped)
            if not self.full_warned:
                log.warning(
                    "buffer limit reached (%d rows / %.0f s): dropped the %d oldest readings",
                    self.max_rows,
                    self.max_age_s,
                    dropped,
                )
            self.full_warned = True
        else:
            self.full_warned = False

    def peek(self, n: int) -> list[Queued]:
        """The ``n`` oldest queued readings, in acquisition order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, meter, ts, value, unit FROM queue ORDER BY seq LIMIT ?", (n,)
            ).fetchall()
        return [Queued(*r) for r in rows]

    def ack(
        self,
        sent: list[Queued],
        *,
        duplicates: int = 0,
        rejected: dict[int, str] | None = None,
    ) -> None:
        """The center acknowledged ``sent``: delete it; keep rejected items (position → reason)."""
        if not sent:
            return
        rejected = rejected or {}
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO rejected VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (q.seq, q.meter, q.ts, q.value, q.unit, reason, now)
                        for i, reason in rejected.items()
                        if (q := sent[i])
                    ],
                )
                cur = self._db.execute(
                    "DELETE FROM queue WHERE seq BETWEEN ? AND ?", (sent[0].seq, sent[-1].seq)
                )
                self._rows -= cur.rowcount
                self._bump("forwarded", len(sent) - len(rejected))
                self._bump("duplicates", duplicates)
                self._bump("rejected", len(rejected))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def counters(self) -> dict[str, int]:
        with self._lock:
            out = dict(self._db.execute("SELECT name, value FROM counter").fetchall())
            out["queued"] = self._rows
        return out

    def oldest_age_s(self, now: float | None = None) -> float:
        with self._lock:
            oldest = self._db.execute("SELECT min(acquired_at) FROM queue").fetchone()[0]
        return 0.0 if oldest is None else max(0.0, (time.time() if now is None else now) - oldest)

    def rejected_items(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, meter, ts, value, unit, reason FROM rejected ORDER BY seq"
            ).fetchall()
        keys = ("seq", "meter", "ts", "value", "unit", "reason")
        return [dict(zip(keys, r, strict=True)) for r in rows]
