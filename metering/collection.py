"""Automatic collection: which configured meters of a site reported in a period.

The rule of the automatic collection rate (zero-carbon indicator 4.1, 能源数据自动采集率):
meters of the site subtree with at least one stored reading in (start, end] over the meters
configured there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from metering import registry

_REPORTING = text(
    """
    SELECT m.code, EXISTS (
        SELECT 1 FROM reading r WHERE r.meter_id = m.id AND r.ts > :start AND r.ts <= :end
    )
    FROM meter m
    WHERE m.site_id = ANY(:sites)
    ORDER BY m.code
    """
)


def collection_rate(session: Session, site: str, start: datetime, end: datetime) -> dict:
    """``{"configured", "reporting", "rate", "silent": [codes]}``; rate is None without meters."""
    sites = registry.site_subtree_ids(session, site)
    rows = session.execute(_REPORTING, {"sites": sites, "start": start, "end": end}).all()
    reporting = [code for code, ok in rows if ok]
    return {
        "configured": len(rows),
        "reporting": len(reporting),
        "rate": len(reporting) / len(rows) if rows else None,
        "silent": [code for code, ok in rows if not ok],
    }
