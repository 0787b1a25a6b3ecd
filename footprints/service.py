"""What the API asks of the footprint room: a product's footprint for a period (gathered from
the BOM in force, the factors, the meters and the production output, computed by
``footprints.calc``, recorded as a derivation and as a version), and supply-chain totals."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from carbon import derivation
from core.errors import Invalid
from footprints import calc, products, suppliers
from metering import registry, series
from models import Site
from models.carbon import CarbonFactor, CarbonProduction
from models.footprints import FootprintVersion, MaterialFactor, Product

KIND = "product_footprint"
LOCK_CLASS = 0x24067  # advisory-lock class: one footprint version writer per product


def check_period(start: datetime, end: datetime) -> None:
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise Invalid(name, "timestamp without UTC offset")
    if end <= start:
        raise Invalid("end", "must be after start")


@dataclass
class Output:
    quantity: Decimal
    value_cny: Decimal | None


def production_output(session: Session, p: Product, start: datetime, end: datetime) -> Output:
    """Output recorded (``POST /production`` with ``product`` = the product code) in periods
    lying inside (start, end], converted to the product's declared unit."""
    rows = session.execute(
        select(CarbonProduction.quantity, CarbonProduction.unit, CarbonProduction.output_value_cny)
        .where(
            CarbonProduction.product == p.code,
            CarbonProduction.period_start >= start,
            CarbonProduction.period_end <= end,
        )
        .order_by(CarbonProduction.id)
    ).all()
    qty = Decimal(0)
    value: Decimal | None = Decimal(0)
    for q, unit, v in rows:
        conv = calc.conversion(unit, p.unit)
        if conv is None:
            raise Invalid("unit", f"production of {p.code!r} recorded in {unit}, not {p.unit}")
        qty += calc.D(q) * conv
        value = None if value is None or v is None else value + v
    return Output(qty, value if rows else None)


def electricity_factor(session: Session, p: Product, day: date) -> dict:
    """The product's evidenced factor, else the national electricity carbon-footprint factor
    of the data year of ``day`` (or the newest published year before it)."""
    if p.electricity_factor_kgco2e_per_kwh is not None:
        return {
            "value": str(p.electricity_factor_kgco2e_per_kwh),
            "unit": "kgCO2e/kWh",
            "source": p.electricity_factor_source,
            "kind": "evidenced (supplier-specific or green power)",
        }
    rows = list(
        session.scalars(
            select(CarbonFactor)
            .where(
                CarbonFactor.kind == "emission",
                CarbonFactor.carrier == "electricity",
                CarbonFactor.variant == "footprint",
                CarbonFactor.site_id.is_(None),
                or_(CarbonFactor.region.is_(None), CarbonFactor.region == "national"),
            )
            .order_by(CarbonFactor.valid_from, CarbonFactor.id)
        )
    )
    if not rows:
        raise Invalid("electricity_factor", "no electricity carbon-footprint factor in the library")
    latest: dict[str, CarbonFactor] = {}
    for r in rows:  # a newer row of the same key supersedes
        latest[r.key] = r
    cands = sorted(latest.values(), key=lambda r: r.valid_from or date.min)
    covering = [
        r
        for r in cands
        if (r.valid_from is None or r.valid_from <= day)
        and (r.valid_to is None or day < r.valid_to)
    ]
    before = [r for r in cands if r.valid_from is None or r.valid_from <= day]
    if covering:
        f, note = covering[-1], "data year of the period"
    elif before:
        f, note = before[-1], "newest published data year before the period applied"
    else:
        f, note = cands[0], "earliest published data year applied (none before the period)"
    year = f.valid_from.year if f.valid_from else None
    return {
        "value": str(Decimal(str(f.value))),  # tCO2e/MWh == kgCO2e/kWh
        "unit": "kgCO2e/kWh",
        "source": f"{f.source_document} — data year {year}; {note}",
        "source_url": f.source_url,
        "factor_id": f.id,
        "kind": "national electricity carbon-footprint factor (GB/T 24067)",
    }


