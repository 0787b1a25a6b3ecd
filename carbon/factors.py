"""The factor library at run time: add versions, resolve the factor of a meter for a period, and
pin results to a calculation version.

Resolution (``resolve``) for a carrier, kind and variant at a day, under a version (factor rows
with ``id <= factor_watermark``), tries levels from most to least specific: the meter's site,
then each ancestor site; the site's region (province), its grid region, national; then rows
that apply everywhere (fuel defaults). At the first level with any candidate:

1. a row valid on that day (the newest row wins when versions overlap);
2. otherwise the latest row that ended before the day: the data year is not published yet,
   so the latest published year is used, and the derivation says so;
3. otherwise the earliest row (the day predates the library), also said so.

A factor added after a version's watermark changes nothing until an explicit, logged
recalculation (``recalculate``) creates a new version; every version stays queryable.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from carbon import quantities
from carbon.boundary import (
    BoundaryMeter,
    SiteContext,
    boundary_meters,
    fingerprint,
    site_context,
    site_contexts,
)
from core.errors import Invalid, NotFound
from metering import clock, registry
from models.carbon import (
    CarbonAssignment,
    CarbonAssignmentState,
    CarbonCalcVersion,
    CarbonFactor,
    CarbonFactorLog,
)

log = logging.getLogger(__name__)

MIN_TS = datetime(1900, 1, 1, tzinfo=UTC)
MAX_TS = datetime(9999, 1, 1, tzinfo=UTC)
DEFAULT_GWP_SET = "AR5"
GWP_SETS = ("SAR", "AR4", "AR5", "AR6")
TCE_CONVENTIONS = ("equivalent", "equal_value")
LOCK_CLASS = 0x0EC0C0  # advisory-lock class for assignment materialisation
ELECTRICITY = "electricity"


# --------------------------------------------------------------------------- adding factors


@dataclass(frozen=True)
class FactorIn:
    carrier: str
    value: float
    unit: str
    source: str
    valid_from: date | None = None
    valid_to: date | None = None
    region: str | None = None
    site: str | None = None
    variant: str | None = None
    gas: str | None = None
    source_url: str | None = None
    notes: str | None = None
    params: dict | None = None


def default_variant(kind: str, carrier: str) -> str:
    if kind == "tce":
        return "equivalent"
    if kind == "emission" and carrier == ELECTRICITY:
        return "average"
    return "default"


def add_factor(session: Session, data: FactorIn, actor: str) -> CarbonFactor:
    """Add a factor version. Never edits a stored row: a row with the same carrier, kind,
    variant, gas, place and start is superseded (linked, logged with old and new value)."""
    fu = quantities.parse(data.unit)
    kind = quantities.KIND_OF_MEASURE[fu.measure]
    if fu.measure == "co2e" and fu.per in ("t", "kg") and data.variant in GWP_SETS:
        kind = "gwp"  # tCO2e per t of a gas, for one IPCC assessment report
    if not data.carrier.strip():
        raise Invalid("carrier", "must not be empty")
    if not data.source.strip():
        raise Invalid("source", "name the source document of the factor")
    if not data.value >= 0:
        raise Invalid("value", "must be a non-negative number")
    if data.valid_from and data.valid_to and data.valid_to <= data.valid_from:
        raise Invalid("valid_to", "must be after valid_from")
    if data.region and data.site:
        raise Invalid("site", "give either region or site, not both")
    site_id = registry.get_site(session, data.site).id if data.site else None
    variant = data.variant or default_variant(kind, data.carrier)
    if kind == "gwp" and variant not in GWP_SETS:
        raise Invalid("variant", f"a GWP needs its set: one of {', '.join(GWP_SETS)}")
    region = data.region.strip() if data.region else None
    gas = data.gas or ("CO2" if fu.measure == "co2" else data.carrier if kind == "gwp" else None)
    previous = session.scalar(
        select(CarbonFactor)
        .where(
            CarbonFactor.carrier == data.carrier,
            CarbonFactor.kind == kind,
            CarbonFactor.variant == variant,
            CarbonFactor.gas.is_(None) if gas is None else CarbonFactor.gas == gas,
            CarbonFactor.site_id.is_(None) if site_id is None else CarbonFactor.site_id == site_id,
            CarbonFactor.region.is_(None) if region is None else CarbonFactor.region == region,
            CarbonFactor.valid_from.is_(None)
            if data.valid_from is None
            else CarbonFactor.valid_from == data.valid_from,
        )
        .order_by(CarbonFactor.id.desc())
        .limit(1)
    )
    place = f"site/{data.site}" if data.site else (region or "any")
    period = f"{data.valid_from or ''}..{data.valid_to or ''}"
    row = CarbonFactor(
        key=f"user/{kind}/{data.carrier}/{variant}/{place}/{period}",
        kind=kind,
        carrier=data.carrier,
        variant=variant,
        gas=gas,
        region=region,
        site_id=site_id,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        value=data.value,
        unit=data.unit,
        params=data.params,
        source_document=data.source,
        source_url=data.source_url,
        verification="user",
        notes=data.notes,
        library_version="user",
        supersedes_id=previous.id if previous is not None else None,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    session.add(
        CarbonFactorLog(
            factor_id=row.id,
            action="supersede" if previous is not None else "add",
            actor=actor,
            old_value=previous.value if previous is not None else None,
            new_value=data.value,
            detail=(f"supersedes factor {previous.id}" if previous is not None else None),
        )
    )
    session.flush()
    return row


def list_factors(
    session: Session, carrier: str | None = None, kind: str | None = None
) -> list[CarbonFactor]:
    stmt = select(CarbonFactor).order_by(CarbonFactor.id)
    if carrier:
        stmt = stmt.where(CarbonFactor.carrier == carrier)
    if kind:
        stmt = stmt.where(CarbonFactor.kind == kind)
    return list(session.scalars(stmt))


def factor_log(session: Session, factor_id: int | None = None) -> list[CarbonFactorLog]:
    stmt = select(CarbonFactorLog).order_by(CarbonFactorLog.id)
    if factor_id is not None:
        stmt = stmt.where(CarbonFactorLog.factor_id == factor_id)
    return list(session.scalars(stmt))


def factor_dict(f: CarbonFactor, site_codes: dict[int, str] | None = None) -> dict:
    """A factor row as a verifier reads it (JSON-ready)."""
    return {
        "id": f.id,
        "key": f.key,
        "kind": f.kind,
        "carrier": f.carrier,
        "variant": f.variant,
        "gas": f.gas,
        "region": f.region,
        "site": (site_codes or {}).get(f.site_id) if f.site_id else None,
        "valid_from": f.valid_from.isoformat() if f.valid_from else None,
        "valid_to": f.valid_to.isoformat() if f.valid_to else None,
        "value": f.value,
        "unit": f.unit,
        "params": f.params,
        "published_on": f.published_on.isoformat() if f.published_on else None,
        "source_document": f.source_document,
        "source_url": f.source_url,
        "verification": f.verification,
        "notes": f.notes,
        "library_version": f.library_version,
        "supersedes_id": f.supersedes_id,
        "created_by": f.created_by,
    }


# --------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class Resolved:
    factor: CarbonFactor
    note: str | None  # why a factor of another period was used


class Candidates:
    """The factor rows of one version, indexed for resolution."""

    def __init__(self, rows: Iterable[CarbonFactor]) -> None:
        self.rows: dict[tuple[str, str, str], list[CarbonFactor]] = {}
        for r in rows:
            self.rows.setdefault((r.kind, r.carrier, r.variant), []).append(r)

    @classmethod
    def load(cls, session: Session, watermark: int) -> Candidates:
        return cls(session.scalars(select(CarbonFactor).where(CarbonFactor.id <= watermark)))

    def levels(
        self, kind: str, carrier: str, variants: Sequence[str], ctx: SiteContext
    ) -> list[list[CarbonFactor]]:
        rows = [r for v in variants for r in self.rows.get((kind, carrier, v), [])]
        out = [[r for r in rows if r.site_id == sid] for sid in ctx.site_chain]
        out += [
            [r for r in rows if r.site_id is None and r.region == reg] for reg in ctx.region_chain
        ]
        out.append([r for r in rows if r.site_id is None and r.region is None])
        return [level for level in out if level]


def _valid(r: CarbonFactor, day: date) -> bool:
    starts_ok = r.valid_from is None or r.valid_from <= day
    return starts_ok and (r.valid_to is None or day < r.valid_to)


def resolve(levels: list[list[CarbonFactor]], day: date) -> Resolved | None:
    """The factor for ``day``: at each level (most specific first) a row valid that day, else
    the latest row that ended before it (year not published yet); if no level has either, the
    earliest row of the most specific level (the day predates the library)."""
    for level in levels:
        valid = [r for r in level if _valid(r, day)]
        if valid:
            return Resolved(max(valid, key=lambda r: r.id), None)
        past = [r for r in level if r.valid_to is not None and r.valid_to <= day]
        if past:
            best = max(past, key=lambda r: (r.valid_from or date.min, r.id))
            return Resolved(
                best,
                f"no factor published for this period yet: using the latest "
                f"published period {best.valid_from}..{best.valid_to}",
            )
    if not levels:
        return None
    best = min(levels[0], key=lambda r: (r.valid_from or date.min, -r.id))
    return Resolved(
        best, f"{day} predates the first factor period {best.valid_from}..{best.valid_to}: using it"
    )


def piecewise(levels: list[list[CarbonFactor]]) -> list[tuple[date | None, date | None, Resolved]]:
    """The resolution over all time as (from, to, resolved) pieces; None = unbounded."""
    if not levels:
        return []
    cuts = sorted(
        {d for level in levels for r in level for d in (r.valid_from, r.valid_to) if d is not None}
    )
    starts: list[date | None] = [None, *cuts]
    pieces: list[tuple[date | None, date | None, Resolved]] = []
    for i, lo in enumerate(starts):
        hi = cuts[i] if i < len(cuts) else None
        first = cuts[0] - timedelta(days=1) if cuts else date(2000, 1, 1)
        probe = lo if lo is not None else first
        res = resolve(levels, probe)
        if res is None:
            continue
        if pieces and pieces[-1][2].factor.id == res.factor.id and pieces[-1][2].note == res.note:
            pieces[-1] = (pieces[-1][0], hi, res)
        else:
            pieces.append((lo, hi, res))
    return pieces


# --------------------------------------------------------------------------- versions


def current_version(session: Session) -> CarbonCalcVersion:
    v = session.scalar(
        select(CarbonCalcVersion).order_by(CarbonCalcVersion.version.desc()).limit(1)
    )
    if v is None:
        raise NotFound("version", "no calculation version: run the migrations")
    return v


def materialise(session: Session, meter_ids: list[int] | None = None) -> int:
    """Store the factor assignments of these meters (every energy meter when ``None``) under the
    current calculation version; returns how many meters were looked at.

    Assignments are deterministic (version + what decides a meter's factors), so they are
    stored by the writes that change those inputs — a meter or its mapping written, a
    recalculation, the upgrade's data step, bulk loads — and reading a figure finds them. A
    reader that still finds one stale computes it inside its own transaction and commits
    nothing."""
    ver = session.scalar(
        select(CarbonCalcVersion).order_by(CarbonCalcVersion.version.desc()).limit(1)
    )
    if ver is None:
        return 0
    meters = boundary_meters(session, meter_ids)
    ensure_assignments(session, ver, meters)
    return len(meters)


def get_version(session: Session, version: int | None) -> CarbonCalcVersion:
    if version is None:
        return current_version(session)
    v = session.get(CarbonCalcVersion, version)
    if v is None:
        raise NotFound("version", f"unknown calculation version {version}")
    return v


def list_versions(session: Session) -> list[CarbonCalcVersion]:
    return list(session.scalars(select(CarbonCalcVersion).order_by(CarbonCalcVersion.version)))


# --------------------------------------------------------------------------- assignments


@dataclass(frozen=True)
class Purpose:
    name: str  # co2 | co2_market | tce | tce_equal
    kind: str
    variants: tuple[str, ...]
    sign: float = 1.0


def purposes(meter: BoundaryMeter) -> list[Purpose]:
    """The factors a meter needs, by its boundary mapping."""
    source, electric = meter.mapping.source, meter.factor_carrier == ELECTRICITY
    out: list[Purpose] = []
    if meter.mapping.scope is not None:
        variants = ("average",) if electric else ("default",)
        out.append(Purpose("co2", "emission", variants))
        if electric:
            out.append(Purpose("co2_market", "emission", ("supplier", "residual")))
    if source in ("process", "fugitive") or (
        source in ("water", "non_emitting") and meter.mapping.fuel is None
    ):
        return out  # no energy to convert to standard coal
    sign = -1.0 if source == "export" else 1.0
    out.append(Purpose("tce", "tce", ("equivalent",), sign))
    if electric:
        out.append(Purpose("tce_equal", "tce", ("equal_value",), sign))
    return out


def _local_midnight(d: date | None, tz: str, default: datetime) -> datetime:
    if d is None:
        return default
    return clock.local_midnight(d, tz)


def _coef(
    f: CarbonFactor, meter: BoundaryMeter, cands: Candidates, ctx: SiteContext, day: date
) -> tuple[float | None, str | None]:
    """Coefficient per meter canonical unit, bridging mass to heat with the carrier's heat
    content (steam in t → GJ) when the factor is per unit of energy."""
    per = quantities.parse(f.unit).per
    if quantities.convertible(meter.unit, per):
        return quantities.coefficient(f.value, f.unit, meter.unit), None
    ncv = resolve(cands.levels("ncv", meter.factor_carrier, ("low_pressure", "default"), ctx), day)
    if ncv is not None:
        nu = quantities.parse(ncv.factor.unit)
        if quantities.convertible(meter.unit, nu.per) and quantities.convertible("GJ", per):
            heat = quantities.coefficient(ncv.factor.value, ncv.factor.unit, meter.unit)
            return heat * quantities.coefficient(f.value, f.unit, "GJ"), (
                f"{meter.unit} converted to GJ with factor {ncv.factor.id} "
                f"({ncv.factor.value} {ncv.factor.unit})"
            )
    return None, f"cannot apply {f.unit} to a meter in {meter.unit}"


def compute_assignments(
    meter: BoundaryMeter, ctx: SiteContext, cands: Candidates, version: int
) -> list[CarbonAssignment]:
    out = []
    for p in purposes(meter):
        levels = cands.levels(p.kind, meter.factor_carrier, p.variants, ctx)
        for lo, hi, res in piecewise(levels):
            day = lo or (hi - timedelta(days=1) if hi else date(2000, 1, 1))
            coef, note = _coef(res.factor, meter, cands, ctx, day)
            notes = (
                "; ".join(
                    [f"fallback: {res.note}"] * bool(res.note)
                    + [f"conversion: {note}"] * bool(note)
                )
                or None
            )
            out.append(
                CarbonAssignment(
                    version=version,
                    meter_id=meter.id,
                    purpose=p.name,
                    valid_from=_local_midnight(lo, ctx.timezone, MIN_TS),
                    valid_to=_local_midnight(hi, ctx.timezone, MAX_TS),
                    scope=meter.mapping.scope,
                    source=meter.mapping.source,
                    factor_id=res.factor.id,
                    coef=None if coef is None else coef * p.sign,
                    note=notes,
                )
            )
    return out


def ensure_assignments(
    session: Session, version: CarbonCalcVersion, meters: Sequence[BoundaryMeter]
) -> dict[int, list[CarbonAssignment]]:
    """The assignments of these meters under ``version``, materialised when missing or stale
    (mapping, site, region or timezone changed since). Deterministic: the same version gives
    the same assignments whenever they are computed."""
    if not meters:
        return {}
    ids = [m.id for m in meters]
    state = dict(
        session.execute(
            select(CarbonAssignmentState.meter_id, CarbonAssignmentState.context).where(
                CarbonAssignmentState.version == version.version,
                CarbonAssignmentState.meter_id.in_(ids),
            )
        ).all()
    )
    by_site = site_contexts(session, [m.site_id for m in meters])
    contexts = {m.id: by_site[m.site_id] for m in meters}
    stale = [m for m in meters if state.get(m.id) != fingerprint(m, contexts[m.id])]
    if stale:
        cands = Candidates.load(session, version.factor_watermark)
        session.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(:c, id)) FROM unnest(CAST(:ids AS int[])) AS id"
            ),
            {"c": LOCK_CLASS, "ids": sorted(m.id for m in stale)},
        )
        stale_ids = [m.id for m in stale]
        session.execute(
            delete(CarbonAssignment).where(
                CarbonAssignment.version == version.version,
                CarbonAssignment.meter_id.in_(stale_ids),
            )
        )
        session.execute(
            delete(CarbonAssignmentState).where(
                CarbonAssignmentState.version == version.version,
                CarbonAssignmentState.meter_id.in_(stale_ids),
            )
        )
        for m in stale:
            session.add_all(compute_assignments(m, contexts[m.id], cands, version.version))
            session.add(
                CarbonAssignmentState(
                    version=version.version,
                    meter_id=m.id,
                    context=fingerprint(m, contexts[m.id]),
                    scope=m.mapping.scope,
                    source=m.mapping.source,
                )
            )
        session.flush()
    rows = session.scalars(
        select(CarbonAssignment)
        .where(CarbonAssignment.version == version.version, CarbonAssignment.meter_id.in_(ids))
        .order_by(CarbonAssignment.meter_id, CarbonAssignment.purpose, CarbonAssignment.valid_from)
    )
    out: dict[int, list[CarbonAssignment]] = {m: [] for m in ids}
    for a in rows:
        out[a.meter_id].append(a)
    return out


def resolve_for(
    session: Session,
    version: CarbonCalcVersion,
    kind: str,
    carrier: str,
    variants: Sequence[str],
    site_id: int,
    day: date,
    cands: Candidates | None = None,
) -> Resolved | None:
    """One factor for activity data (not metered) under ``version``."""
    cands = cands or Candidates.load(session, version.factor_watermark)
    return resolve(cands.levels(kind, carrier, variants, site_context(session, site_id)), day)


# --------------------------------------------------------------------------- recalculation


def recalculate(session: Session, actor: str, reason: str) -> CarbonCalcVersion:
    """Create a calculation version that uses every factor stored now; log what changes.

    The summary lists the factors new since the previous version and, per meter and purpose,
    each period whose factor changes (old and new factor id and value). Earlier versions stay
    queryable unchanged.
    """
    from carbon.boundary import site_boundary

    if not reason.strip():
        raise Invalid("reason", "say why the figures are recalculated")
    prev = current_version(session)
    watermark = session.scalar(select(func.max(CarbonFactor.id))) or 0
    new = CarbonCalcVersion(
        version=prev.version + 1, factor_watermark=watermark, created_by=actor, reason=reason
    )
    session.add(new)
    session.flush()
    added = list(
        session.scalars(
            select(CarbonFactor)
            .where(CarbonFactor.id > prev.factor_watermark, CarbonFactor.id <= watermark)
            .order_by(CarbonFactor.id)
        )
    )
    roots = [
        code
        for (code,) in session.execute(
            text("SELECT code FROM site WHERE parent_id IS NULL ORDER BY id")
        ).all()
    ]
    meters: dict[int, BoundaryMeter] = {}
    for code in roots:
        b = site_boundary(session, code)
        for m in (*b.counted, *b.submeters):
            meters[m.id] = m
    old = ensure_assignments(session, prev, list(meters.values()))
    cur = ensure_assignments(session, new, list(meters.values()))
    values: dict[int | None, float] = {
        f.id: f.value
        for f in session.scalars(
            select(CarbonFactor).where(
                CarbonFactor.id.in_(
                    {
                        a.factor_id
                        for rows in (*old.values(), *cur.values())
                        for a in rows
                        if a.factor_id is not None
                    }
                )
            )
        )
    }
    codes = {m.id: m.code for m in meters.values()}
    changes = []
    for mid, rows in cur.items():
        before = {(a.purpose, a.valid_from): a.factor_id for a in old.get(mid, [])}
        for a in rows:
            if before.get((a.purpose, a.valid_from)) != a.factor_id:
                old_id = _factor_at(old.get(mid, []), a.purpose, a.valid_from)
                changes.append(
                    {
                        "meter": codes[mid],
                        "purpose": a.purpose,
                        "from": a.valid_from.isoformat(),
                        "to": a.valid_to.isoformat(),
                        "old_factor_id": old_id,
                        "new_factor_id": a.factor_id,
                        "old_value": values.get(old_id),
                        "new_value": values.get(a.factor_id),
                    }
                )
    new.summary = {
        "previous_version": prev.version,
        "previous_watermark": prev.factor_watermark,
        "factor_watermark": watermark,
        "new_factors": [
            {"id": f.id, "key": f.key, "value": f.value, "unit": f.unit, "created_by": f.created_by}
            for f in added
        ],
        "changed_assignments": changes,
    }
    session.flush()
    log.info(
        "carbon recalculation v%s by %s (%s): %d new factors, %d changed assignments",
        new.version,
        actor,
        reason,
        len(added),
        len(changes),
    )
    return new


def _factor_at(rows: list[CarbonAssignment], purpose: str, ts: datetime) -> int | None:
    for a in rows:
        if a.purpose == purpose and a.valid_from <= ts < a.valid_to:
            return a.factor_id
    return None
