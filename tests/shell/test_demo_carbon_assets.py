"""The demo plant gets its carbon assets once: a ledger, offsets and an own reduction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from assets import ledger, offsets
from shell.demo.carbon_assets import SITE, ensure_carbon_assets
from shell.demo.run import ensure_plant

NOW = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)


def test_demo_assets_are_added_once(engine) -> None:  # noqa: ANN001
    ensure_plant(engine)
    ensure_carbon_assets(engine, NOW)
    ensure_carbon_assets(engine, NOW)
    with Session(engine) as s:
        assets = ledger.list_assets(s, SITE, None, None)
        assert sorted(a.kind for a in assets) == ["ccer", "gec"]
        gec = next(a for a in assets if a.kind == "gec")
        assert gec.used_quantity == 200 and gec.status == "held"
        off = offsets.offsets(s, SITE, 2026)
        assert float(off["offsets_tco2"]) == 100 and float(off["reductions_tco2"]) == 120
