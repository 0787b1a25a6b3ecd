"""The site energy balance of one carrier over a period, in the spirit of GB/T 28751 (企业能量
平衡表) and GB/T 3484 (企业能量平衡通则).

Which meters count and what the site consumed come from metering (``counted_meters``,
``metering.balance``): nothing here decides again which meters count.

- **inputs**: purchased (the counted meters of the carrier; for electricity the grid
  meters), generated on site (PV, wind), stored (no storage is metered: 0), export (−);
- **consumption** = inputs − export;
- **conversion**: processes whose product is an energy carrier (boiler gas → steam), with the
  tce in and out;
- **nodes**: every counted meter and sub-meter of the carrier with its children; at a node
  ``remainder = value − Σ children`` and ``loss_rate = remainder ÷ value``. The remainder at a
  registered transformer's meter is a **metered loss**; elsewhere it is unmetered;
- **end uses**: the leaf meters, by workshop (site) and by process;
- **unmetered remainder** = consumption − end uses − metered losses (the balance closes by
  construction: the table shows the check), **metered share** = end uses ÷ consumption.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarking import coefficients, processes
from core import units
from core.errors import Invalid
from metering import balance as metering_balance
from metering import registry, series
from metering.scope import ScopeMeter, counted_meters
from models.benchmarking import Equipment, Process, ProcessMeter

ELECTRICITY = units.Carrier.ELECTRICITY.value
DEFAULT_ALERT_LOSS_RATE = 0.05
# Generation and export are inputs of the electricity balance; reactive energy is not energy.
BALANCED_CARRIERS = {c.value for c in units.Carrier} - {
    *(c for c in metering_balance.ROLE_OF_CARRIER if c != ELECTRICITY),
    "reactive_energy",
}


def site_balance(
    session: Session,
    code: str,
    start: datetime,
    end: datetime,
    carrier: str = ELECTRICITY,
    alert_loss_rate: float = DEFAULT_ALERT_LOSS_RATE,
) -> dict:
    series.check_period(start, end)
    if carrier not in BALANCED_CARRIERS:
        raise Invalid("carrier", "an energy carrier consumed on site (electricity, natural_gas, …)")
    if not 0 <= alert_loss_rate <= 1:
        raise Invalid("alert_loss_rate", "a share between 0 and 1")
    scope = counted_meters(session, code)
    if carrier == ELECTRICITY:
        lm = metering_balance.load_meters(session, code)
        roles = {"purchased": lm.grid, "generated": lm.generation, "export": lm.export}
        unit = "kWh"
    else:
        counted = [m for m in scope.counted if m.carrier == carrier]
        roles = {"purchased": counted, "generated": [], "export": []}
        units_seen = {m.canonical_unit for m in counted}
        unit = (
            units_seen.pop()
            if len(units_seen) == 1
            else (counted[0].canonical_unit if counted else "")
        )
    tree = [m for m in scope.counted + scope.submeters if m.carrier == carrier]
    all_meters = {m.id: m for m in (*tree, *roles["generated"], *roles["export"])}
    energy = (
        metering_balance.period_energy(session, list(all_meters), start, end) if all_meters else {}
    )

    def val(m: ScopeMeter) -> float:
        return energy.get(m.id, 0.0) * units.conversion(m.canonical_unit, unit)[0] if unit else 0.0

    inputs = {role: sum(val(m) for m in ms) for role, ms in roles.items()}
    consumption = inputs["purchased"] + inputs["generated"] - inputs["export"]
    sites = registry.site_codes(session)
    transformer_meters = set(
        session.scalars(
            select(Equipment.meter_id).where(
                Equipment.kind == "transformer", Equipment.meter_id.in_(list(all_meters) or [0])
            )
        )
    )
    proc_of: dict[int, str] = dict(
        session.execute(
            select(ProcessMeter.meter_id, Process.code)
            .join(Process, Process.id == ProcessMeter.process_id)
            .where(ProcessMeter.meter_id.in_([m.id for m in tree] or [0]))
        ).all()
    )
    children: dict[int, list[ScopeMeter]] = defaultdict(list)
    tree_ids = {m.id for m in tree}
    for m in tree:
        if m.parent_id in tree_ids:
            children[m.parent_id].append(m)
    nodes: list[dict[str, Any]] = []
    leaves: list[dict[str, Any]] = []
    metered_losses = 0.0
    for m in tree:
        v = val(m)
        kids = children.get(m.id, [])
        node = {
            "meter": m.code,
            "site": sites.get(m.site_id),
            "parent": next((p.code for p in tree if p.id == m.parent_id), None),
            "value": v,
            "children": [k.code for k in kids],
        }
        if kids:
            rem = v - sum(val(k) for k in kids)
            is_loss = m.id in transformer_meters
            node.update(
                remainder=rem,
                loss_rate=rem / v if v else None,
                remainder_kind="metered_loss" if is_loss else "unmetered",
                alert=bool(v) and rem / v > alert_loss_rate,
            )
            if is_loss:
                metered_losses += rem
        else:
            leaves.append(
                {
                    "meter": m.code,
                    "site": sites.get(m.site_id),
                    "process": proc_of.get(m.id),
                    "value": v,
                }
            )
        nodes.append(node)
    end_use = sum(x["value"] for x in leaves)
    by_site: dict[str, float] = defaultdict(float)
    by_process: dict[str, float] = defaultdict(float)
    for x in leaves:
        by_site[x["site"]] += x["value"]
        if x["process"]:
            by_process[x["process"]] += x["value"]
    # A top meter that has no children is an end use of its own: the site's balance is the
    # top meters' consumption; leaves below them add to it exactly once.
    unmetered = consumption - end_use - metered_losses
    tce_per = coefficients.tce_per_unit(carrier, unit) if unit else None
    return {
        "site": scope.site,
        "carrier": carrier,
        "unit": unit,
        "start": start,
        "end": end,
        "inputs": {**inputs, "stored": 0.0},
        "consumption": consumption,
        "conversion": _conversion(session, scope.site_ids, carrier, start, end),
        "end_uses": leaves,
        "end_uses_by_site": dict(sorted(by_site.items())),
        "end_uses_by_process": dict(sorted(by_process.items())),
        "end_use_total": end_use,
        "metered_losses": metered_losses,
        "unmetered_remainder": unmetered,
        "metered_share": end_use / consumption if consumption else None,
        "nodes": nodes,
        "closes": abs(
            inputs["purchased"]
            + inputs["generated"]
            - inputs["export"]
            - (end_use + metered_losses + unmetered)
        )
        < 1e-6 * max(1.0, abs(consumption)),
        "tce": None
        if tce_per is None
        else {
            "consumption_tce": consumption * tce_per,
            "coefficient_per_unit": tce_per,
        },
        "alert_loss_rate": alert_loss_rate,
        "method": "GB/T 28751 / GB/T 3484 spirit: inputs = consumption = end uses + metered "
        "losses + unmetered remainder",
    }


def _conversion(
    session: Session, site_ids: list[int], carrier: str, start: datetime, end: datetime
) -> list[dict]:
    """Processes of the site whose product is an energy carrier (a boiler making steam): tce
    in (their meters, GB/T 2589) and out (the output recorded in ``/production``), and the
    conversion efficiency out ÷ in."""
    carriers = {c.value for c in units.Carrier}
    rows = session.scalars(
        select(Process).where(Process.site_id.in_(site_ids), Process.product.in_(carriers))
    ).all()
    out = []
    for p in rows:
        e = processes.energy(session, p, start, end)
        produced = processes.output(session, p, start, end)
        per = coefficients.tce_per_unit(p.product, p.unit)
        out_tce = produced * per if per is not None else None
        out.append(
            {
                "process": p.code,
                "product": p.product,
                "unit": p.unit,
                "site": processes.site_of(session, p.site_id).code,
                "inputs": e["carriers"],
                "input_tce": e["energy_tce"],
                "output": produced,
                "output_tce": out_tce,
                "efficiency": out_tce / e["energy_tce"]
                if out_tce is not None and e["energy_tce"]
                else None,
                "takes_this_carrier": any(c["carrier"] == carrier for c in e["carriers"]),
            }
        )
    return out
