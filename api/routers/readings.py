"""POST /api/v1/readings: JSON rows, JSON columnar, NDJSON or CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from accounts import keys, scope
from api.deps import DbSession, Reader, ReadingWriter, State, require
from api.schemas import IngestResult
from api.state import AppState
from core.db import psycopg_connection
from core.errors import Invalid, TooLarge
from ingest.service import IngestContext, ingest_body
from ingest.void import list_voided, void_reading

router = APIRouter(tags=["readings"])

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "example": {
                    "readings": [
                        {
                            "meter": "M1",
                            "ts": "2026-11-21T08:00:00+08:00",
                            "value": 12.5,
                            "unit": "kWh",
                        }
                    ]
                }
            },
            "application/x-ndjson": {
                "example": '{"meter":"M1","ts":"2026-11-21T08:00:00+08:00","value":12.5}'
            },
            "text/csv": {"example": "meter,ts,value,unit\nM1,2026-11-21T08:00:00+08:00,12.5,kWh"},
        },
    }
}


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _within_scope(state: AppState, who: keys.Principal):  # noqa: ANN202
    """Meter lookup that does not know meters outside a scoped caller's site (they are
    rejected as unknown meters, item by item)."""
    if who.sites is None:
        return state.lookup_meters

    def lookup(codes: set[str]) -> dict:
        found = state.lookup_meters(codes)
        with state.sessions() as session:
            inside = scope.meters_within(session, list(found), who.sites)
        return {c: m for c, m in found.items() if c in inside}

    return lookup


@router.post(
    "/readings",
    response_model=IngestResult,
    openapi_extra=_BODY_DOC,
    summary="Store readings (answered after commit)",
)
async def post_readings(request: Request, who: ReadingWriter, state: State) -> dict:
    """Each item is accepted, counted as a duplicate of a stored identical reading, or rejected
    with the field and the reason. Nothing is overwritten."""
    body = await _read_body(request, state.settings.max_body_bytes)
    ctx = IngestContext(
        engine=state.engine,
        writer=state.writer,
        lookup_meters=_within_scope(state, who),
        write_slots=state.write_slots,
        write_wait_s=state.settings.write_wait_s,
        max_batch=state.settings.max_batch_readings,
        future_tolerance_s=state.settings.future_tolerance_s,
        bus=state.bus,
    )
    return await run_in_threadpool(
        ingest_body, ctx, request.headers.get("content-type"), body, who.name
    )


class VoidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meter: str = Field(min_length=1, max_length=64)
    ts: datetime = Field(description="Timestamp of the stored reading, with UTC offset")
    reason: str = Field(min_length=1, max_length=2000, description="Why it is voided")


class VoidOut(BaseModel):
    id: int
    meter: str
    ts: datetime
    value: float = Field(description="The voided value, canonical units")
    energy: float | None
    reason: str
    voided_by: str | None
    voided_at: datetime


Admin = Annotated[keys.Principal, Depends(require({keys.Role.ADMIN}))]


@router.post(
    "/readings/void",
    response_model=VoidOut,
    status_code=201,
    summary="Void a stored reading (admin; kept, never deleted)",
)
def post_void(body: VoidIn, who: Admin, state: State) -> VoidOut:
    """The reading leaves every rollup, total, carbon figure and report; it is kept in
    ``reading_void`` with who voided it, when and why."""
    meter = state.lookup_meters({body.meter}).get(body.meter)
    if meter is None:
        raise Invalid("meter", f"unknown meter {body.meter!r}")
    with psycopg_connection(state.engine) as conn:
        done = void_reading(conn, meter, body.ts, body.reason, who.name)
    return VoidOut(**done.__dict__)


@router.get("/readings/void", response_model=list[VoidOut], summary="Voided readings of a meter")
def get_voids(meter: str, session: DbSession, _: Reader) -> list[VoidOut]:
    return [VoidOut(**v.__dict__) for v in list_voided(session, meter)]
