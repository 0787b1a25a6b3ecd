"""Exchange in the WBCSD PACT (Pathfinder) v2 data model: export a footprint as a
ProductFootprint, validate a document against the vendored schema, import a supplier's
ProductFootprint as a supplier-specific factor.

Units: PACT states the footprint per *declared unit* (kilogram, liter, …) and how many
declared units one product holds (``unitaryProductAmount``). A product counted in pieces is
exported per kilogram with ``unitaryProductAmount`` = its mass; a product declared per tonne
per kilogram with 1000.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import jsonschema
from sqlalchemy.orm import Session

from core.errors import Invalid
from footprints import calc, products, service, suppliers
from models import Site
from models.footprints import MaterialFactor

SPEC_VERSION = "2.3.0"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "pact-v2-product-footprint.schema.json"
NAMESPACE = uuid.UUID("6f1c2a8e-1d0b-4c53-9a4e-3b7f0e5d9c21")  # ecc product footprints
# our declared unit → (PACT declaredUnit, declared units per product unit, or None: use mass)
_UNITS: dict[str, tuple[str, Decimal | None]] = {
    "kg": ("kilogram", Decimal(1)),
    "t": ("kilogram", Decimal(1000)),
    "l": ("liter", Decimal(1)),
    "m3": ("cubic meter", Decimal(1)),
    "m2": ("square meter", Decimal(1)),
    "kWh": ("kilowatt hour", Decimal(1)),
    "MJ": ("megajoule", Decimal(1)),
    "pcs": ("kilogram", None),
}
# PACT declaredUnit → the unit of the imported factor (kgCO2e per that unit)
_FACTOR_UNIT = {
    "kilogram": "kg",
    "liter": "l",
    "cubic meter": "m3",
    "square meter": "m2",
    "kilowatt hour": "kWh",
    "megajoule": "MJ",
    "ton kilometer": "tkm",
}


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validation_errors(doc: object) -> list[str]:
    """Every schema violation as ``path: message`` (empty when the document is valid)."""
    validator = jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return sorted(
        f"{'/'.join(str(p) for p in e.absolute_path) or '(document)'}: {e.message}"
        for e in validator.iter_errors(doc)
    )


def _dec(x: Decimal) -> str:
    """A PACT decimal string: plain notation, no exponent, at most 6 decimals."""
    s = format(calc.q6(x).normalize(), "f")
    return "0" if s in ("-0", "") else s


def _ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export(session: Session, code: str, start: datetime, end: datetime) -> dict:
    """The product's footprint for the period as a PACT v2 ProductFootprint."""
    fp = service.footprint(session, code, start, end)
    p = products.get_product(session, code)
    declared, amount = _UNITS[p.unit]
    if amount is None:
        if p.mass_kg_per_unit is None:
            raise Invalid("mass_kg_per_unit", f"{code!r} is counted in pieces: give its mass")
        amount = p.mass_kg_per_unit
    per_declared = Decimal(str(fp["kgco2e_per_unit"])) / amount
    packaging = Decimal(str(fp["by_stage"]["packaging"])) / amount
    site = session.get(Site, p.site_id) if p.site_id else None
    company = site.name if site else "ecc"
    missing = [f["subject"] for f in fp["findings"] if f["code"] == "missing_factor"]
    energy = fp["energy"]
    pcf: dict = {
        "declaredUnit": declared,
        "unitaryProductAmount": _dec(amount),
        "pCfExcludingBiogenic": _dec(per_declared),
        "pCfIncludingBiogenic": _dec(per_declared),
        "fossilGhgEmissions": _dec(per_declared),
        "fossilCarbonContent": "0",
        "biogenicCarbonContent": "0",
        "characterizationFactors": "AR6",
        "ipccCharacterizationFactorsSources": ["AR6"],
        "crossSectoralStandardsUsed": ["ISO Standard 14067"],
        "boundaryProcessesDescription": (
            "Cradle-to-gate per GB/T 24067-2024 / ISO 14067: raw materials, inbound transport, "
            "metered manufacturing energy, process emissions, packaging."
        ),
        "referencePeriodStart": _ts(start),
        "referencePeriodEnd": _ts(end),
        "geographyCountry": "CN",
        "exemptedEmissionsPercent": 0,
        "exemptedEmissionsDescription": (
            "Materials without a factor: " + ", ".join(missing) if missing else "None"
        ),
        "packagingEmissionsIncluded": packaging > 0,
        "allocationRulesDescription": (
            f"Shared meters allocated between co-products by {energy['allocation']} "
            "(GB/T 24067 order: physical relationship before economic value)."
            if energy["allocation"]
            else "No shared process; no allocation."
        ),
        "primaryDataShare": float(
            (Decimal(str(fp["primary_data_share"])) * 100).quantize(Decimal("0.01"))
        ),
    }
    if packaging > 0:
        pcf["packagingGhgEmissions"] = _dec(packaging)
    version = fp["version"]
    doc = {
        "id": str(uuid.uuid5(NAMESPACE, f"{code}|{_ts(start)}|{_ts(end)}|{version}")),
        "specVersion": SPEC_VERSION,
        "version": version,
        "created": _ts(end),
        "status": "Active",
        "companyName": company,
        "companyIds": [f"urn:ecc:site:{site.code if site else 'default'}"],
        "productDescription": p.name,
        "productIds": [f"urn:ecc:product:{p.code}"],
        "productCategoryCpc": p.cpc or "n/a",
        "productNameCompany": p.name,
        "comment": (
            f"GB/T 24067-2024 partial PCF (cradle-to-gate), {fp['kgco2e_per_unit']} kgCO2e per "
            f"{p.unit}; derivation sha256 {fp['derivation_hash']}"
        ),
        "pcf": pcf,
    }
    if version > 1:
        doc["precedingPfIds"] = [
            str(uuid.uuid5(NAMESPACE, f"{code}|{_ts(start)}|{_ts(end)}|{v}"))
            for v in range(1, version)
        ]
    errors = validation_errors(doc)
    if errors:  # our own export must always be valid: a bug, not a user error
        raise RuntimeError(f"PACT export invalid: {errors}")
    return doc


