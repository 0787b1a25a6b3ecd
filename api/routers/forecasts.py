"""Forecasts of a meter or a site's carrier, with the actuals alongside."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter

from api.deps import DbSession, Reader
from forecasting import runs

router = APIRouter(tags=["forecasts"])


@router.get("/forecasts")
def get_forecast(
    session: DbSession,
    _: Reader,
    meter: str | None = None,
    site: str | None = None,
    carrier: str | None = None,
    target: Literal["load", "energy", "co2"] = "load",
    horizon: str = "24h",
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict:
    """The newest stored forecast (the scheduler refreshes the next 24 h every 15 minutes and
    the next 7 days nightly) of ``meter`` or of ``site`` (its ``carrier`` total, default
    electricity): ``load`` in kW, ``energy`` per bucket in the canonical unit, or ``co2`` in
    tCO₂ with the factors in force. Points are labelled by bucket start and cover
    ``start``…``end`` (default: one ``horizon`` either side of the forecast origin), each with
    ``actual`` (None until measured), ``forecast`` and the 90 % (``lower``/``upper``) and
    50 % (``lower_50``/``upper_50``) intervals."""
    out = runs.forecast_with_actuals(
        session,
        meter=meter,
        site=site,
        carrier=carrier,
        target=target,
        horizon=horizon,
        start=start,
        end=end,
    )
    return out
