"""The footprint room's periodic work, run by the scheduler (listed in ``shell/jobs.py``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.settings import get_settings
from footprints import suppliers


def expire_requests(engine: Engine, today: date | None = None) -> int:
    """Expire supplier data requests whose due date (plant-local) has passed."""
    if today is None:
        today = datetime.now(UTC).astimezone(ZoneInfo(get_settings().timezone)).date()
    with Session(engine) as session:
        n = suppliers.expire_overdue(session, today)
        session.commit()
    return n