def _factor_json(f: MaterialFactor, supplier_code: str | None) -> dict:
    return {
        "id": f.id,
        "value": str(f.value.normalize()),
        "unit": f.unit,
        "source": f.source,
        "data_type": f.data_type,
        "supplier_specific": f.supplier_id is not None,
        "supplier": supplier_code,
        "valid_from": f.valid_from,
        "valid_to": f.valid_to,
    }


def gather(session: Session, p: Product, start: datetime, end: datetime) -> dict:
    """The inputs of one footprint (the JSON that is hashed)."""
    day = start.date()
    bom = products.bom_at(session, p.id, day)
    if bom is None:
        raise Invalid("product", f"no bill of materials of {p.code!r} in force on {day}")
    items = []
    for it, supplier_code in products.bom_items(session, bom.id):
        f: dict | None = None
        sf = (
            suppliers.supplier_factor(session, it.material, it.supplier_id, day)
            if it.supplier_id
            else None
        )
        if sf is not None:
            f = _factor_json(sf, supplier_code)
        elif it.factor_kgco2e_per_unit is not None:
            f = {
                "id": None,
                "value": str(it.factor_kgco2e_per_unit.normalize()),
                "unit": it.unit,
                "source": it.factor_source,
                "data_type": "secondary",
                "supplier_specific": False,
                "supplier": None,
            }
        else:
            df = suppliers.default_factor(session, it.material, day)
            f = _factor_json(df, None) if df is not None else None
        items.append(
            {
                "line": it.line,
                "material": it.material,
                "supplier": supplier_code,
                "stage": it.stage,
                "quantity": str(it.quantity.normalize()),
                "unit": it.unit,
                "factor": f,
            }
        )
    process = None
    if bom.process_kgco2e_per_unit is not None:
        process = {
            "kgco2e_per_unit": str(bom.process_kgco2e_per_unit.normalize()),
            "source": bom.process_source,
        }
    inputs: dict = {
        "product": {
            "code": p.code,
            "declared_unit": p.unit,
            "mass_kg_per_unit": str(p.mass_kg_per_unit.normalize()) if p.mass_kg_per_unit else None,
        },
        "period": {"start": start, "end": end},
        "boundary": "cradle-to-gate",
        "bom": {
            "version": bom.version,
            "valid_from": bom.valid_from,
            "items": items,
            "transport": bom.transport,
            "process": process,
        },
        "energy": _energy_inputs(session, p, start, end, day),
    }
    return inputs


def _weight(session: Session, p: Product, allocation: str, start: datetime, end: datetime) -> dict:
    out = production_output(session, p, start, end)
    if allocation == "mass":
        if p.mass_kg_per_unit is None:
            raise Invalid("mass_kg_per_unit", f"product {p.code!r} needs it for mass allocation")
        weight = out.quantity * p.mass_kg_per_unit
    else:
        if out.value_cny is None:
            raise Invalid(
                "output_value_cny", f"economic allocation needs the output value of {p.code!r}"
            )
        weight = out.value_cny
    return {
        "product": p.code,
        "output_quantity": str(out.quantity.normalize()),
        "weight": str(weight.normalize()),
    }


def _energy_inputs(
    session: Session, p: Product, start: datetime, end: datetime, day: date
) -> dict | None:
    meters = products.product_meters(session, p.id)
    if not meters:
        return None
    kwh = series.energy_by_meter(session, [m.id for m in meters], start, end)
    rows = []
    for m in meters:
        cos = products.co_products(session, m.id)
        rows.append(
            {
                "meter": m.code,
                "kwh": str(Decimal(str(round(kwh.get(m.id, 0.0), 6))).normalize()),
                "co_products": [_weight(session, c, p.allocation, start, end) for c in cos],
            }
        )
    out = production_output(session, p, start, end)
    return {
        "product": p.code,
        "allocation": p.allocation,
        "output_quantity": str(out.quantity.normalize()),
        "meters": rows,
        "electricity_factor": electricity_factor(session, p, day),
    }


