"""Benchmarking: the benchmark library, own levels, processes and their ratings, the
equipment register and the site energy balance."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Configurer, DbSession, Reader
from benchmarking import energy_balance, equipment, export, library, processes

router = APIRouter(tags=["benchmarking"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Format = Literal["json", "xlsx"]


def _xlsx(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


@router.get("/benchmarks/library")
def get_library(session: DbSession, _: Reader, sector: str | None = None) -> dict:
    """Shipped GB quota and 723 rows, then own levels, each with its source and verification
    (``single_source`` true when not confirmed by two sources)."""
    return library.library(session, sector)


class BenchmarkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    sector: str = Field(min_length=1)
    product_or_process: str = Field(min_length=1)
    unit: str = Field(min_length=1, description="kgce/t, kWh/t, …")
    source: str = Field(min_length=1, description="group best, a peer plant, an internal target …")
    level_1: float | None = None
    level_2: float | None = None
    level_3: float | None = None
    benchmark: float | None = None
    baseline: float | None = None
    verification: str = "own"


@router.post("/benchmarks", status_code=201)
def add_benchmark(body: BenchmarkCreate, session: DbSession, who: Configurer) -> dict:
    row = library.add_benchmark(session, library.BenchmarkIn(**body.model_dump()), who.name)
    session.commit()
    return library.own_row(row)


class ProcessCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1)
    site: str
    meters: list[str] = Field(min_length=1)
    product: str = Field(min_length=1)
    unit: str = "t"
    benchmark: str | None = Field(default=None, description="library row id or own benchmark code")
    corrections: dict[str, float] = Field(
        default_factory=dict, description="clinker_ratio_pct, altitude_m, altitude_factor"
    )


@router.post("/processes", status_code=201)
def add_process(body: ProcessCreate, session: DbSession, who: Configurer) -> dict:
    proc = processes.create_process(session, processes.ProcessIn(**body.model_dump()), who.name)
    session.commit()
    return {**body.model_dump(), "id": proc.id}


@router.get("/processes/{code}/trend")
def process_trend(
    code: str,
    session: DbSession,
    _: Reader,
    start: datetime,
    end: datetime,
    resolution: Literal["day", "month", "year"] = "day",
) -> dict:
    """Unit consumption by day, month or year and the best-10 %-days target."""
    return processes.trend(session, code, start, end, resolution)


BENCH_COLUMNS = [
    "process",
    "product",
    "output",
    "unit",
    "energy_tce",
    "unit_consumption_kgce",
    "level_1",
    "level_2",
    "level_3",
    "benchmark",
    "baseline",
    "rating",
    "light",
    "source",
    "verification",
    "single_source",
]


@router.get("/benchmarking", response_model=None)
def get_benchmarking(
    session: DbSession,
    _: Reader,
    site: str,
    start: datetime,
    end: datetime,
    format: Format = "json",
) -> dict | Response:
    """`{"processes": [{"process", "product", "output", "unit", "energy_tce",
    "unit_consumption_kgce", "unit_consumption_unit", "levels", "rating", "source",
    "verification", …}]}`"""
    out = processes.benchmarking(session, site, start, end)
    if format == "json":
        return out
    rows = [{**r, **r["levels"]} for r in out["processes"]]
    return _xlsx(export.to_xlsx({"benchmarking": (BENCH_COLUMNS, rows)}), f"benchmarking-{site}")


class EquipmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1)
    site: str
    kind: Literal["motor", "transformer", "air_compressor", "fan", "pump"]
    rated_kw: float = Field(gt=0, description="rated kW (kVA for a transformer)")
    grade: int | None = Field(default=None, ge=1, le=3)
    standard: str | None = None
    meter: str | None = None
    efficiency_pct: float | None = Field(default=None, gt=0, le=100)
    grade_1_efficiency_pct: float | None = Field(default=None, gt=0, le=100)
    no_load_loss_kw: float | None = Field(default=None, gt=0)
    load_loss_kw: float | None = Field(default=None, gt=0)
    replacement_cost_cny: Decimal | None = Field(default=None, ge=0, decimal_places=2)
    shiftable: bool = False


@router.post("/equipment", status_code=201)
def add_equipment(body: EquipmentCreate, session: DbSession, who: Configurer) -> dict:
    row = equipment.add_equipment(session, equipment.EquipmentIn(**body.model_dump()), who.name)
    session.commit()
    return {**equipment.to_dict(session, row), "id": row.id}


@router.get("/equipment")
def list_equipment(
    session: DbSession, _: Reader, site: str, start: datetime, end: datetime
) -> dict:
    """The register with the grade-1 share and each transformer's load rate."""
    return equipment.register(session, site, start, end)


BALANCE_COLUMNS = [
    "meter",
    "site",
    "parent",
    "value",
    "remainder",
    "loss_rate",
    "remainder_kind",
    "alert",
]


@router.get("/sites/{code}/balance", response_model=None)
def site_balance(
    code: str,
    session: DbSession,
    _: Reader,
    start: datetime,
    end: datetime,
    carrier: str = "electricity",
    alert_loss_rate: Annotated[float, Query(ge=0, le=1)] = energy_balance.DEFAULT_ALERT_LOSS_RATE,
    format: Format = "json",
) -> dict | Response:
    """Inputs, conversion, end uses, metered losses, unmetered remainder, metered share and
    the loss rate per node (GB/T 28751 / GB/T 3484 spirit)."""
    b = energy_balance.site_balance(session, code, start, end, carrier, alert_loss_rate)
    if format == "json":
        return b
    summary = [
        {"item": k, "value": v, "unit": b["unit"]}
        for k, v in (
            *(("input_" + k, v) for k, v in b["inputs"].items()),
            ("consumption", b["consumption"]),
            ("end_uses", b["end_use_total"]),
            ("metered_losses", b["metered_losses"]),
            ("unmetered_remainder", b["unmetered_remainder"]),
            ("metered_share", b["metered_share"]),
        )
    ]
    return _xlsx(
        export.to_xlsx(
            {
                "balance": (["item", "value", "unit"], summary),
                "nodes": (BALANCE_COLUMNS, b["nodes"]),
            }
        ),
        f"balance-{code}",
    )
