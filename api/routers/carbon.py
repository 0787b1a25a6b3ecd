"""Carbon figures: emissions of a site and period, carbon time series, derivations of any
figure, explicit recalculations, and the check against a plant's own CO2 figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from accounts import keys
from api.deps import DbSession, Reader, require
from carbon import engine, factors, quality, recompute, series
from core.errors import Invalid

router = APIRouter(prefix="/carbon", tags=["carbon"])
Admin = Annotated[keys.Principal, Depends(require({keys.Role.ADMIN}))]
Version = Annotated[int | None, Query(description="calculation version (default: current)")]
Gwp = Annotated[str, Query(description="GWP set for non-CO2 gases: SAR, AR4, AR5, AR6")]
Tce = Annotated[str, Query(description="electricity in tce: equivalent (当量值) or equal_value")]


class SourceRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    meter: str | None = None
    source: str | None = None
    scope: int | None
    activity: float
    unit: str
    factor: float | None
    factor_id: int | None
    tco2: float | None


class EmissionsOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    scope1_tco2: float
    scope2_location_tco2: float
    scope2_market_tco2: float
    energy_tce: float
    by_source: list[SourceRow]
    derivation_hash: str = Field(description="GET /api/v1/carbon/derivations/{hash}")
    derivation_url: str = Field(description="the derivation, recomputable from these parameters")


def derivation_url(request: Request, kind: str, answer: dict, **params: Any) -> str:
    """Where the derivation of ``answer`` is found or recomputed (relative URL)."""
    path = request.app.url_path_for("get_derivation", digest=answer["derivation_hash"])
    return f"{path}?{urlencode(recompute.query(kind, answer, **params))}"


@router.get("/emissions", response_model=EmissionsOut, response_model_exclude_none=False)
def emissions(
    request: Request,
    site: str,
    start: datetime,
    end: datetime,
    session: DbSession,
    _: Reader,
    version: Version = None,
    gwp: Gwp = factors.DEFAULT_GWP_SET,
    tce_convention: Tce = "equivalent",
) -> dict:
    """Scope 1, scope 2 (location- and market-based) and energy in tce over (start, end] for a
    site and its descendants; sub-meters are not counted twice."""
    out = engine.emissions(
        session, site, start, end, version=version, gwp_set=gwp, tce_convention=tce_convention
    )
    out["derivation_url"] = derivation_url(
        request,
        "emissions",
        out,
        site=site,
        start=start,
        end=end,
        gwp=gwp,
        tce_convention=tce_convention,
    )
    return out


@router.get("/derivations/{digest}")
def get_derivation(
    digest: str,
    session: DbSession,
    _: Reader,
    kind: Annotated[str | None, Query(description="emissions | kpi_intensity")] = None,
    site: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    period: str | None = None,
    day: Annotated[date | None, Query(alias="date")] = None,
    version: Version = None,
    gwp: Gwp = factors.DEFAULT_GWP_SET,
    tce_convention: Tce = "equivalent",
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Inputs (reading aggregates, factor rows with versions and sources, boundary,
    activity, certificates), formulas and results; ``hash`` = sha256 of the canonical JSON
    of ``{"formulas", "inputs"}``. Found when stored, else recomputed from the figure's
    parameters (an answer's ``derivation_url``); nothing is stored by reading."""
    params = recompute.FigureParams(
        kind, site, start, end, period, day, version, gwp, tce_convention, as_of
    )
    return recompute.find_or_recompute(session, digest, params)


@router.get("/series")
def carbon_series(
    start: datetime,
    end: datetime,
    session: DbSession,
    _: Reader,
    site: str | None = None,
    meter: str | None = None,
    resolution: str = "1h",
    version: Version = None,
) -> dict:
    """tCO2 and tce per hour or day (carbon rollups), for a site or one meter; ``raw`` per
    reading interval for a meter."""
    if (site is None) == (meter is None):
        raise Invalid("site", "give either site or meter")
    if site is not None:
        out = series.site_carbon(session, site, start, end, resolution, version)
    else:
        out = series.meter_carbon(session, meter, start, end, resolution, version)
    return out


class RecalcIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, description="why: e.g. MEE published 2024 grid factors")


def _version_out(v) -> dict:  # noqa: ANN001
    return {
        "version": v.version,
        "factor_watermark": v.factor_watermark,
        "created_at": v.created_at,
        "created_by": v.created_by,
        "reason": v.reason,
        "summary": v.summary,
    }


@router.post("/recalculations", status_code=201)
def recalculate(body: RecalcIn, session: DbSession, who: Admin) -> dict:
    """Apply every stored factor from now on (a new calculation version), logged with what
    changes; earlier versions stay retrievable with ``?version=``."""
    v = factors.recalculate(session, who.name, body.reason)
    session.commit()
    return _version_out(v)


@router.get("/recalculations")
def list_recalculations(session: DbSession, _: Reader) -> list[dict]:
    return [_version_out(v) for v in factors.list_versions(session)]


@router.get("/quality/reported-co2")
def reported_co2(
    meter: str,
    reported: str,
    start: datetime,
    end: datetime,
    session: DbSession,
    _: Reader,
    places: int = 2,
    version: Version = None,
) -> dict:
    """Intervals where a plant's own CO2 figure (a meter in t) disagrees with the engine's
    interval emissions rounded to ``places`` decimals."""
    out = quality.compare_reported_co2(session, meter, reported, start, end, places, version)
    return out