def footprint(session: Session, code: str, start: datetime, end: datetime) -> dict:
    """The footprint of a product for a period: computed, recorded, versioned."""
    check_period(start, end)
    p = products.get_product(session, code)
    inputs = gather(session, p, start, end)
    results = calc.compute(inputs)
    digest = derivation.record(session, KIND, inputs, calc.FORMULAS, results)
    # concurrent requests for the same product agree on one next version
    session.execute(text("SELECT pg_advisory_xact_lock(:c, :p)"), {"c": LOCK_CLASS, "p": p.id})
    latest = session.scalar(
        select(FootprintVersion)
        .where(
            FootprintVersion.product_id == p.id,
            FootprintVersion.period_start == start,
            FootprintVersion.period_end == end,
        )
        .order_by(FootprintVersion.version.desc())
        .limit(1)
    )
    if latest is None or latest.derivation_hash != digest:
        latest = FootprintVersion(
            product_id=p.id,
            period_start=start,
            period_end=end,
            version=(latest.version + 1) if latest else 1,
            derivation_hash=digest,
            kgco2e_per_unit=Decimal(results["kgco2e_per_unit"]),
            result=json.loads(derivation.canonical_json(results)),
        )
        session.add(latest)
        session.flush()
    return shape(p, inputs, results, digest, latest)


def shape(p: Product, inputs: dict, results: dict, digest: str, v: FootprintVersion) -> dict:
    energy = inputs["energy"]
    ef = energy["electricity_factor"] if energy else None
    return {
        "product": p.code,
        "name": p.name,
        "declared_unit": p.unit,
        "start": inputs["period"]["start"],
        "end": inputs["period"]["end"],
        "boundary": "cradle-to-gate",
        "kgco2e_per_unit": float(results["kgco2e_per_unit"]),
        "by_stage": {k: float(v) for k, v in results["by_stage"].items()},
        "by_material": [
            {
                "material": m["material"],
                "supplier": m["supplier"],
                "stage": m["stage"],
                "quantity": float(m["quantity"]),
                "unit": m["unit"],
                "factor_kgco2e_per_unit": float(m["factor"]["value"]) if m["factor"] else None,
                "factor_unit": m["factor"]["unit"] if m["factor"] else None,
                "factor_source": m["factor"]["source"] if m["factor"] else None,
                "data_type": m["factor"]["data_type"] if m["factor"] else None,
                "kgco2e_per_unit": float(m["kgco2e_per_unit"]),
            }
            for m in results["by_material"]
        ],
        "by_supplier": _by_supplier(results["by_material"]),
        "transport": [
            {**leg, "kgco2e_per_unit": float(leg["kgco2e_per_unit"])}
            for leg in results["transport"]
        ],
        "energy": {
            "allocation": energy["allocation"] if energy else None,
            "output_quantity": float(energy["output_quantity"]) if energy else None,
            "meters": energy["meters"] if energy else [],
            "kwh_allocated": float(results["energy"]["kwh_allocated"]),
            "kwh_per_unit": float(results["energy"]["kwh_per_unit"]),
        },
        "primary_data_share": float(results["primary_data_share"]),
        "data_quality": results["data_quality"],
        "findings": results["findings"],
        "electricity_factor": (
            {"value": float(ef["value"]), "unit": ef["unit"], "source": ef["source"]}
            if ef
            else None
        ),
        "bom_version": inputs["bom"]["version"],
        "version": v.version,
        "derivation_hash": digest,
    }


