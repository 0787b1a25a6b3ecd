"""Product footprints: per product and period, PACT export, versions, supply-chain totals,
the GB/T 24067 report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import DbSession, Reader
from footprints import pact, report, service

router = APIRouter(tags=["footprints"])
Start = Annotated[datetime, Query(description="period start (with UTC offset)")]
End = Annotated[datetime, Query(description="period end (with UTC offset)")]


@router.get("/footprints")
def footprint(product: str, start: Start, end: End, session: DbSession, _: Reader) -> dict:
    out = service.footprint(session, product, start, end)
    session.commit()  # the derivation and a new version, when inputs changed
    return out


@router.get("/footprints/pact")
def footprint_pact(product: str, start: Start, end: End, session: DbSession, _: Reader) -> dict:
    doc = pact.export(session, product, start, end)
    session.commit()
    return doc


@router.get("/footprints/versions")
def footprint_versions(
    product: str, start: Start, end: End, session: DbSession, _: Reader
) -> list[dict]:
    return service.versions(session, product, start, end)


@router.get("/footprints/supply-chain")
def supply_chain(
    start: Start, end: End, session: DbSession, _: Reader, site: str | None = None
) -> dict:
    out = service.supply_chain(session, start, end, site)
    session.commit()
    return out


@router.get("/footprints/report")
def footprint_report(
    product: str,
    start: Start,
    end: End,
    session: DbSession,
    _: Reader,
    format: Literal["xlsx", "pdf", "json"] = "xlsx",  # noqa: A002
    lang: Literal["en", "zh"] = "en",
) -> Response:
    fp = service.footprint(session, product, start, end)
    session.commit()
    content, media, name = report.render(fp, format, lang)
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
