"""The demo plant's carbon assets: green certificates claimed for this year's electricity, CCER
held and partly retired as offsets, one own reduction, so the zero-carbon page has a ledger,
net emissions and a scorecard from the first run. Added once (skipped when the plant has any)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assets import ledger, offsets
from metering import registry
from models.assets import CarbonAsset

SITE = "DEMO-PLANT"
ACTOR = "demo"


def ensure_carbon_assets(engine: Engine, now: datetime) -> None:
    with Session(engine) as session:
        site = registry.get_site(session, SITE)
        if session.scalar(select(CarbonAsset.id).where(CarbonAsset.site_id == site.id).limit(1)):
            return
        zone = ZoneInfo(site.timezone)
        local = now.astimezone(zone)
        year_start = datetime(local.year, 1, 1, tzinfo=zone)
        month_start = datetime(local.year, local.month, 1, tzinfo=zone)
        period_end = month_start if month_start > year_start else local.replace(microsecond=0)
        gec = ledger.register(
            session,
            ledger.AssetIn(
                kind="gec",
                serial_from="10000000000000001",
                serial_to="10000000000000300",
                quantity=Decimal(300),
                unit="MWh",
                vintage=date(local.year, 1, 1),
                site=SITE,
                registry="国家绿证核发交易系统",
                project="DEMO-PV-FARM",
                evidence="demo: NEA GEC account statement",
            ),
            ACTOR,
            now,
        )
        if period_end > year_start:
            ledger.retire(
                session,
                gec.id,
                ledger.RetireIn(
                    Decimal(200),
                    "scope2_market",
                    year_start.astimezone(UTC),
                    period_end.astimezone(UTC),
                ),
                ACTOR,
                now,
            )
        ccer = ledger.register(
            session,
            ledger.AssetIn(
                kind="ccer",
                serial_from="CCER-2025-000001",
                serial_to="CCER-2025-000500",
                quantity=Decimal(500),
                unit="tCO2e",
                vintage=date(local.year - 1, 1, 1),
                site=SITE,
                registry="全国温室气体自愿减排注册登记系统",
                project="DEMO-FOREST-SINK",
                evidence="demo: registry transfer record",
            ),
            ACTOR,
            now,
        )
        if period_end > year_start:
            ledger.retire(
                session,
                ccer.id,
                ledger.RetireIn(
                    Decimal(100), "offset", year_start.astimezone(UTC), period_end.astimezone(UTC)
                ),
                ACTOR,
                now,
            )
        offsets.add_reduction(
            session,
            offsets.ReductionIn(
                site=SITE,
                year=local.year,
                baseline_year=local.year - 1,
                measure="air-compressor heat recovery replaces gas for washing water",
                tco2=Decimal(120),
                evidence="demo: metered gas before and after",
            ),
            ACTOR,
        )
        session.commit()
