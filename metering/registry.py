"""Sites and meters: create, list, look up. Plain functions over a SQLAlchemy session."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from core import limits, units, wall
from core.errors import Conflict, Invalid, NotFound
from metering import clock
from models import Meter, Site


@dataclass(frozen=True)
class MeterInfo:
    """What validation and the writer need to know about a meter."""

    id: int
    code: str
    kind: str
    unit: str
    canonical_unit: str
    multiplier: float
    rollover: float | None = None
    max_value: float | None = None  # plausibility limits, canonical units
    max_interval_quantity: float | None = None
    max_counter_step: float | None = None

    def value_limit(self) -> float:
        """Largest |value| a reading of this meter may have once in canonical units."""
        if self.max_value is None:
            return limits.MAX_ABS_VALUE
        return min(self.max_value, limits.MAX_ABS_VALUE)

    def factor_offset(self, unit: str | None) -> tuple[float, float]:
        """``(factor, offset)`` from a reading in ``unit`` (meter unit if None) to canonical."""
        factor, offset = units.conversion(unit or self.unit, self.canonical_unit, "unit")
        return factor * self.multiplier, offset


SITE_LEVELS = ("park", "enterprise", "plant", "workshop", "line")


@dataclass(frozen=True)
class SiteIn:
    code: str
    name: str
    parent: str | None = None
    timezone: str | None = None  # IANA zone of the site's days; None: ECC_TIMEZONE
    region: str | None = None
    contracted_demand_kw: float | None = None  # the site's contract with the utility
    wall_tiles: list[str] | None = None  # its wall's KPI tiles; None: ECC_WALL_TILES


UNSET = object()  # a field an update leaves as it is


def _check_settings(contracted_demand_kw: object, wall_tiles: object) -> None:
    """The site's own settings: a positive finite demand, known distinct tile keys."""
    if contracted_demand_kw is not None and contracted_demand_kw is not UNSET:
        x = contracted_demand_kw
        if (
            not isinstance(x, int | float)
            or isinstance(x, bool)
            or limits.number_problem(float(x), limits.MAX_ABS_VALUE)
            or x <= 0
        ):
            raise Invalid(
                "contracted_demand_kw",
                f"must be a positive number of kW at most {limits.MAX_ABS_VALUE:g}",
            )
    if wall_tiles is not None and wall_tiles is not UNSET:
        if not isinstance(wall_tiles, list) or not all(isinstance(k, str) for k in wall_tiles):
            raise Invalid("wall_tiles", "must be a list of tile keys")
        problem = wall.check_tiles(wall_tiles)
        if problem is not None:
            raise Invalid("wall_tiles", problem)


@dataclass(frozen=True)
class MeterIn:
    code: str
    name: str
    site: str
    carrier: str
    unit: str
    kind: str
    parent: str | None = None
    interval_s: int = 900
    multiplier: float = 1.0
    rollover: float | None = None
    max_value: float | None = None
    max_interval_quantity: float | None = None
    max_counter_step: float | None = None


def create_site(session: Session, data: SiteIn) -> Site:
    if session.scalar(select(Site.id).where(Site.code == data.code)) is not None:
        raise Conflict("code", f"site {data.code!r} already exists")
    zone = clock.zone(data.timezone)  # a bad name is a 422 naming "timezone"
    parent_id = None
    if data.parent is not None:
        parent_id = session.scalar(select(Site.id).where(Site.code == data.parent))
        if parent_id is None:
            raise Invalid("parent", f"unknown site {data.parent!r}")
    _check_settings(data.contracted_demand_kw, data.wall_tiles)
    site = Site(
        code=data.code,
        name=data.name,
        parent_id=parent_id,
        timezone=zone.key,
        region=data.region,
        contracted_demand_kw=data.contracted_demand_kw,
        wall_tiles=data.wall_tiles,
    )
    session.add(site)
    session.flush()
    return site


def update_site_settings(
    session: Session,
    code: str,
    contracted_demand_kw: object = UNSET,
    wall_tiles: object = UNSET,
) -> Site:
    """Change a site's own settings; ``UNSET`` leaves a field, ``None`` clears it (the
    change goes to the audit trail with the site row)."""
    site = get_site(session, code)
    _check_settings(contracted_demand_kw, wall_tiles)
    if contracted_demand_kw is not UNSET:
        site.contracted_demand_kw = (
            None if contracted_demand_kw is None else float(contracted_demand_kw)  # type: ignore[arg-type]
        )
    if wall_tiles is not UNSET:
        site.wall_tiles = None if wall_tiles is None else list(wall_tiles)  # type: ignore[call-overload]
    session.flush()
    return site


def contracted_demand_kw(db: Session | Connection, site_id: int) -> float | None:
    """The contracted maximum demand of a site (kW), its own field; ``None`` when unset."""
    return db.execute(select(Site.contracted_demand_kw).where(Site.id == site_id)).scalar()


