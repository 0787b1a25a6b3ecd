"""The organisational boundary: which meters count for a site, and as which emission source.

Each meter maps to an emission source. Without an explicit mapping the carrier decides
(``DEFAULT_SOURCE``): electricity → scope 2 purchased electricity, natural gas and other fuels
→ scope 1 combustion, steam/heat → scope 2 purchased heat, PV/wind generation, grid export and
water → non-emitting. A mapping can name the ``fuel`` (factor carrier) when the meter's carrier
is generic (coal → ``bituminous_coal``, other → ``CaCO3``).

Sub-meters never count twice: which meters count for a site is metering's rule
(:func:`metering.scope.counted_meters`); the others are listed as sub-meters for drill-down.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon import library
from core import units
from core.errors import Invalid
from metering import registry
from metering.scope import ScopeMeter, counted_meters
from models import Meter, Site
from models.carbon import CarbonFactor, CarbonMeterSource, CarbonMeterSourceLog

# source -> scope (None: non-emitting)
SOURCES: dict[str, int | None] = {
    "stationary_combustion": 1,
    "mobile_combustion": 1,
    "process": 1,
    "fugitive": 1,
    "purchased_electricity": 2,
    "purchased_heat": 2,
    "purchased_steam": 2,
    "purchased_cooling": 2,
    "onsite_renewable": None,
    "export": None,
    "water": None,
    "non_emitting": None,
}
C = units.Carrier
DEFAULT_SOURCE: dict[str, str] = {
    C.ELECTRICITY: "purchased_electricity",
    C.NATURAL_GAS: "stationary_combustion",
    C.COAL: "stationary_combustion",
    C.LPG: "stationary_combustion",
    C.FUEL_OIL: "stationary_combustion",
    C.DIESEL: "mobile_combustion",
    C.GASOLINE: "mobile_combustion",
    C.STEAM: "purchased_steam",
    C.HEAT: "purchased_heat",
    C.HOT_WATER: "purchased_heat",
    C.COOLING: "purchased_cooling",
    C.PV_GENERATION: "onsite_renewable",
    C.WIND_GENERATION: "onsite_renewable",
    C.GRID_EXPORT: "export",
    C.WATER: "water",
    C.COMPRESSED_AIR: "non_emitting",
    C.OTHER: "non_emitting",
}
# Carriers whose energy is electricity (for tce and renewable shares).
ELECTRIC = {
    C.ELECTRICITY.value,
    C.PV_GENERATION.value,
    C.WIND_GENERATION.value,
    C.GRID_EXPORT.value,
}


@dataclass(frozen=True)
class Mapping:
    scope: int | None
    source: str
    fuel: str | None  # factor carrier; None: the meter's carrier
    default: bool


@dataclass(frozen=True)
class BoundaryMeter:
    id: int
    code: str
    site_id: int
    carrier: str
    unit: str  # canonical
    kind: str
    mapping: Mapping

    @property
    def factor_carrier(self) -> str:
        """The carrier the factor library is asked about."""
        if self.mapping.fuel:
            return self.mapping.fuel
        if self.carrier in ELECTRIC:
            return C.ELECTRICITY.value
        return self.carrier


@dataclass(frozen=True)
class Boundary:
    site: str
    site_ids: list[int]
    counted: list[BoundaryMeter]
    submeters: list[BoundaryMeter]


def default_mapping(carrier: str) -> Mapping:
    source = DEFAULT_SOURCE.get(carrier, "non_emitting")
    return Mapping(SOURCES[source], source, None, True)


def _mapping(meter: Meter | ScopeMeter, row: CarbonMeterSource | None) -> Mapping:
    if row is None:
        return default_mapping(meter.carrier)
    return Mapping(row.scope, row.source, row.fuel, False)


def meter_mapping(session: Session, code: str) -> tuple[Meter, Mapping]:
    meter = registry.get_meter(session, code)
    return meter, _mapping(meter, session.get(CarbonMeterSource, meter.id))


def set_mapping(
    session: Session, code: str, source: str, fuel: str | None, actor: str, scope: int | None = None
) -> tuple[Meter, Mapping]:
    """Map a meter to an emission source (scope follows from the source); the change is logged."""
    if source not in SOURCES:
        raise Invalid("source", f"unknown emission source {source!r}; known: {', '.join(SOURCES)}")
    if scope is not None and scope != SOURCES[source]:
        raise Invalid("scope", f"source {source!r} is scope {SOURCES[source]}, not {scope}")
    if (
        fuel is not None
        and session.scalar(select(CarbonFactor.id).where(CarbonFactor.carrier == fuel).limit(1))
        is None
    ):
        raise Invalid("fuel", f"no factor for {fuel!r} in the library; add one first")
    meter = registry.get_meter(session, code)
    if meter.kind == "gauge":
        raise Invalid("meter", f"{code!r} is a gauge: it measures no quantity to account")
    row = session.get(CarbonMeterSource, meter.id)
    old = None if row is None else {"scope": row.scope, "source": row.source, "fuel": row.fuel}
    if row is None:
        row = CarbonMeterSource(meter_id=meter.id)
        session.add(row)
    row.scope, row.source, row.fuel, row.updated_by = SOURCES[source], source, fuel, actor
    session.add(
        CarbonMeterSourceLog(
            meter_id=meter.id,
            actor=actor,
            old=old,
            new={"scope": row.scope, "source": source, "fuel": fuel},
        )
    )
    session.flush()
    return meter, _mapping(meter, row)


def boundary_meters(session: Session, meter_ids: list[int] | None = None) -> list[BoundaryMeter]:
    """These meters (every energy meter when ``None``; gauges never) with their mappings."""
    stmt = select(Meter).where(Meter.kind != "gauge").order_by(Meter.id)
    if meter_ids is not None:
        stmt = stmt.where(Meter.id.in_(meter_ids))
    meters = list(session.scalars(stmt))
    rows = {
        r.meter_id: r
        for r in session.scalars(
            select(CarbonMeterSource).where(CarbonMeterSource.meter_id.in_([m.id for m in meters]))
        )
    }
    return [
        BoundaryMeter(
            m.id,
            m.code,
            m.site_id,
            m.carrier,
            m.canonical_unit,
            m.kind,
            _mapping(m, rows.get(m.id)),
        )
        for m in meters
    ]


def site_boundary(session: Session, site_code: str) -> Boundary:
    """The counted meters of the site (metering's rule) and its sub-meters, each with the
    emission source it maps to."""
    scope = counted_meters(session, site_code)
    ids = [m.id for m in scope.counted + scope.submeters]
    rows = {
        r.meter_id: r
        for r in session.scalars(
            select(CarbonMeterSource).where(CarbonMeterSource.meter_id.in_(ids))
        )
    }

    def bm(m: ScopeMeter) -> BoundaryMeter:
        mapping = _mapping(m, rows.get(m.id))
        return BoundaryMeter(m.id, m.code, m.site_id, m.carrier, m.canonical_unit, m.kind, mapping)

    return Boundary(
        site_code,
        scope.site_ids,
        [bm(m) for m in scope.counted],
        [bm(m) for m in scope.submeters],
    )


@dataclass(frozen=True)
class SiteContext:
    """What factor resolution needs to know about a meter's site."""

    site_chain: list[int]  # the site, its parent, … the root
    region_chain: list[str]  # the first region set on the chain, then its grid, national
    timezone: str


def site_context(session: Session, site_id: int) -> SiteContext:
    return site_contexts(session, [site_id])[site_id]


def site_contexts(session: Session, site_ids: list[int]) -> dict[int, SiteContext]:
    """Contexts of several sites, reading the site table once."""
    sites = {s.id: s for s in session.scalars(select(Site))}
    return {sid: _context(sites, sid) for sid in set(site_ids)}


def _context(sites: dict[int, Site], site_id: int) -> SiteContext:
    chain: list[int] = []
    sid: int | None = site_id
    while sid is not None:
        chain.append(sid)
        sid = sites[sid].parent_id
    region = next((sites[s].region for s in chain if sites[s].region), None)
    return SiteContext(chain, library.region_chain(region), sites[site_id].timezone)


def fingerprint(meter: BoundaryMeter, ctx: SiteContext) -> str:
    """Changes whenever anything that decides a meter's factors changes."""
    blob = json.dumps(
        [meter.carrier, meter.unit, asdict(meter.mapping), asdict(ctx)],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()
