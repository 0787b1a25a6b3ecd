"""The annual GHG inventory (GB/T 32150 structure) as JSON, XLSX or PDF."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import DbSession, Reader
from carbon import factors, report
from core.errors import Invalid

router = APIRouter(tags=["carbon"])
_MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@router.get("/reports/ghg-inventory", response_model=None)
def ghg_inventory(
    site: str,
    year: int,
    session: DbSession,
    _: Reader,
    format: str = "json",
    version: int | None = None,
    gwp: str = factors.DEFAULT_GWP_SET,
    tce_convention: str = "equivalent",
) -> dict | Response:
    """``format`` = json | xlsx | pdf; the figures are those of ``/carbon/emissions`` for the
    year."""
    if format not in ("json", *_MEDIA):
        raise Invalid("format", "one of json, xlsx, pdf")
    inv = report.inventory(
        session, site, year, version=version, gwp_set=gwp, tce_convention=tce_convention
    )
    if format == "json":
        return inv
    content = report.to_xlsx(inv) if format == "xlsx" else report.to_pdf(inv)
    name = f"ghg-inventory-{site}-{year}.{format}"
    return Response(
        content,
        media_type=_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
