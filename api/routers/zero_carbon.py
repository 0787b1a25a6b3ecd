"""The zero-carbon scorecard and the factory thresholds it is judged against."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import DbSession, Reader
from api.routers.carbon_assets import AssetManager
from assets import disclosure, package, scorecard

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


_MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@router.get("/reports/zero-carbon", response_model=None)
def zero_carbon_report(
    request: Request,
    session: DbSession,
    _: Reader,
    site: str,
    year: Annotated[int, Query(ge=2000, le=2100)],
    format: Literal["json", "xlsx", "pdf"] = "json",
) -> dict | Response:
    """The annual disclosure: emissions by scope, measures, offsets by source, net emissions
    and the scorecard (PDF and XLSX headings in English and Chinese)."""
    d = disclosure.disclosure(session, site, year, request.app.openapi()["paths"].keys())
    if format == "json":
        return d
    content = disclosure.to_xlsx(d) if format == "xlsx" else disclosure.to_pdf(d)
    return Response(
        content,
        media_type=_MEDIA[format],
        headers={
            "Content-Disposition": f'attachment; filename="zero-carbon-{site}-{year}.{format}"'
        },
    )


@router.get("/reports/verification-package", response_class=Response)
def verification_package(
    request: Request,
    session: DbSession,
    _: Reader,
    site: str,
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> Response:
    """A zip a verifier recomputes offline: monthly readings aggregates per meter, factor rows
    with sources, every derivation with its hash, certificates and retirements, the factor
    change log, a sha256 manifest and `verify.py`."""
    blob = package.build(
        session, site, year, request.app.openapi()["paths"].keys(), datetime.now(UTC)
    )
    return Response(
        blob,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="verification-{site}-{year}.zip"'},
    )