def import_factor(
    session: Session,
    doc: object,
    supplier: str | None,
    material: str | None,
    actor: str,
    evidence: str | None = None,
) -> MaterialFactor:
    """A supplier's PACT ProductFootprint → a supplier-specific factor (kgCO2e per declared
    unit), valid over the footprint's validity period (or from its reference period end)."""
    if not supplier:
        raise Invalid("supplier", "a PACT footprint is imported for the supplier that sent it")
    errors = validation_errors(doc)
    if errors:
        raise Invalid("pact", "; ".join(errors[:5]))
    assert isinstance(doc, dict)
    pcf = doc["pcf"]
    unit = _FACTOR_UNIT[pcf["declaredUnit"]]
    share = pcf.get("primaryDataShare")
    valid_from = _date(doc.get("validityPeriodStart")) or _date(pcf["referencePeriodStart"])
    valid_to = _date(doc.get("validityPeriodEnd"))
    return suppliers.add_factor(
        session,
        suppliers.FactorIn(
            material=material or doc["productNameCompany"],
            value=Decimal(pcf["pCfExcludingBiogenic"]),
            unit=unit,
            source=(
                f"PACT ProductFootprint {doc['id']} v{doc['version']} from "
                f"{doc['companyName']} (spec {doc['specVersion']})"
            ),
            supplier=supplier,
            data_type="primary",
            boundary="cradle-to-gate",
            standard=", ".join(pcf["crossSectoralStandardsUsed"]),
            verification=(
                "assured" if (pcf.get("assurance") or {}).get("assurance") else "self-declared"
            ),
            evidence=evidence,
            primary_data_share=(
                (Decimal(str(share)) / 100).quantize(Decimal("0.0001"))
                if share is not None
                else None
            ),
            valid_from=valid_from,
            valid_to=valid_to if valid_to and valid_from and valid_to > valid_from else None,
            pact=doc,
        ),
        actor,
    )


def _date(s: str | None) -> date | None:
    if not s:
        return None
    return datetime.fromisoformat(s.replace("Z", "+00:00")).date()
