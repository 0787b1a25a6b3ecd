"""Sites: the tree park → enterprise → plant → workshop → line; totals per carrier; the
site balance and load."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from api import conditional
from api.deps import Configurer, DbSession, Reader
from api.schemas import SiteCreate, SiteLoadOut, SiteOut, SiteTotalsOut, SiteUpdate
from metering import balance, registry, series

router = APIRouter(tags=["sites"])


def _out(site, codes: dict[int, str]) -> SiteOut:  # noqa: ANN001
    return SiteOut(
        code=site.code,
        name=site.name,
        parent=codes.get(site.parent_id),
        timezone=site.timezone,
        region=site.region,
        contracted_demand_kw=site.contracted_demand_kw,
        wall_tiles=site.wall_tiles,
    )


@router.post("/sites", response_model=SiteOut, status_code=201)
def create_site(body: SiteCreate, session: DbSession, _: Configurer) -> SiteOut:
    site = registry.create_site(session, registry.SiteIn(**body.model_dump()))
    session.commit()
    return _out(site, registry.site_codes(session))


@router.patch("/sites/{code}", response_model=SiteOut)
def update_site(code: str, body: SiteUpdate, session: DbSession, _: Configurer) -> SiteOut:
    """A site's own settings: ``contracted_demand_kw`` and ``wall_tiles`` (only the fields
    given change; ``null`` clears one). Recorded in the audit trail."""
    given = body.model_dump(exclude_unset=True)
    site = registry.update_site_settings(session, code, **given)
    session.commit()
    return _out(site, registry.site_codes(session))


@router.get("/sites", response_model=list[SiteOut], responses=conditional.NOT_MODIFIED)
def list_sites(session: DbSession, who: Reader, request: Request, response: Response) -> Any:
    """The sites the caller may see, with an ETag: sent back in ``If-None-Match`` it is
    answered 304 without a body while that list is unchanged (the dashboard asks so on every
    page load instead of keeping the list a minute)."""
    codes = registry.site_codes(session)
    out = [_out(s, codes) for s in registry.list_sites(session) if who.sees(s.id)]
    return conditional.answer(request, response, out)


@router.get("/sites/{code}/totals", response_model=SiteTotalsOut)
def site_totals(code: str, start: datetime, end: datetime, session: DbSession, _: Reader) -> dict:
    """Energy per carrier over (start, end], sub-meters not double-counted."""
    return series.site_totals(session, code, start, end)


@router.get("/sites/{code}/load", response_model=SiteLoadOut)
def site_load(
    code: str,
    start: datetime,
    end: datetime,
    session: DbSession,
    _: Reader,
    resolution: str = "15m",
) -> dict:
    """Grid import, on-site generation, export and consumption (kWh) per bucket with the
    load in kW, the totals over (start, end] and the load now (the 5 minutes before the
    latest reading). Only the counted meters of the site subtree take part."""
    return balance.site_load(session, code, start, end, resolution)
