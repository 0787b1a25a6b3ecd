"""The zero-carbon scorecard and the factory thresholds it is judged against."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import DbSession, Reader
from api.routers.carbon_assets import AssetManager
from assets import scorecard

router = APIRouter(tags=["zero carbon"])


@router.get("/zero-carbon/scorecard")
def get_scorecard(
    request: Request,
    session: DbSession,
    _: Reader,
    site: str,
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> dict:
    """`{"version", "indicators": [{"code", "name", "value", "unit", "threshold", "status",
    "evidence", "trend"}]}`; status is met, not met, not measured or no threshold."""
    served = request.app.openapi()["paths"].keys()  # built once per process, then cached
    return scorecard.scorecard(session, site, year, served)


class ThresholdBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str
    indicator: str
    comparison: Literal["<=", ">="]
    threshold: Decimal = Field(ge=Decimal("-1e12"), le=Decimal("1e12"))
    source: str = Field(min_length=1, description="the evaluation standard or target it comes from")


@router.put("/zero-carbon/thresholds", status_code=201)
def set_threshold(body: ThresholdBody, session: DbSession, who: AssetManager) -> dict:
    """A factory threshold for one indicator; the newest per site and indicator is in force
    (earlier ones are kept)."""
    row = scorecard.set_threshold(session, scorecard.ThresholdIn(**body.model_dump()), who.name)
    session.commit()
    return {**body.model_dump(), "id": row.id}


@router.get("/zero-carbon/indicators")
def indicators(_: Reader) -> dict:
    """The shipped indicator set with formulas, park thresholds, sources and verification."""
    return scorecard.library()
