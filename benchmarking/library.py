"""The benchmark library: shipped GB quota levels and 723 标杆/基准 values as versioned data
(``benchmarking/data``), plus levels users add with a source (``benchmark`` table).

Every level carries its standard, edition, unit, correction notes, source and verification;
``single_source`` is true for any row not confirmed by two sources, and the pages say so.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid, NotFound
from models.benchmarking import Benchmark

QUOTA_FILE = "gb_energy_quota_levels.csv"
BENCHMARK_FILE = "energy_efficiency_benchmarks.csv"
LEVELS = ("level_1", "level_2", "level_3", "benchmark", "baseline")


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("benchmarking").joinpath(f"data/{name}").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def manifest() -> dict:
    text = resources.files("benchmarking").joinpath("data/MANIFEST.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _num(s: str) -> float | None:
    s = (s or "").strip()
    return float(s) if s else None


def single_source(verification: str) -> bool:
    return not verification.startswith("verified")


@lru_cache(maxsize=1)
def shipped() -> tuple[dict, ...]:
    """Every shipped row with values, one shape: quota rows first, then 723 rows (which take
    their levels 1/2/3 from the GB row they cross-reference)."""
    quota: dict[str, dict[str, Any]] = {}
    for r in _read(QUOTA_FILE):
        quota[r["id"]] = {
            "id": r["id"],
            "kind": "gb_quota",
            "sector": r["sector"],
            "standard": r["standard"],
            "edition": r["standard"].rsplit("-", 1)[-1] if "-" in r["standard"] else None,
            "effective_date": r["effective_date"] or None,
            "product_or_process": r["product_or_process"],
            "unit": r["unit"],
            "level_1": _num(r["level_1"]),
            "level_2": _num(r["level_2"]),
            "level_3": _num(r["level_3"]),
            "benchmark": None,
            "baseline": None,
            "correction_note": r["correction_note"] or None,
            "source": r["source"],
            "verification": r["verification"],
            "single_source": single_source(r["verification"]),
            "notes": r["notes"] or None,
        }
    rows = list(quota.values())
    for r in _read(BENCHMARK_FILE):
        q = quota.get(r["quota_id"])
        row: dict[str, Any] = {
            "id": r["id"],
            "kind": "ndrc_723",
            "sector": r["sector"],
            "standard": "发改产业〔2023〕723号",
            "edition": "2023",
            "effective_date": None,
            "product_or_process": r["product_or_process"],
            "unit": r["unit"],
            "level_1": q and q["level_1"],
            "level_2": q and q["level_2"],
            "level_3": q and q["level_3"],
            "benchmark": _num(r["benchmark_value"]),
            "baseline": _num(r["baseline_value"]),
            "quota_id": r["quota_id"],
            "correction_note": r["statistical_scope_note"] or None,
            "source": r["source"],
            "verification": r["verification"],
            "single_source": single_source(r["verification"]),
            "notes": r["notes"] or None,
        }
        rows.append(row)
        if q is not None:  # the GB row shows the 723 values that cover the same process
            q.update(benchmark=row["benchmark"], baseline=row["baseline"], ndrc_723_id=row["id"])
    return tuple(rows)


def library(session: Session, sector: str | None = None) -> dict:
    """``{"version", "rows": [...]}``: shipped rows then own rows; ``sector`` filters by a
    case-insensitive substring (建材, cement, steel, 钢铁 …)."""
    rows = [
        *shipped(),
        *(own_row(b) for b in session.scalars(select(Benchmark).order_by(Benchmark.id))),
    ]
    if sector:
        s = sector.strip().lower()
        rows = [r for r in rows if s in r["sector"].lower()]
    return {"version": manifest()["version"], "rows": rows}


def own_row(b: Benchmark) -> dict:
    return {
        "id": b.code,
        "kind": "own",
        "sector": b.sector,
        "standard": "own",
        "edition": None,
        "effective_date": None,
        "product_or_process": b.product_or_process,
        "unit": b.unit,
        **{k: getattr(b, k) for k in LEVELS},
        "correction_note": None,
        "source": b.source,
        "verification": b.verification,
        "single_source": True,
        "notes": f"added by {b.created_by}",
    }


def find(session: Session, ref: str, field: str = "benchmark") -> dict:
    """A library row by id (shipped) or code (own); 404 naming ``field`` if unknown."""
    for r in shipped():
        if r["id"] == ref:
            return r
    own = session.scalar(select(Benchmark).where(Benchmark.code == ref))
    if own is None:
        raise NotFound(field, f"no library row or own benchmark {ref!r}")
    return own_row(own)


@dataclass(frozen=True)
class BenchmarkIn:
    code: str
    sector: str
    product_or_process: str
    unit: str
    source: str
    level_1: float | None = None
    level_2: float | None = None
    level_3: float | None = None
    benchmark: float | None = None
    baseline: float | None = None
    verification: str = "own"


def add_benchmark(session: Session, data: BenchmarkIn, actor: str) -> Benchmark:
    for name in ("code", "sector", "product_or_process", "unit", "source"):
        if not getattr(data, name).strip():
            raise Invalid(name, "must not be empty")
    values = {k: getattr(data, k) for k in LEVELS}
    if all(v is None for v in values.values()):
        raise Invalid("level_1", "give at least one level (level_1..3, benchmark, baseline)")
    for k, v in values.items():
        if v is not None and not math.isfinite(v):
            raise Invalid(k, "must be a finite number")
    if any(r["id"] == data.code for r in shipped()) or session.scalar(
        select(Benchmark.id).where(Benchmark.code == data.code)
    ):
        raise Conflict("code", f"{data.code!r} exists")
    row = Benchmark(
        code=data.code.strip(),
        sector=data.sector.strip(),
        product_or_process=data.product_or_process.strip(),
        unit=data.unit.strip(),
        source=data.source.strip(),
        verification=data.verification.strip() or "own",
        created_by=actor,
        **values,
    )
    session.add(row)
    session.flush()
    return row
