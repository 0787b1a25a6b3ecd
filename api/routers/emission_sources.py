"""Boundary: a meter's emission source and scope, and the meters that count for a site."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Configurer, DbSession, Reader
from carbon import boundary, factors

router = APIRouter(tags=["carbon"])


class EmissionSourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(description=", ".join(boundary.SOURCES))
    scope: int | None = Field(default=None, description="checked against the source")
    fuel: str | None = Field(
        default=None,
        description="factor carrier when the meter's carrier "
        "is generic, e.g. bituminous_coal, CaCO3",
    )


class EmissionSourceOut(BaseModel):
    meter: str
    scope: int | None
    source: str
    fuel: str | None
    default: bool


def _out(meter, m: boundary.Mapping) -> EmissionSourceOut:  # noqa: ANN001
    return EmissionSourceOut(
        meter=meter.code, scope=m.scope, source=m.source, fuel=m.fuel, default=m.default
    )


@router.put("/meters/{code}/emission-source", response_model=EmissionSourceOut)
def set_emission_source(
    code: str, body: EmissionSourceIn, session: DbSession, who: Configurer
) -> EmissionSourceOut:
    meter, mapping = boundary.set_mapping(
        session, code, body.source, body.fuel, who.name, body.scope
    )
    factors.materialise(session, [meter.id])  # what reading its figures needs, stored now
    session.commit()
    return _out(meter, mapping)


@router.get("/meters/{code}/emission-source", response_model=EmissionSourceOut)
def get_emission_source(code: str, session: DbSession, _: Reader) -> EmissionSourceOut:
    return _out(*boundary.meter_mapping(session, code))


@router.get("/sites/{code}/boundary")
def site_boundary(code: str, session: DbSession, _: Reader) -> dict:
    """Meters that count for the site (with their source and scope) and sub-meters listed
    for drill-down, not counted again."""
    b = boundary.site_boundary(session, code)

    def row(m: boundary.BoundaryMeter) -> dict:
        return {
            "meter": m.code,
            "carrier": m.carrier,
            "unit": m.unit,
            "scope": m.mapping.scope,
            "source": m.mapping.source,
            "fuel": m.mapping.fuel,
            "default": m.mapping.default,
        }

    return {
        "site": code,
        "counted": [row(m) for m in b.counted],
        "submeters": [row(m) for m in b.submeters],
    }
