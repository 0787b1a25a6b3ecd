"""Forecasts of a meter or a site's carrier, with the actuals alongside."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import DbSession, Reader
from forecasting import runs, tracking

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


@router.get("/forecasts/accuracy")
def get_accuracy(
    session: DbSession,
    _: Reader,
    meter: str | None = None,
    site: str | None = None,
    carrier: str | None = None,
    target: Literal["load", "energy"] = "load",
    days: Annotated[int, Query(ge=1, le=tracking.MAX_DAYS)] = 14,
    end: date | None = None,
) -> dict:
    """How good the stored forecasts of ``meter`` or of ``site`` (its ``carrier`` total)
    have been, scored against what happened (``forecasting.tracking``): per local day, lead
    (``horizon_h`` 24: the nightly day-ahead forecast, 168: the week-ahead one) and model,
    ``mae`` (kW for ``load``, the unit per bucket for ``energy``) beside the weekly seasonal
    naive's ``naive_mae`` on the same buckets, ``mape``, ``wape``, ``mase`` and
    ``coverage_90`` (fractions), for the ``days`` days ending ``end`` (default yesterday in
    the site's zone); the same pooled per lead and model (``models``); the drift rule and
    its verdicts (``drift``); and the model in force for each lead with its backtest scores
    (``in_force``)."""
    return tracking.accuracy(
        session, meter=meter, site=site, carrier=carrier, target=target, days=days, end=end
    )


@router.get("/forecasts/past")
def get_past_forecasts(
    session: DbSession,
    _: Reader,
    meter: str | None = None,
    site: str | None = None,
    carrier: str | None = None,
    target: Literal["load", "energy"] = "load",
    horizon: Literal["24h", "7d"] = "24h",
    days: Annotated[int, Query(ge=1, le=tracking.MAX_PAST_DAYS)] = 7,
    end: date | None = None,
) -> dict:
    """Past forecasts against what happened: for every bucket of the ``days`` local days
    ending ``end`` (default yesterday), the forecast that was in force for it (the newest
    nightly day-ahead, or week-ahead for ``horizon=7d``, run issued before it), its 90 %
    band and model, beside the ``actual``."""
    return tracking.past_forecasts(
        session,
        meter=meter,
        site=site,
        carrier=carrier,
        target=target,
        horizon_h=24 if horizon == "24h" else 168,
        days=days,
        end=end,
    )
