"""The demo plant gets its processes, benchmarks, equipment and daily output once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benchmarking import equipment, processes
from models.carbon import CarbonProduction
from shell.demo.benchmarking import ensure_benchmarking
from shell.demo.run import ensure_plant

END = datetime(2026, 6, 14, 16, 0, tzinfo=UTC)  # 2026-06-15 00:00 +08:00, a Monday


def test_demo_benchmarking_added_once(engine) -> None:  # noqa: ANN001
    ensure_plant(engine)
    ensure_benchmarking(engine, END - timedelta(days=14), END)
    ensure_benchmarking(engine, END - timedelta(days=14), END)
    with Session(engine) as s:
        codes = [p.code for p in processes.site_processes(s, "DEMO-PLANT")]
        assert codes == ["PAINT-BODY", "STAMP"]
        n = s.scalar(
            select(func.count())
            .select_from(CarbonProduction)
            .where(CarbonProduction.product == "painted body")
        )
        assert n == 10  # two working weeks
        g = equipment.grade_1_share(s, "DEMO-PLANT")
        assert g["installed_kw"] == 12000 and g["value_pct"] == 6390 / 12000 * 100
