"""Site scope: a credential limited to one site sees and changes only that site's subtree."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.errors import NotFound
from models import Site

_SUBTREE = text("""
WITH RECURSIVE t(id) AS (
  SELECT id FROM site WHERE id = :root
  UNION SELECT s.id FROM site s JOIN t ON s.parent_id = t.id
) SELECT id FROM t
""")


def subtree(session: Session, site_id: int) -> frozenset[int]:
    return frozenset(session.scalars(_SUBTREE, {"root": site_id}))


def site_id(session: Session, code: str, field: str = "site") -> int:
    found = session.scalar(select(Site.id).where(Site.code == code))
    if found is None:
        raise NotFound(field, f"no site {code!r}")
    return found


def site_codes(session: Session) -> dict[int, str]:
    return {i: c for i, c in session.execute(select(Site.id, Site.code))}


def site_of_code(session: Session, code: str) -> int | None:
    return session.scalar(select(Site.id).where(Site.code == code))


def site_of_meter(session: Session, code: str) -> int | None:
    return session.scalar(text("SELECT site_id FROM meter WHERE code = :c"), {"c": code})


def site_of_alarm(session: Session, alarm_id: int) -> int | None:
    return session.scalar(
        text(
            "SELECT coalesce(m.site_id, r.site_id) FROM alarm a "
            "JOIN alarm_rule r ON r.id = a.rule_id "
            "LEFT JOIN meter m ON m.id = r.meter_id WHERE a.id = :id"
        ),
        {"id": alarm_id},
    )


def site_of_rule(session: Session, rule_id: int) -> int | None:
    return session.scalar(
        text(
            "SELECT coalesce(m.site_id, r.site_id) FROM alarm_rule r "
            "LEFT JOIN meter m ON m.id = r.meter_id WHERE r.id = :id"
        ),
        {"id": rule_id},
    )


def meter_sites(session: Session) -> dict[str, int]:
    return {c: i for c, i in session.execute(text("SELECT code, site_id FROM meter"))}


def meters_within(session: Session, codes: list[str], sites: frozenset[int]) -> set[str]:
    rows = session.execute(
        text("SELECT code FROM meter WHERE code = ANY(:codes) AND site_id = ANY(:sites)"),
        {"codes": codes, "sites": list(sites)},
    )
    return {code for (code,) in rows}