def create_meter(session: Session, data: MeterIn) -> Meter:
    if session.scalar(select(Meter.id).where(Meter.code == data.code)) is not None:
        raise Conflict("code", f"meter {data.code!r} already exists")
    try:
        carrier = units.Carrier(data.carrier)
    except ValueError:
        raise Invalid(
            "carrier",
            f"unknown carrier {data.carrier!r}; known: {', '.join(c.value for c in units.Carrier)}",
        ) from None
    try:
        kind = units.MeterKind(data.kind)
    except ValueError:
        raise Invalid("kind", f"must be counter, delta or gauge, not {data.kind!r}") from None
    unit = units.lookup(data.unit, "unit")
    if kind is not units.MeterKind.GAUGE and not units.is_quantity_unit(unit.symbol):
        raise Invalid(
            "unit",
            f"a {kind.value} meter needs a quantity unit (energy, volume, "
            f"mass), not {data.unit!r} ({unit.dimension})",
        )
    if data.interval_s <= 0:
        raise Invalid("interval_s", "must be a positive number of seconds")
    if not 0 < data.multiplier <= limits.MAX_MULTIPLIER:
        raise Invalid("multiplier", f"must be positive and at most {limits.MAX_MULTIPLIER:g}")
    for name in ("rollover", "max_value", "max_interval_quantity", "max_counter_step"):
        x = getattr(data, name)
        if x is not None and (limits.number_problem(x, limits.MAX_ABS_VALUE) or x <= 0):
            raise Invalid(name, f"must be positive and at most {limits.MAX_ABS_VALUE:g}")
    site_id = session.scalar(select(Site.id).where(Site.code == data.site))
    if site_id is None:
        raise Invalid("site", f"unknown site {data.site!r}")
    parent_id = None
    if data.parent is not None:
        parent = session.scalar(select(Meter).where(Meter.code == data.parent))
        if parent is None:
            raise Invalid("parent", f"unknown meter {data.parent!r}")
        parent_id = parent.id
    canonical = units.canonical_unit(carrier, unit.symbol)
    factor, offset = units.conversion(unit.symbol, canonical)
    rollover = None
    if data.rollover is not None:
        if kind is not units.MeterKind.COUNTER or data.rollover <= 0:
            raise Invalid("rollover", "only a counter has a rollover, and it must be positive")
        rollover = data.rollover * data.multiplier * factor + offset
        if limits.number_problem(rollover, limits.MAX_ABS_VALUE):
            raise Invalid("rollover", f"above {limits.MAX_ABS_VALUE:g} in canonical units")
    meter = Meter(
        code=data.code,
        name=data.name,
        site_id=site_id,
        parent_id=parent_id,
        carrier=carrier.value,
        unit=unit.symbol,
        canonical_unit=canonical,
        kind=kind.value,
        interval_s=data.interval_s,
        multiplier=data.multiplier,
        rollover=rollover,
        max_value=data.max_value,
        max_interval_quantity=data.max_interval_quantity,
        max_counter_step=data.max_counter_step,
    )
    session.add(meter)
    session.flush()
    return meter


def list_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.id)))


def list_meters(session: Session, site: str | None = None) -> list[Meter]:
    stmt = select(Meter).order_by(Meter.id)
    if site is not None:
        stmt = stmt.join(Site, Site.id == Meter.site_id).where(Site.code == site)
    return list(session.scalars(stmt))


def get_meter(session: Session, code: str) -> Meter:
    meter = session.scalar(select(Meter).where(Meter.code == code))
    if meter is None:
        raise NotFound("meter", f"unknown meter {code!r}")
    return meter


def get_site(session: Session, code: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == code))
    if site is None:
        raise NotFound("site", f"unknown site {code!r}")
    return site


def site_subtree_ids(session: Session, code: str) -> list[int]:
    """Ids of the site and all its descendants."""
    return subtree_ids(session, get_site(session, code).id)


def subtree_ids(db: Session | Connection, root_id: int) -> list[int]:
    """Ids of a site (by id) and all its descendants, on a session or a connection."""
    children: dict[int | None, list[int]] = {}
    for sid, parent in db.execute(select(Site.id, Site.parent_id)).all():
        children.setdefault(parent, []).append(sid)
    out, stack = [], [root_id]
    while stack:
        sid = stack.pop()
        out.append(sid)
        stack.extend(children.get(sid, []))
    return out


def meter_infos(session: Session, codes: Iterable[str]) -> dict[str, MeterInfo]:
    codes = list(codes)
    if not codes:
        return {}
    rows = session.scalars(select(Meter).where(Meter.code.in_(codes)))
    return {m.code: to_info(m) for m in rows}


def to_info(m: Meter) -> MeterInfo:
    return MeterInfo(
        id=m.id,
        code=m.code,
        kind=m.kind,
        unit=m.unit,
        canonical_unit=m.canonical_unit,
        multiplier=m.multiplier,
        rollover=m.rollover,
        max_value=m.max_value,
        max_interval_quantity=m.max_interval_quantity,
        max_counter_step=m.max_counter_step,
    )


def meter_parent_codes(session: Session) -> dict[int, str]:
    return {m.id: m.code for m in session.scalars(select(Meter))}


def site_codes(session: Session) -> dict[int, str]:
    return {s.id: s.code for s in session.scalars(select(Site))}
