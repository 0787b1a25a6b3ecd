"""The demo plant's benchmarking data: two processes with daily output (body painting in
vehicles, stamping in tonnes) rated against internal benchmarks (the plant group's levels,
with their source), an equipment register (transformers, air compressors, press motors),
and recommendations analysed over the last four weeks. Added once (skipped when the
processes exist); recommendations are refreshed on each run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from benchmarking import equipment, library, processes
from carbon import records
from metering import registry
from models.benchmarking import Process
from recommendations import service as recommendations

SITE = "DEMO-PLANT"
ACTOR = "demo"
GROUP_SOURCE = (
    "Demo Auto group energy office: best plant 2025 (level 1), group median (2), limit (3)"
)
BENCHMARKS = (
    library.BenchmarkIn(
        code="DEMO-GROUP-PAINT",
        sector="汽车 automotive",
        product_or_process="车身涂装 body painting",
        unit="kgce/vehicle",
        source=GROUP_SOURCE,
        level_1=62.0,
        level_2=75.0,
        level_3=90.0,
        verification="internal",
    ),
    library.BenchmarkIn(
        code="DEMO-GROUP-STAMP",
        sector="汽车 automotive",
        product_or_process="冲压 stamping",
        unit="kgce/t",
        source=GROUP_SOURCE,
        level_1=20.0,
        level_2=30.0,
        level_3=40.0,
        verification="internal",
    ),
)
PROCESSES = (
    processes.ProcessIn(
        code="PAINT-BODY",
        name="Body painting 车身涂装",
        site="WS-PAINT",
        meters=["EL-PAINT", "NG-PAINT-OVEN", "ST-PURCHASED"],
        product="painted body",
        unit="vehicle",
        benchmark="DEMO-GROUP-PAINT",
    ),
    processes.ProcessIn(
        code="STAMP",
        name="Stamping 冲压",
        site="WS-STAMP",
        meters=["EL-STAMP"],
        product="stamped parts",
        unit="t",
        benchmark="DEMO-GROUP-STAMP",
    ),
)
DAILY_OUTPUT = {"PAINT-BODY": 420.0, "STAMP": 160.0}  # per workday
# the register: code, name, site, kind, rated kW, grade (1 best), meter
EQUIPMENT_ROWS: tuple[tuple[str, str, str, str, float, int, str], ...] = (
    ("TX1", "Transformer 1 1#变压器", "DEMO-PLANT", "transformer", 5000, 2, "EL-TX1"),
    ("TX2", "Transformer 2 2#变压器", "DEMO-PLANT", "transformer", 6300, 1, "EL-TX2"),
    ("AIRC-1", "Air compressor 1 1#空压机", "WS-UTIL", "air_compressor", 160, 2, "EL-AIRC-1"),
    ("AIRC-2", "Air compressor 2 2#空压机", "WS-UTIL", "air_compressor", 90, 1, "EL-AIRC-2"),
    ("PRESS-1", "Press line 1 main motor 冲压一线主电机", "LN-STAMP-1", "motor", 250, 3,
     "EL-STAMP-L1"),
    ("PRESS-2", "Press line 2 main motor 冲压二线主电机", "LN-STAMP-2", "motor", 200, 2,
     "EL-STAMP-L2"),
)  # fmt: skip
# what only some have: transformer losses (kW), efficiency against grade 1 (%) with the cost of
# reaching it (CNY), load that can move to other hours
EQUIPMENT_EXTRA: dict[str, dict[str, Any]] = {
    "TX1": {"no_load_loss_kw": 4.8, "load_loss_kw": 36.7},
    "TX2": {"no_load_loss_kw": 5.6, "load_loss_kw": 43.0},
    "AIRC-1": {
        "efficiency_pct": 91.5,
        "grade_1_efficiency_pct": 94.0,
        "replacement_cost_cny": "180000",
    },
    "PRESS-1": {
        "efficiency_pct": 94.0,
        "grade_1_efficiency_pct": 96.0,
        "replacement_cost_cny": "95000",
    },
    "PRESS-2": {"shiftable": True},
}
EQUIPMENT = tuple(
    equipment.EquipmentIn(
        code=code,
        name=name,
        site=site,
        kind=kind,
        rated_kw=rated_kw,
        grade=grade,
        meter=meter,
        **EQUIPMENT_EXTRA.get(code, {}),
    )
    for code, name, site, kind, rated_kw, grade, meter in EQUIPMENT_ROWS
)


def ensure_benchmarking(engine: Engine, start: datetime, end: datetime) -> None:
    """Benchmarks, processes, equipment and daily output over [start, end) (once)."""
    with Session(engine) as session:
        if session.scalar(select(Process.id).where(Process.code == "PAINT-BODY")):
            return
        for b in BENCHMARKS:
            library.add_benchmark(session, b, ACTOR)
        for p in PROCESSES:
            processes.create_process(session, p, ACTOR)
        for e in EQUIPMENT:
            equipment.add_equipment(session, e, ACTOR)
        zone = ZoneInfo(registry.get_site(session, SITE).timezone)
        day = start.astimezone(zone).date()
        while True:
            lo = datetime(day.year, day.month, day.day, tzinfo=zone)
            if lo >= end:
                break
            hi = lo + timedelta(days=1)
            if day.weekday() < 5 and hi <= end:
                for p in PROCESSES:
                    records.add_production(
                        session,
                        records.ProductionIn(
                            site=p.site,
                            product=p.product,
                            quantity=DAILY_OUTPUT[p.code],
                            unit=p.unit,
                            start=lo.astimezone(UTC),
                            end=hi.astimezone(UTC),
                        ),
                        ACTOR,
                    )
            day = hi.date()
        session.commit()


def refresh_recommendations(engine: Engine, now: datetime, days: int = 28) -> int:
    with Session(engine) as session:
        rows = recommendations.analyse(session, SITE, now - timedelta(days=days), now)
        session.commit()
        return len(rows)
