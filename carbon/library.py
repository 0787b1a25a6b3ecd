"""The shipped factor library (``carbon/data``): read the CSV files, regions, and sync into the
``carbon_factor`` table (append-only: a library row already stored is never changed)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import text
from sqlalchemy.engine import Connection

DATA_DIR = Path(__file__).resolve().parent / "data"
FACTOR_FILES = (
    "grid_electricity.csv",
    "fuels.csv",
    "purchased_heat_and_process.csv",
    "standard_coal.csv",
    "gwp.csv",
    "conversions.csv",
)
NATIONAL = "national"


@lru_cache
def manifest() -> dict[str, Any]:
    return yaml.safe_load((DATA_DIR / "MANIFEST.yaml").read_text(encoding="utf-8"))


def library_version() -> str:
    return str(manifest()["version"])


def _date(s: str) -> date | None:
    return date.fromisoformat(s) if s else None


def factor_rows() -> list[dict[str, Any]]:
    """Every factor row of the library, typed, in file order."""
    out = []
    for name in FACTOR_FILES:
        with open(DATA_DIR / name, encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                out.append(
                    {
                        "key": r["key"],
                        "kind": r["kind"],
                        "carrier": r["carrier"],
                        "variant": r["variant"],
                        "gas": r["gas"] or None,
                        "region": r["region"] or None,
                        "valid_from": _date(r["valid_from"]),
                        "valid_to": _date(r["valid_to"]),
                        "value": float(r["value"]),
                        "unit": r["unit"],
                        "params": json.loads(r["params"]) if r["params"] else None,
                        "published_on": _date(r["published_on"]),
                        "source_document": r["source_document"],
                        "source_url": r["source_url"] or None,
                        "verification": r["verification"] or None,
                        "notes": r["notes"] or None,
                        "file": name,
                    }
                )
    return out


@dataclass(frozen=True)
class Region:
    code: str
    level: str  # national | grid | province
    grid: str | None
    factor_region: str


@lru_cache
def regions() -> dict[str, Region]:
    """Region code and every alias → Region."""
    out: dict[str, Region] = {}
    with open(DATA_DIR / "regions.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            reg = Region(r["region"], r["level"], r["grid"] or None, r["factor_region"])
            for name in (r["region"], *r["aliases"].split()):
                out[name.lower()] = reg
    return out


def region_chain(region: str | None) -> list[str]:
    """Factor regions to try for a site region, most specific first, ending with national.

    An unknown region string is tried as given (a factor may be posted for it), then national.
    """
    if not region:
        return [NATIONAL]
    reg = regions().get(region.strip().lower())
    if reg is None:
        return [region.strip(), NATIONAL]
    chain = [reg.factor_region]
    if reg.grid and reg.grid not in chain:
        chain.append(reg.grid)
    if NATIONAL not in chain:
        chain.append(NATIONAL)
    return chain


_EXISTS = text("""
SELECT 1 FROM carbon_factor WHERE key = :key AND site_id IS NULL AND value = :value
  AND unit = :unit AND valid_from IS NOT DISTINCT FROM CAST(:valid_from AS date)
  AND valid_to IS NOT DISTINCT FROM CAST(:valid_to AS date)
""")
_INSERT = text("""
INSERT INTO carbon_factor (key, kind, carrier, variant, gas, region, valid_from, valid_to, value,
  unit, params, published_on, source_document, source_url, verification, notes, library_version,
  created_by)
VALUES (:key, :kind, :carrier, :variant, :gas, :region, :valid_from, :valid_to, :value, :unit,
  CAST(:params AS jsonb), :published_on, :source_document, :source_url, :verification, :notes,
  :library_version, :actor)
RETURNING id
""")
_LOG = text("""
INSERT INTO carbon_factor_log (factor_id, action, actor, new_value, detail)
VALUES (:id, 'seed', :actor, :value, :detail)
""")


def sync(conn: Connection, actor: str = "library") -> int:
    """Insert the library rows not stored yet (same key, value, unit and period); log each.

    Returns how many rows were added. Stored rows are never changed: a corrected value in a
    later library version is a new row, applied only by an explicit recalculation.
    """
    version, added = library_version(), 0
    for row in factor_rows():
        params = {k: v for k, v in row.items() if k != "file"}
        params["params"] = json.dumps(row["params"], ensure_ascii=False) if row["params"] else None
        if conn.execute(_EXISTS, params).first() is not None:
            continue
        new_id = conn.execute(
            _INSERT, {**params, "library_version": version, "actor": actor}
        ).scalar_one()
        conn.execute(
            _LOG,
            {
                "id": new_id,
                "actor": actor,
                "value": row["value"],
                "detail": f"library {version}, {row['file']}",
            },
        )
        added += 1
    return added


_FIRST_VERSION = text("""
INSERT INTO carbon_calc_version (version, factor_watermark, created_by, reason)
SELECT 1, coalesce((SELECT max(id) FROM carbon_factor), 0), :actor, :reason
WHERE NOT EXISTS (SELECT 1 FROM carbon_calc_version)
""")


def load_shipped(conn: Connection, actor: str = "ecc db upgrade") -> int:
    """The data step run after the schema: sync the shipped library, open calculation version 1.

    Idempotent: rows already stored are skipped, and version 1 is created only on a database
    with no calculation version yet (its watermark is the library as shipped). Returns how many
    factor rows were added.
    """
    added = sync(conn, actor=actor)
    conn.execute(
        _FIRST_VERSION,
        {"actor": actor, "reason": f"factor library {library_version()} as shipped"},
    )
    return added
