"""Per-process state of the API, built in the lifespan (never at import time)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from accounts import audit, keys
from accounts.credentials import Credentials, FailureLimiter
from core.db import psycopg_connection
from core.settings import Settings
from ingest.events import ReadingBus
from ingest.writer import WriterConfig, detect_writer
from metering import registry
from metering.registry import MeterInfo


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    writer: WriterConfig
    write_slots: threading.BoundedSemaphore
    credentials: Credentials
    failures: FailureLimiter
    bus: ReadingBus = field(default_factory=ReadingBus)
    _meters: dict[str, MeterInfo] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, settings: Settings, engine: Engine) -> AppState:
        with psycopg_connection(engine) as conn:
            writer = detect_writer(conn)
            conn.rollback()
        sessions = sessionmaker(engine, expire_on_commit=False)
        audit.install(sessions)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            writer=writer,
            write_slots=threading.BoundedSemaphore(settings.max_inflight_writes),
            credentials=Credentials(
                sessions,
                ttl_s=settings.auth_cache_ttl_s,
                size=settings.auth_cache_size,
                idle_s=settings.session_idle_s,
            ),
            failures=FailureLimiter(settings.auth_fail_limit, settings.auth_fail_window_s),
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
        """Valid credentials are trusted for ``auth_cache_ttl_s``; nothing else is cached."""
        return self.credentials.principal(secret)
