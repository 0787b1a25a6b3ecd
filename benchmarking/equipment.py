"""The equipment register: motors, transformers, air compressors, fans and pumps with their
efficiency grade under their standard, the installed power at grade 1, and the transformer
load rate against its economic range.

Transformer economic range (GB/T 13462 电力变压器经济运行; the formula is the standard's, the
text was not seen here — verify): economic load factor β_J = √(P0 / Pk); economic range
β_J² ≤ β ≤ 1; best range 1.33 β_J² ≤ β ≤ 0.75, with β = mean kW ÷ (rated kVA × cos φ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid
from metering import registry
from metering.balance import period_energy
from models import Meter
from models.benchmarking import Equipment

STANDARDS = {
    "motor": "GB 18613-2020",
    "transformer": "GB 20052-2024",
    "air_compressor": "GB 19153-2019",
    "fan": "GB 19761-2020",
    "pump": "GB 19762-2007",
}
TRANSFORMER_COS_PHI = 0.9


@dataclass(frozen=True)
class EquipmentIn:
    code: str
    name: str
    site: str
    kind: str
    rated_kw: float
    grade: int | None = None
    standard: str | None = None
    meter: str | None = None
    efficiency_pct: float | None = None
    grade_1_efficiency_pct: float | None = None
    no_load_loss_kw: float | None = None
    load_loss_kw: float | None = None
    replacement_cost_cny: Decimal | str | float | None = None
    shiftable: bool = False


def _pos(name: str, v: float | None, hi: float = 1e9) -> None:
    if v is not None and not (math.isfinite(v) and 0 < v <= hi):
        raise Invalid(name, f"must be a number in (0, {hi:g}]")


def add_equipment(session: Session, data: EquipmentIn, actor: str) -> Equipment:
    if data.kind not in STANDARDS:
        raise Invalid("kind", f"one of {', '.join(STANDARDS)}")
    if not data.code.strip() or not data.name.strip():
        raise Invalid("code" if not data.code.strip() else "name", "must not be empty")
    _pos("rated_kw", data.rated_kw)
    if data.grade is not None and data.grade not in (1, 2, 3):
        raise Invalid("grade", "1, 2 or 3 (grade 1 is the most efficient)")
    for name in ("efficiency_pct", "grade_1_efficiency_pct"):
        _pos(name, getattr(data, name), 100.0)
    for name in ("no_load_loss_kw", "load_loss_kw"):
        _pos(name, getattr(data, name))
    cost = None
    if data.replacement_cost_cny is not None:
        try:
            cost = Decimal(str(data.replacement_cost_cny)).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise Invalid("replacement_cost_cny", "must be a decimal amount") from None
        if cost < 0:
            raise Invalid("replacement_cost_cny", "must not be negative")
    site = registry.get_site(session, data.site)
    meter_id = None
    if data.meter:
        m = registry.get_meter(session, data.meter)
        if m.kind == "gauge" or m.canonical_unit != "kWh":
            raise Invalid("meter", f"{m.code} must be an electricity energy meter (kWh)")
        meter_id = m.id
    if session.scalar(select(Equipment.id).where(Equipment.code == data.code)):
        raise Conflict("code", f"equipment {data.code!r} exists")
    row = Equipment(
        code=data.code.strip(),
        name=data.name.strip(),
        site_id=site.id,
        kind=data.kind,
        rated_kw=data.rated_kw,
        grade=data.grade,
        standard=(data.standard or STANDARDS[data.kind]).strip(),
        meter_id=meter_id,
        efficiency_pct=data.efficiency_pct,
        grade_1_efficiency_pct=data.grade_1_efficiency_pct,
        no_load_loss_kw=data.no_load_loss_kw,
        load_loss_kw=data.load_loss_kw,
        replacement_cost_cny=cost,
        shiftable=data.shiftable,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def site_equipment(session: Session, site: str) -> list[Equipment]:
    s = registry.get_site(session, site)
    ids = registry.subtree_ids(session, s.id)
    return list(
        session.scalars(
            select(Equipment).where(Equipment.site_id.in_(ids)).order_by(Equipment.code)
        )
    )


def to_dict(session: Session, e: Equipment) -> dict:
    meter = session.get(Meter, e.meter_id) if e.meter_id else None
    return {
        "code": e.code,
        "name": e.name,
        "site": registry.site_codes(session).get(e.site_id),
        "kind": e.kind,
        "rated_kw": e.rated_kw,
        "rated_unit": "kVA" if e.kind == "transformer" else "kW",
        "grade": e.grade,
        "standard": e.standard,
        "meter": meter and meter.code,
        "efficiency_pct": e.efficiency_pct,
        "grade_1_efficiency_pct": e.grade_1_efficiency_pct,
        "no_load_loss_kw": e.no_load_loss_kw,
        "load_loss_kw": e.load_loss_kw,
        "replacement_cost_cny": e.replacement_cost_cny,
        "shiftable": e.shiftable,
    }


def grade_1_share(session: Session, site: str) -> dict:
    """For the zero-carbon scorecard: installed power at grade 1 ÷ all installed power (%)
    of the graded equipment; ``value_pct`` is None when the register has none."""
    rows = [e for e in site_equipment(session, site) if e.grade is not None]
    total = sum(e.rated_kw for e in rows)
    at_1 = sum(e.rated_kw for e in rows if e.grade == 1)
    return {
        "value_pct": 100.0 * at_1 / total if total > 0 else None,
        "installed_kw": total,
        "grade_1_kw": at_1,
        "equipment": len(rows),
        "below_grade_1": [e.code for e in rows if e.grade != 1],
    }


def economic_range(no_load_loss_kw: float, load_loss_kw: float) -> dict:
    beta_j = math.sqrt(no_load_loss_kw / load_loss_kw)
    return {
        "economic_load_factor": beta_j,
        "economic_range": [beta_j**2, 1.0],
        "best_range": [1.33 * beta_j**2, 0.75],
    }


def transformer_loading(session: Session, e: Equipment, start: datetime, end: datetime) -> dict:
    """Mean load rate β of a metered transformer over (start, end] against its economic range
    (``None`` figures when the meter or losses are missing)."""
    out: dict = {"code": e.code, "rated_kva": e.rated_kw, "load_rate": None, "position": None}
    if e.meter_id is None or not e.no_load_loss_kw or not e.load_loss_kw:
        return out
    kwh = period_energy(session, [e.meter_id], start, end).get(e.meter_id, 0.0)
    hours = (end - start).total_seconds() / 3600.0
    beta = kwh / hours / (e.rated_kw * TRANSFORMER_COS_PHI)
    rng = economic_range(e.no_load_loss_kw, e.load_loss_kw)
    lo, hi = rng["economic_range"]
    position = "below" if beta < lo else "above" if beta > hi else "within"
    return {
        **out,
        **rng,
        "mean_kw": kwh / hours,
        "cos_phi_assumed": TRANSFORMER_COS_PHI,
        "load_rate": beta,
        "position": position,
    }


def register(session: Session, site: str, start: datetime, end: datetime) -> dict:
    rows = []
    for e in site_equipment(session, site):
        d = to_dict(session, e)
        if e.kind == "transformer":
            d["loading"] = transformer_loading(session, e, start, end)
        rows.append(d)
    return {"site": site, "equipment": rows, "grade_1": grade_1_share(session, site)}