def _by_supplier(materials: list[dict]) -> list[dict]:
    """Materials' emissions per declared unit summed by supplier, largest first."""
    sums: dict[str | None, Decimal] = {}
    for m in materials:
        sums[m["supplier"]] = sums.get(m["supplier"], Decimal(0)) + Decimal(m["kgco2e_per_unit"])
    return [
        {"supplier": k, "kgco2e_per_unit": float(v)}
        for k, v in sorted(sums.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    ]


def versions(session: Session, code: str, start: datetime, end: datetime) -> list[dict]:
    check_period(start, end)
    p = products.get_product(session, code)
    rows = session.scalars(
        select(FootprintVersion)
        .where(
            FootprintVersion.product_id == p.id,
            FootprintVersion.period_start == start,
            FootprintVersion.period_end == end,
        )
        .order_by(FootprintVersion.version)
    )
    return [
        {
            "version": r.version,
            "kgco2e_per_unit": float(r.kgco2e_per_unit),
            "derivation_hash": r.derivation_hash,
            "created_at": r.created_at,
        }
        for r in rows
    ]


def supply_chain(session: Session, start: datetime, end: datetime, site: str | None) -> dict:
    """Scope 3 category 1 (purchased goods: raw materials and packaging) and category 4
    (upstream transport) over the period = per-unit footprint stages × output; hotspots (top
    materials and suppliers); the share of category 1 covered by supplier-specific data."""
    check_period(start, end)
    q = select(Product).order_by(Product.code)
    if site is not None:
        site_row = session.scalar(select(Site).where(Site.code == site))
        if site_row is None:
            raise Invalid("site", f"no site {site!r}")
        q = q.where(Product.site_id == site_row.id)
    by_product = []
    materials: dict[str, Decimal] = {}
    supplier_kg: dict[str, Decimal] = {}
    cat1 = cat4 = supplier_specific = Decimal(0)
    skipped = []
    for p in session.scalars(q):
        out = production_output(session, p, start, end).quantity
        if out <= 0 or products.bom_at(session, p.id, start.date()) is None:
            skipped.append({"product": p.code, "reason": "no output or no BOM in the period"})
            continue
        fp = footprint(session, p.code, start, end)
        c1 = (
            Decimal(str(fp["by_stage"]["raw_materials"]))
            + Decimal(str(fp["by_stage"]["packaging"]))
        ) * out
        c4 = Decimal(str(fp["by_stage"]["transport"])) * out
        cat1 += c1
        cat4 += c4
        for m in fp["by_material"]:
            kg = Decimal(str(m["kgco2e_per_unit"])) * out
            materials[m["material"]] = materials.get(m["material"], Decimal(0)) + kg
            if m["data_type"] == "primary":
                supplier_specific += kg
            key = m["supplier"] or "(no supplier)"
            supplier_kg[key] = supplier_kg.get(key, Decimal(0)) + kg
        by_product.append(
            {
                "product": p.code,
                "output_quantity": float(out),
                "unit": p.unit,
                "category_1_tco2e": float(calc.q6(c1 / 1000)),
                "category_4_tco2e": float(calc.q6(c4 / 1000)),
                "derivation_hash": fp["derivation_hash"],
            }
        )

    def top(d: dict[str, Decimal], key: str) -> list[dict]:
        return [
            {key: k, "tco2e": float(calc.q6(v / 1000))}
            for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        ]

    return {
        "start": start,
        "end": end,
        "site": site,
        "category_1_tco2e": float(calc.q6(cat1 / 1000)),
        "category_4_tco2e": float(calc.q6(cat4 / 1000)),
        "by_product": by_product,
        "top_materials": top(materials, "material"),
        "top_suppliers": top(supplier_kg, "supplier"),
        "supplier_specific_share": (
            float((supplier_specific / cat1).quantize(Decimal("0.0001"))) if cat1 else 0.0
        ),
        "skipped": skipped,
    }


def coverage(session: Session, site: str, start: datetime, end: datetime) -> dict:
    """Products of a site (and its descendants) with a footprint for a period inside
    [start, end], over all its products (the zero-carbon scorecard's PCF coverage)."""
    site_ids = registry.site_subtree_ids(session, site)
    codes = list(session.scalars(select(Product.code).where(Product.site_id.in_(site_ids))))
    with_fp = list(
        session.scalars(
            select(Product.code)
            .where(
                Product.site_id.in_(site_ids),
                select(FootprintVersion.id)
                .where(
                    FootprintVersion.product_id == Product.id,
                    FootprintVersion.period_start >= start,
                    FootprintVersion.period_end <= end,
                )
                .exists(),
            )
            .order_by(Product.code)
        )
    )
    return {
        "products": len(codes),
        "with_footprint": len(with_fp),
        "share": len(with_fp) / len(codes) if codes else None,
        "products_with_footprint": with_fp,
    }
