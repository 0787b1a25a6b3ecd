"""The scheduler job: analyse every plant (root site) over the last four weeks, once a day."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models import Site
from recommendations import service

log = logging.getLogger(__name__)
WINDOW_DAYS = 28


def analyse_sites(engine: Engine, now: datetime | None = None) -> int:
    """Refresh the open recommendations of every root site; returns how many were stored."""
    now = now or datetime.now(UTC)
    total = 0
    with Session(engine) as session:
        roots = session.scalars(select(Site.code).where(Site.parent_id.is_(None))).all()
    for code in roots:
        with Session(engine) as session:
            rows = service.analyse(session, code, now - timedelta(days=WINDOW_DAYS), now)
            session.commit()
            total += len(rows)
    log.info("recommendations: %d analysed for %d sites", total, len(roots))
    return total
