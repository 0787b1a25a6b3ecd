"""Emissions of a site over a period: scope 1, scope 2 location- and market-based, energy in
tce, by source, gas and carrier, with the derivation of every figure.

The period ``(start, end]`` is cut wherever a meter's factor changes (assignment periods) or a
certificate's period starts or ends; each piece is summed from the energy rollups (or raw
readings where the rollups do not tile it) and multiplied by the factor of that piece.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon import aggregates, derivation, factors, formulas, quantities, records
from carbon.boundary import Boundary, BoundaryMeter, site_boundary
from core import units
from core.errors import Invalid
from metering import balance, clock, registry, series
from models.carbon import CarbonActivity, CarbonAssignment, CarbonCalcVersion, CarbonFactor

Span = tuple[datetime, datetime]


def check_options(gwp_set: str, tce_convention: str) -> None:
    if gwp_set not in factors.GWP_SETS:
        raise Invalid("gwp", f"one of {', '.join(factors.GWP_SETS)}")
    if tce_convention not in factors.TCE_CONVENTIONS:
        raise Invalid("tce_convention", f"one of {', '.join(factors.TCE_CONVENTIONS)}")


def _at(rows: list[CarbonAssignment], purpose: str, t: datetime) -> CarbonAssignment | None:
    for a in rows:
        if a.purpose == purpose and a.valid_from <= t < a.valid_to:
            return a
    return None


@dataclass
class _Grid:
    """Grid electricity consumers of one piece: kWh and residual-factor tonnes."""

    kwh: float = 0.0
    residual_t: float = 0.0
    missing_residual: bool = False


@dataclass
class _Acc:
    activity: float = 0.0
    tco2: float = 0.0
    tco2e: float = 0.0
    gas_t: float = 0.0


@dataclass
class Calc:
    """Everything one calculation collects; ``result()`` shapes the answer."""

    site: str
    start: datetime
    end: datetime
    version: CarbonCalcVersion
    gwp_set: str
    tce_convention: str
    boundary: Boundary
    assignments: dict[int, list[CarbonAssignment]]
    pieces: list[Span] = field(default_factory=list)
    readings: list[dict] = field(default_factory=list)
    rows: dict[tuple, _Acc] = field(default_factory=dict)
    row_info: dict[tuple, dict] = field(default_factory=dict)
    tce_by_carrier: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    grid: dict[Span, _Grid] = field(default_factory=dict)
    kwh: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    factor_ids: set[int] = field(default_factory=set)
    used_assignments: list[dict] = field(default_factory=list)
    activity_inputs: list[dict] = field(default_factory=list)
    cert_inputs: list[dict] = field(default_factory=list)
    claims: list[formulas.Claim] = field(default_factory=list)
    claimed_in: dict[Span, float] = field(default_factory=dict)
    alloc_segments: list[dict] = field(default_factory=list)
    quality: list[dict] = field(default_factory=list)
    cands: factors.Candidates | None = None

    def resolve(
        self,
        session: Session,
        kind: str,
        carrier: str,
        variants: tuple[str, ...],
        site_id: int,
        day: date,
    ) -> factors.Resolved | None:
        if self.cands is None:
            self.cands = factors.Candidates.load(session, self.version.factor_watermark)
        return factors.resolve_for(
            session, self.version, kind, carrier, variants, site_id, day, self.cands
        )


def emissions(
    session: Session,
    site_code: str,
    start: datetime,
    end: datetime,
    *,
    version: int | None = None,
    gwp_set: str = factors.DEFAULT_GWP_SET,
    tce_convention: str = "equivalent",
) -> dict:
    """``{"scope1_tco2", "scope2_location_tco2", "scope2_market_tco2", "energy_tce",
    "by_source", …, "derivation_hash"}`` for a site and its descendants over (start, end]."""
    return calculate(
        session,
        site_code,
        start,
        end,
        version=version,
        gwp_set=gwp_set,
        tce_convention=tce_convention,
    ).result(session)


def emissions_derivation(
    session: Session,
    site_code: str,
    start: datetime,
    end: datetime,
    *,
    version: int | None = None,
    gwp_set: str = factors.DEFAULT_GWP_SET,
    tce_convention: str = "equivalent",
) -> dict:
    """The derivation behind :func:`emissions` with the same arguments (recomputed)."""
    res = calculate(
        session,
        site_code,
        start,
        end,
        version=version,
        gwp_set=gwp_set,
        tce_convention=tce_convention,
    )
    res.result(session)
    assert res.derivation is not None
    return res.derivation


def calculate(
    session: Session,
    site_code: str,
    start: datetime,
    end: datetime,
    *,
    version: int | None = None,
    gwp_set: str = factors.DEFAULT_GWP_SET,
    tce_convention: str = "equivalent",
) -> _Result:
    series.check_period(start, end)
    check_options(gwp_set, tce_convention)
    ver = factors.get_version(session, version)
    boundary = site_boundary(session, site_code)
    assigns = factors.ensure_assignments(session, ver, boundary.counted)
    calc = Calc(site_code, start, end, ver, gwp_set, tce_convention, boundary, assigns)
    certs = _certificate_closure(session, boundary.site_ids, start, end)
    acts = records.activities(session, boundary.site_ids, start, end)

    cuts = {start, end}
    for rows in assigns.values():
        cuts.update(t for a in rows for t in (a.valid_from, a.valid_to) if start < t < end)
    cuts.update(
        t for c in certs for t in (c.retired_for_start, c.retired_for_end) if start < t < end
    )
    ordered = sorted(cuts)
    calc.pieces = list(zip(ordered, ordered[1:], strict=False))
    ids = [m.id for m in boundary.counted]
    for lo, hi in calc.pieces:
        aggs = aggregates.energy_by_meter(session, ids, lo, hi)
        calc.grid[(lo, hi)] = _Grid()
        for m in boundary.counted:
            agg = aggs.get(m.id)
            if agg is None:
                continue
            calc.readings.append(
                {
                    "meter": m.code,
                    "from": lo,
                    "to": hi,
                    "energy": agg.energy,
                    "unit": m.unit,
                    "n": agg.n,
                    "resolution": agg.resolution,
                }
            )
            _meter_piece(calc, m, lo, hi, agg.energy)
    for act in acts:
        _activity(session, calc, act)
    _market(session, calc, certs, acts)
    return _Result(calc)


def _meter_piece(calc: Calc, m: BoundaryMeter, lo: datetime, hi: datetime, energy: float) -> None:
    rows = calc.assignments.get(m.id, [])
    src = m.mapping.source
    if src in ("onsite_renewable", "export"):
        calc.kwh[src] += energy * _kwh_per(m.unit)
    if m.mapping.scope is not None:
        a = _at(rows, "co2", lo)
        key = ("meter", m.code, a.factor_id if a else None)
        acc = calc.rows.setdefault(key, _Acc())
        acc.activity += energy
        if a is None or a.coef is None:
            _finding(
                calc,
                "missing_factor",
                m.code,
                (a.note if a else None) or f"no emission factor for {m.factor_carrier}",
            )
            calc.row_info.setdefault(key, {"missing": True})
        else:
            acc.tco2 += energy * a.coef
            acc.tco2e += energy * a.coef
            _use(calc, m, a)
            fallback = [n for n in (a.note or "").split("; ") if n.startswith("fallback: ")]
            if fallback:
                _finding(
                    calc,
                    "factor_period_fallback",
                    m.code,
                    f"{lo.isoformat()}..{hi.isoformat()}: {fallback[0][10:]}",
                )
        calc.row_info.setdefault(key, {})
        calc.row_info[key].update(
            {"scope": m.mapping.scope, "category": src, "carrier": m.factor_carrier, "unit": m.unit}
        )
        if src == "purchased_electricity":
            g = calc.grid[(lo, hi)]
            kwh = energy * _kwh_per(m.unit)
            g.kwh += kwh
            calc.kwh["grid"] += kwh
            am = _at(rows, "co2_market", lo)
            if am is None or am.coef is None:
                g.missing_residual = True
                _finding(calc, "missing_factor", m.code, "no residual-mix factor")
            else:
                g.residual_t += energy * am.coef
                _use(calc, m, am)
    electric = m.factor_carrier == "electricity"
    purpose = "tce_equal" if calc.tce_convention == "equal_value" and electric else "tce"
    if src in ("process", "fugitive") or (
        src in ("water", "non_emitting") and m.mapping.fuel is None
    ):
        return
    t = _at(rows, purpose, lo)
    acc_t = calc.tce_by_carrier.setdefault((m.carrier, m.unit), [0.0, 0.0])
    acc_t[0] += energy
    if t is None or t.coef is None:
        if purpose == "tce_equal":
            raise Invalid(
                "tce_convention",
                "no equal-value (等价值) coefficient for electricity "
                f"in {lo:%Y}: add one with POST /api/v1/factors (unit kgce/kWh, "
                "variant equal_value)",
            )
        _finding(
            calc,
            "missing_tce_coefficient",
            m.code,
            (t.note if t else None) or f"no standard-coal coefficient for {m.factor_carrier}",
        )
        return
    acc_t[1] += energy * t.coef
    _use(calc, m, t)


def _kwh_per(unit: str) -> float:
    """kWh per unit of an electricity quantity (0 for other dimensions)."""
    if not quantities.convertible(unit, "kWh"):
        return 0.0
    return units.conversion(unit, "kWh")[0]


def _use(calc: Calc, m: BoundaryMeter, a: CarbonAssignment) -> None:
    if a.factor_id is not None:
        calc.factor_ids.add(a.factor_id)
    entry = {
        "meter": m.code,
        "purpose": a.purpose,
        "from": a.valid_from,
        "to": a.valid_to,
        "factor_id": a.factor_id,
        "coef": a.coef,
        "note": a.note,
    }
    if entry not in calc.used_assignments:
        calc.used_assignments.append(entry)


def _finding(calc: Calc, code: str, subject: str, detail: str) -> None:
    item = {"code": code, "subject": subject, "detail": detail}
    if item not in calc.quality:
        calc.quality.append(item)


def _activity(session: Session, calc: Calc, act: CarbonActivity) -> None:
    share = formulas.overlap_share(act.period_start, act.period_end, calc.start, calc.end)
    qty = act.quantity * share
    day = clock.local_date(max(act.period_start, calc.start), _site_tz(session, act.site_id))
    gwp = calc.resolve(session, "gwp", act.carrier, (calc.gwp_set,), act.site_id, day)
    label = f"activity {act.id}"
    calc.activity_inputs.append(
        {
            "id": act.id,
            "source": act.source,
            "carrier": act.carrier,
            "quantity": act.quantity,
            "unit": act.unit,
            "start": act.period_start,
            "end": act.period_end,
            "evidence": act.evidence,
            "share_in_period": share,
            "created_by": act.created_by,
        }
    )
    info = {
        "scope": act.scope,
        "category": act.source,
        "carrier": act.carrier,
        "unit": act.unit,
        "activity_id": act.id,
    }
    if gwp is not None:  # a gas: tonnes × GWP
        key: tuple[str, str, int | None, str] = ("source", act.source, gwp.factor.id, act.carrier)
        acc = calc.rows.setdefault(key, _Acc())
        gas_t = qty * units.conversion(act.unit, "t")[0]
        acc.activity += qty
        acc.gas_t += gas_t
        acc.tco2e += gas_t * gwp.factor.value
        if act.carrier == "CO2":
            acc.tco2 += gas_t
        calc.row_info[key] = {**info, "gas": act.carrier}
        calc.factor_ids.add(gwp.factor.id)
        return
    electric = act.carrier == "electricity"
    res = calc.resolve(
        session,
        "emission",
        act.carrier,
        ("average",) if electric else ("default",),
        act.site_id,
        day,
    )
    key = ("source", act.source, res.factor.id if res else None, act.carrier)
    acc = calc.rows.setdefault(key, _Acc())
    acc.activity += qty
    calc.row_info[key] = {**info, "gas": "CO2"}
    if res is None or not quantities.convertible(act.unit, quantities.parse(res.factor.unit).per):
        _finding(
            calc, "missing_factor", label, f"no emission factor for {act.carrier} in {act.unit}"
        )
        calc.row_info[key]["missing"] = True
        return
    t = qty * quantities.coefficient(res.factor.value, res.factor.unit, act.unit)
    acc.tco2 += t
    acc.tco2e += t
    calc.factor_ids.add(res.factor.id)
    if res.note:
        _finding(calc, "factor_period_fallback", label, res.note)
    tce = calc.resolve(
        session,
        "tce",
        act.carrier,
        ("equal_value",) if electric and calc.tce_convention == "equal_value" else ("equivalent",),
        act.site_id,
        day,
    )
    acc_t = calc.tce_by_carrier.setdefault((act.carrier, act.unit), [0.0, 0.0])
    acc_t[0] += qty
    if tce is not None and quantities.convertible(act.unit, quantities.parse(tce.factor.unit).per):
        acc_t[1] += qty * quantities.coefficient(tce.factor.value, tce.factor.unit, act.unit)
        calc.factor_ids.add(tce.factor.id)
    if electric:
        calc.kwh["grid"] += qty * _kwh_per(act.unit)


def _site_tz(session: Session, site_id: int) -> str:
    from models import Site

    return session.get_one(Site, site_id).timezone


def _certificate_closure(
    session: Session, site_ids: list[int], start: datetime, end: datetime
) -> list:
    """Certificates overlapping the period, and transitively those overlapping their periods
    (their allocation order decides what the others can claim)."""
    lo, hi = start, end
    while True:
        certs = records.certificates(session, site_ids, lo, hi)
        new_lo = min([lo, *(c.retired_for_start for c in certs)])
        new_hi = max([hi, *(c.retired_for_end for c in certs)])
        if (new_lo, new_hi) == (lo, hi):
            return certs
        lo, hi = new_lo, new_hi


def _grid_kwh(
    session: Session, calc: Calc, acts: list[CarbonActivity], lo: datetime, hi: datetime
) -> float:
    """Grid electricity of the boundary over (lo, hi] (for allocation segments outside the
    period), meters and electricity activity data."""
    grid = [m for m in calc.boundary.counted if m.mapping.source == "purchased_electricity"]
    aggs = aggregates.energy_by_meter(session, [m.id for m in grid], lo, hi)
    total = sum(aggs[m.id].energy * _kwh_per(m.unit) for m in grid if m.id in aggs)
    for a in acts:
        if a.carrier == "electricity":
            total += (
                a.quantity
                * _kwh_per(a.unit)
                * formulas.overlap_share(a.period_start, a.period_end, lo, hi)
            )
    return total


def _market(session: Session, calc: Calc, certs: list, acts_in_period: list) -> None:
    """Allocate certificates to grid consumption; zero-rate the claimed share of each piece."""
    # electricity activity data inside each piece joins the grid consumption of that piece
    for act in acts_in_period:
        if act.carrier != "electricity":
            continue
        res = calc.resolve(
            session,
            "emission",
            "electricity",
            ("supplier", "residual"),
            act.site_id,
            clock.local_date(max(act.period_start, calc.start), _site_tz(session, act.site_id)),
        )
        for span in calc.pieces:
            share = formulas.overlap_share(act.period_start, act.period_end, *span)
            kwh = act.quantity * _kwh_per(act.unit) * share
            if kwh <= 0:
                continue
            g = calc.grid[span]
            g.kwh += kwh
            if res is None:
                g.missing_residual = True
            else:
                g.residual_t += kwh * quantities.coefficient(
                    res.factor.value, res.factor.unit, "kWh"
                )
                calc.factor_ids.add(res.factor.id)
    calc.cert_inputs = [
        {
            "serial": c.serial,
            "mwh": c.mwh,
            "vintage": c.vintage,
            "instrument": c.instrument,
            "site_id": c.site_id,
            "retired_for_start": c.retired_for_start,
            "retired_for_end": c.retired_for_end,
        }
        for c in certs
    ]
    if certs:
        bounds = sorted(
            {
                calc.start,
                calc.end,
                *(t for c in certs for t in (c.retired_for_start, c.retired_for_end)),
            }
        )
        windows = [(c.retired_for_start, c.retired_for_end) for c in certs]
        all_acts = records.activities(session, calc.boundary.site_ids, bounds[0], bounds[-1])
        seg_kwh: dict[Span, float] = {}
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            if not any(w0 <= lo and hi <= w1 for w0, w1 in windows):
                continue
            if calc.start <= lo and hi <= calc.end:
                kwh = sum(g.kwh for (a, b), g in calc.grid.items() if lo <= a and b <= hi)
            else:
                kwh = _grid_kwh(session, calc, all_acts, lo, hi)
            seg_kwh[(lo, hi)] = kwh
            calc.alloc_segments.append({"from": lo, "to": hi, "grid_kwh": kwh})
        calc.claims = formulas.allocate_certificates(
            [
                formulas.Certificate(c.serial, c.mwh, c.retired_for_start, c.retired_for_end)
                for c in certs
            ],
            {s: k / 1000.0 for s, k in seg_kwh.items()},
        )
        for span in calc.pieces:
            g = calc.grid[span]
            seg = next((s for s in seg_kwh if s[0] <= span[0] and span[1] <= s[1]), None)
            if seg is None or seg_kwh[seg] <= 0:
                continue
            claimed = sum(cl.mwh for cl in calc.claims if cl.segment == seg)
            calc.claimed_in[span] = claimed * g.kwh / seg_kwh[seg]


class _Result:
    def __init__(self, calc: Calc) -> None:
        self.calc = calc
        self.derivation: dict | None = None  # set by result(): the body behind the hash

    def totals(self) -> dict:
        c = self.calc
        s1 = sum(acc.tco2 for k, acc in c.rows.items() if c.row_info[k]["scope"] == 1)
        s1e = sum(acc.tco2e for k, acc in c.rows.items() if c.row_info[k]["scope"] == 1)
        s2 = sum(acc.tco2 for k, acc in c.rows.items() if c.row_info[k]["scope"] == 2)
        market = 0.0
        for span, g in c.grid.items():
            market += formulas.market_scope2_t(
                g.residual_t, g.kwh / 1000.0, c.claimed_in.get(span, 0.0)
            )
        other2 = sum(
            acc.tco2
            for k, acc in c.rows.items()
            if c.row_info[k]["scope"] == 2
            and c.row_info[k]["category"] != "purchased_electricity"
            and not (k[0] == "source" and c.row_info[k]["carrier"] == "electricity")
        )
        tce = sum(v[1] for v in c.tce_by_carrier.values())
        return {
            "scope1_tco2": s1,
            "scope1_tco2e": s1e,
            "scope2_location_tco2": s2,
            "scope2_market_tco2": market + other2,
            "energy_tce": tce,
        }

    def result(self, session: Session) -> dict:
        c = self.calc
        t = self.totals()
        factor_rows = {
            f.id: f
            for f in session.scalars(select(CarbonFactor).where(CarbonFactor.id.in_(c.factor_ids)))
        }
        by_source = []
        for key, acc in c.rows.items():
            info = c.row_info[key]
            f = factor_rows.get(key[2])
            row = {
                ("meter" if key[0] == "meter" else "source"): key[1],
                "scope": info["scope"],
                "category": info["category"],
                "carrier": info["carrier"],
                "gas": info.get("gas", "CO2"),
                "activity": _r(acc.activity),
                "unit": info["unit"],
                "factor": f.value if f else None,
                "factor_unit": f.unit if f else None,
                "factor_id": f.id if f else None,
                "tco2": None if info.get("missing") else _r(acc.tco2),
                "tco2e": None if info.get("missing") else _r(acc.tco2e),
            }
            if "activity_id" in info:
                row["activity_id"] = info["activity_id"]
            if acc.gas_t:
                row["gas_t"] = _r(acc.gas_t)
                row["gwp"] = f.value if f else None
            by_source.append(row)
        by_gas: dict[str, list[float]] = {}
        for key, acc in c.rows.items():
            gas = c.row_info[key].get("gas", "CO2")
            g = by_gas.setdefault(gas, [0.0, 0.0])
            g[0] += acc.gas_t if gas != "CO2" else acc.tco2
            g[1] += acc.tco2e
        claimed_total = sum(c.claimed_in.values())
        per_serial: dict[str, float] = defaultdict(float)
        for cl in c.claims:
            seg_in = c.start <= cl.segment[0] and cl.segment[1] <= c.end
            if seg_in:
                per_serial[cl.serial] += cl.mwh
        consumption = balance.consumption_kwh(
            c.kwh["grid"], c.kwh["onsite_renewable"], c.kwh["export"]
        )
        results = {
            "site": c.site,
            "start": c.start,
            "end": c.end,
            "version": c.version.version,
            "gwp_set": c.gwp_set,
            "tce_convention": c.tce_convention,
            **{k: _r(v) for k, v in t.items()},
            "total_location_tco2e": _r(t["scope1_tco2e"] + t["scope2_location_tco2"]),
            "total_market_tco2e": _r(t["scope1_tco2e"] + t["scope2_market_tco2"]),
            "by_source": by_source,
            "by_gas": [
                {"gas": g, "t": _r(v[0]), "tco2e": _r(v[1])} for g, v in sorted(by_gas.items())
            ],
            "by_carrier": [
                {"carrier": k[0], "unit": k[1], "quantity": _r(v[0]), "tce": _r(v[1])}
                for k, v in sorted(c.tce_by_carrier.items())
            ],
            "electricity": {
                "grid_kwh": _r(c.kwh["grid"]),
                "onsite_renewable_kwh": _r(c.kwh["onsite_renewable"]),
                "export_kwh": _r(c.kwh["export"]),
                "consumption_kwh": _r(consumption),
                "certificates_claimed_mwh": _r(claimed_total),
            },
            "certificates": [
                {
                    "serial": s["serial"],
                    "mwh": s["mwh"],
                    "claimed_mwh_in_period": _r(per_serial.get(s["serial"], 0.0)),
                }
                for s in c.cert_inputs
            ],
            "boundary": {
                "counted": [m.code for m in c.boundary.counted],
                "submeters": [m.code for m in c.boundary.submeters],
            },
            "data_quality": c.quality,
        }
        inputs = self.inputs(session, factor_rows)
        digest, self.derivation = derivation.build("emissions", inputs, formulas.FORMULAS, results)
        results["derivation_hash"] = digest
        return results

    def inputs(self, session: Session, factor_rows: dict[int, CarbonFactor]) -> dict:
        c = self.calc
        sites = registry.site_codes(session)
        return {
            "site": c.site,
            "start": c.start,
            "end": c.end,
            "calc_version": {
                "version": c.version.version,
                "factor_watermark": c.version.factor_watermark,
                "reason": c.version.reason,
            },
            "gwp_set": c.gwp_set,
            "tce_convention": c.tce_convention,
            "boundary": [
                {
                    "meter": m.code,
                    "site": sites[m.site_id],
                    "carrier": m.carrier,
                    "unit": m.unit,
                    "scope": m.mapping.scope,
                    "source": m.mapping.source,
                    "fuel": m.mapping.fuel,
                    "default_mapping": m.mapping.default,
                }
                for m in c.boundary.counted
            ],
            "submeters_not_counted": [m.code for m in c.boundary.submeters],
            "readings": c.readings,
            "assignments": c.used_assignments,
            "factors": [factors.factor_dict(factor_rows[i], sites) for i in sorted(factor_rows)],
            "activity": c.activity_inputs,
            "certificates": [
                {**s, "site": sites[s.pop("site_id")]} for s in [dict(x) for x in c.cert_inputs]
            ],
            "certificate_allocation_segments": c.alloc_segments,
        }


def _r(x: float) -> float:
    return round(x, 9)
