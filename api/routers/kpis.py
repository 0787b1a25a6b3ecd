"""Intensity KPIs: energy and carbon per unit product and per 10⁴ CNY, renewable and
green-power shares, per day, month or year with YoY and MoM."""

from __future__ import annotations

from datetime import date
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
) -> dict:
    """``period`` = day | month | year containing ``date`` (site timezone)."""
    out = kpis.intensity(
        session, site, period, day, version=version, tce_convention=tce_convention, gwp_set=gwp
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
    )
    return out
