"""Event days of a tariff code: the days a notice's condition declares (Guangdong: any day
Guangzhou's daily maximum reaches 35 °C; holidays with a special TOU schedule), on which the
tariff's ``day_type`` ``event`` rows replace the usual periods for their hours
(``cost.schedule.period_grid``'s event layer, applied by ``cost.compute``).

A person declares them (the weather service or the utility's notice is the source, named in
``reason``); every change is audited (``TariffEventDay.__audited__``). A cost figure's
derivation lists the event days it used, so it stays reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid, NotFound
from models.cost import Tariff, TariffEventDay

KINDS = ("heat", "holiday", "other")
MAX_DAYS = 366


@dataclass
class EventDaysIn:
    days: list[date]
    kind: str
    reason: str
    extra: dict = field(default_factory=dict)


def _tariff_exists(session: Session, code: str) -> None:
    if session.scalar(select(Tariff.id).where(Tariff.code == code).limit(1)) is None:
        raise NotFound("code", f"unknown tariff {code!r}")


def add(session: Session, code: str, data: EventDaysIn, user: str) -> list[TariffEventDay]:
    """Declare event days (409 naming the first day already declared)."""
    _tariff_exists(session, code)
    if not data.days:
        raise Invalid("days", "give at least one day")
    if len(data.days) > MAX_DAYS:
        raise Invalid("days", f"at most {MAX_DAYS} days at once")
    if len(set(data.days)) != len(data.days):
        raise Invalid("days", "a day is listed twice")
    if data.kind not in KINDS:
        raise Invalid("kind", f"one of {', '.join(KINDS)}")
    if not data.reason.strip():
        raise Invalid("reason", "say why (e.g. Guangzhou daily max 36.2 °C, source)")
    taken = session.scalar(
        select(TariffEventDay.day)
        .where(TariffEventDay.tariff_code == code, TariffEventDay.day.in_(data.days))
        .order_by(TariffEventDay.day)
        .limit(1)
    )
    if taken is not None:
        raise Conflict("days", f"{taken.isoformat()} is already an event day of {code}")
    rows = [
        TariffEventDay(
            tariff_code=code, day=d, kind=data.kind, reason=data.reason.strip(), created_by=user
        )
        for d in sorted(data.days)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def remove(session: Session, code: str, day: date) -> None:
    row = session.scalar(
        select(TariffEventDay).where(TariffEventDay.tariff_code == code, TariffEventDay.day == day)
    )
    if row is None:
        raise NotFound("day", f"{day.isoformat()} is not an event day of {code}")
    session.delete(row)
    session.flush()


def list_days(
    session: Session, code: str, start: date | None = None, end: date | None = None
) -> list[TariffEventDay]:
    """The event days of ``code`` in [start, end) (all without bounds), in order."""
    _tariff_exists(session, code)
    stmt = select(TariffEventDay).where(TariffEventDay.tariff_code == code)
    if start is not None:
        stmt = stmt.where(TariffEventDay.day >= start)
    if end is not None:
        stmt = stmt.where(TariffEventDay.day < end)
    return list(session.scalars(stmt.order_by(TariffEventDay.day)))


def days_of(session: Session, codes: set[str], first: date, last: date) -> dict[str, set[date]]:
    """Event days per tariff code in [first, last] (what a cost computation needs)."""
    out: dict[str, set[date]] = {c: set() for c in codes}
    if codes:
        for code, d in session.execute(
            select(TariffEventDay.tariff_code, TariffEventDay.day).where(
                TariffEventDay.tariff_code.in_(codes),
                TariffEventDay.day >= first,
                TariffEventDay.day <= last,
            )
        ):
            out[code].add(d)
    return out


def to_dict(row: TariffEventDay) -> dict:
    return {
        "tariff": row.tariff_code,
        "day": row.day,
        "kind": row.kind,
        "reason": row.reason,
        "created_by": row.created_by,
        "created_at": row.created_at,
    }
