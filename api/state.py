"""Per-process state of the API, built in the lifespan (never at import time)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from accounts import keys
from core.db import psycopg_connection
from core.settings import Settings
from ingest.events import ReadingBus
from ingest.writer import WriterConfig, detect_writer
from metering import registry
from metering.registry import MeterInfo

KEY_CACHE_TTL_S = 30.0


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    writer: WriterConfig
    write_slots: threading.BoundedSemaphore
    bus: ReadingBus = field(default_factory=ReadingBus)
    _meters: dict[str, MeterInfo] = field(default_factory=dict)
    _keys: dict[str, tuple[float, keys.Principal | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, settings: Settings, engine: Engine) -> AppState:
        with psycopg_connection(engine) as conn:
            writer = detect_writer(conn)
            conn.rollback()
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessionmaker(engine, expire_on_commit=False),
            writer=writer,
            write_slots=threading.BoundedSemaphore(settings.max_inflight_writes),
        )

    def lookup_meters(self, codes: set[str]) -> dict[str, MeterInfo]:
        """Meters by code, cached; unknown codes are looked up again every time."""
        missing = [c for c in codes if c not in self._meters]
        if missing:
            with self.sessions() as session:
                found = registry.meter_infos(session, missing)
            with self._lock:
                self._meters.update(found)
        return {c: self._meters[c] for c in codes if c in self._meters}

    def forget_meter(self, code: str) -> None:
        with self._lock:
            self._meters.pop(code, None)

    def principal(self, secret: str) -> keys.Principal | None:
        now = time.monotonic()
        hit = self._keys.get(secret)
        if hit is not None and now - hit[0] < KEY_CACHE_TTL_S:
            return hit[1]
        with self.sessions() as session:
            principal = keys.verify(session, secret)
        with self._lock:
            self._keys[secret] = (now, principal)
        return principal
