"""Recommendations: run the analysers, list, change status, verify savings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Configurer, DbSession, Reader
from api.routers.activity import DataEntry
from api.routers.benchmarking import XLSX
from benchmarking import export
from recommendations import service

router = APIRouter(tags=["recommendations"])
COLUMNS = [
    "id",
    "kind",
    "title",
    "title_zh",
    "savings_kwh_per_year",
    "savings_cny_per_year",
    "savings_tco2_per_year",
    "confidence",
    "status",
    "reason",
]


class AnalyseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str
    start: datetime
    end: datetime


@router.post("/recommendations/analyse")
def analyse(body: AnalyseBody, session: DbSession, _: Configurer) -> list[dict]:
    """Run every analyser over [start, end): new proposals are stored open; an open one is
    refreshed; accepted, done or dismissed ones keep their figures."""
    rows = service.analyse(session, body.site, body.start, body.end)
    session.commit()
    return [service.to_dict(r) for r in rows]


@router.get("/recommendations", response_model=None)
def list_recommendations(
    session: DbSession,
    _: Reader,
    site: str,
    status: str | None = None,
    format: Literal["json", "xlsx"] = "json",
) -> list[dict] | Response:
    """`[{"id", "kind", "title", "evidence", "savings_kwh_per_year", "savings_cny_per_year",
    "savings_tco2_per_year", "confidence", "status"}]`, largest CNY first."""
    rows = [service.to_dict(r) for r in service.list_recommendations(session, site, status)]
    if format == "json":
        return rows
    return Response(
        export.to_xlsx({"recommendations": (COLUMNS, rows)}),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="recommendations-{site}.xlsx"'},
    )


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["open", "accepted", "done", "dismissed"]
    reason: str | None = Field(default=None, description="required when dismissed")
    done_at: datetime | None = Field(default=None, description="when the action took effect")


@router.patch("/recommendations/{rec_id}")
def patch_recommendation(rec_id: int, body: StatusBody, session: DbSession, who: DataEntry) -> dict:
    """Engineers and managers work the list: open → accepted → done (or dismissed with a
    reason); every change is kept in the row's history."""
    r = service.set_status(session, rec_id, body.status, who.name, body.reason, body.done_at)
    session.commit()
    return service.to_dict(r)


@router.get("/recommendations/{rec_id}/verification")
def verification(rec_id: int, session: DbSession, _: Reader) -> dict:
    """Avoided energy since the action was done, with its 95 % uncertainty (IPMVP B/C)."""
    return service.verify(session, rec_id)
