"""Exogenous inputs of the forecasts: series with future values (weather forecasts, production
plans, shutdown calendars) posted per site, each post an issue versioned by ``issued_at``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from accounts import keys
from api.deps import DbSession, Reader, require
from forecasting import exog

router = APIRouter(tags=["forecasts"])
Feeder = Annotated[
    keys.Principal,
    Depends(require({keys.Role.INGEST, keys.Role.ENGINEER, keys.Role.MANAGER, keys.Role.ADMIN})),
]


class ExogPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ts: datetime = Field(description="timestamp with UTC offset")
    value: float = Field(allow_inf_nan=False, description="in the series' unit")


class ExogIssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str
    series: str = Field(
        min_length=1,
        max_length=64,
        description="code of the input (temperature_forecast, production_plan, shutdown, …); "
        "a series in a temperature unit feeds the models' temperature input",
    )
    unit: str = Field(description="°C, degF, t, 1 (a 0/1 calendar), kW, …")
    issued_at: datetime = Field(
        description="when these values were issued (timestamp with UTC offset); a forecast "
        "made at T uses, for every timestamp, the newest issue issued at or before T"
    )
    points: list[ExogPoint] = Field(min_length=1, max_length=exog.MAX_POINTS)


class ExogIssueOut(BaseModel):
    site: str
    series: str
    unit: str = Field(description="canonical unit the values are stored in")
    column: str = Field(description="the models' input column this series feeds")
    created: bool = Field(description="false: the same issue was stored before (no change)")
    issued_at: datetime
    points: int
    first: datetime
    last: datetime
    created_by: str


@router.post(
    "/exogenous",
    response_model=ExogIssueOut,
    status_code=201,
    responses={
        200: {"model": ExogIssueOut, "description": "the same issue is stored already"},
    },
)
def post_exogenous(
    body: ExogIssueIn, session: DbSession, who: Feeder, response: Response
) -> ExogIssueOut:
    """Store one issue of an exogenous series of a site (created by its first issue; values
    converted to the canonical unit). Issues are never changed: the same ``issued_at`` with
    the same values answers 200, with other values 409."""
    out = exog.post_issue(
        session,
        exog.IssueIn(
            site=body.site,
            series=body.series,
            unit=body.unit,
            issued_at=body.issued_at,
            points=[(p.ts, p.value) for p in body.points],
        ),
        who.name,
    )
    session.commit()
    if not out["created"]:
        response.status_code = 200
    return ExogIssueOut(**out)


@router.get("/exogenous")
def get_exogenous(
    site: str,
    session: DbSession,
    _: Reader,
    series: str | None = None,
    as_of: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict:
    """The site's exogenous series (or one ``series``) with their issues up to ``as_of``
    (default now) and, for every timestamp in ``start``…``end`` (default: all the issues
    cover, at most 400 days), the value of the newest issue issued at or before ``as_of``
    with that issue's ``issued_at``."""
    return exog.list_inputs(
        session, site=site, series_code=series, as_of=as_of, start=start, end=end
    )
