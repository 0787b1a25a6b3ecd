"""Intensity KPIs: energy and carbon per unit product and per 10⁴ CNY, renewable and
green-power shares, per day, month or year with YoY and MoM."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import DbSession, Reader
from api.routers.carbon import derivation_url
from carbon import factors, kpis

router = APIRouter(tags=["carbon"])


@router.get("/kpis/intensity")
def intensity(
    request: Request,
    site: str,
    period: str,
    day: Annotated[date, Query(alias="date")],
    session: DbSession,
    _: Reader,
    version: int | None = None,
    tce_convention: str = "equivalent",
    gwp: str = factors.DEFAULT_GWP_SET,
    as_of: Annotated[
        datetime | None,
        Query(description="Cut a period in progress at this instant (default: now)"),
    ] = None,
) -> dict:
    """``period`` = day | month | year containing ``date`` (site timezone), up to ``as_of``.
    ``yoy`` and ``mom`` compare like for like: a period in progress with the same elapsed part
    of the other period, each with ``compared: {current, previous, basis}``; output is
    prorated to the window (``output_basis``)."""
    out = kpis.intensity(
        session,
        site,
        period,
        day,
        as_of=as_of,
        version=version,
        tce_convention=tce_convention,
        gwp_set=gwp,
    )
    out["derivation_url"] = derivation_url(
        request,
        "kpi_intensity",
        out,
        site=site,
        period=period,
        date=day,
        gwp=gwp,
        tce_convention=tce_convention,
        as_of=out["as_of"],
    )
    return out
