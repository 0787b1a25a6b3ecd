"""Meters: create, list, and read a meter's series at any resolution."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from api.deps import Configurer, DbSession, Reader, State
from api.schemas import MeterCreate, MeterOut, SeriesOut
from carbon import factors
from metering import registry, series

router = APIRouter(tags=["meters"])


def _out(m, meters: dict[int, str], sites: dict[int, str]) -> MeterOut:  # noqa: ANN001
    return MeterOut(
        code=m.code,
        name=m.name,
        site=sites[m.site_id],
        parent=meters.get(m.parent_id),
        carrier=m.carrier,
        unit=m.unit,
        canonical_unit=m.canonical_unit,
        kind=m.kind,
        interval_s=m.interval_s,
        multiplier=m.multiplier,
        rollover=m.rollover,
        max_value=m.max_value,
        max_interval_quantity=m.max_interval_quantity,
        max_counter_step=m.max_counter_step,
    )


@router.post("/meters", response_model=MeterOut, status_code=201)
def create_meter(body: MeterCreate, session: DbSession, state: State, _: Configurer) -> MeterOut:
    meter = registry.create_meter(session, registry.MeterIn(**body.model_dump()))
    session.flush()
    factors.materialise(session, [meter.id])  # its factor assignments, so reads store nothing
    session.commit()
    state.forget_meter(meter.code)
    return _out(meter, registry.meter_parent_codes(session), registry.site_codes(session))


@router.get("/meters", response_model=list[MeterOut])
def list_meters(session: DbSession, who: Reader, site: str | None = None) -> list[MeterOut]:
    meters, sites = registry.meter_parent_codes(session), registry.site_codes(session)
    found = [m for m in registry.list_meters(session, site) if who.sees(m.site_id)]
    return [_out(m, meters, sites) for m in found]


@router.get("/meters/{code}", response_model=MeterOut)
def get_meter(code: str, session: DbSession, _: Reader) -> MeterOut:
    meter = registry.get_meter(session, code)
    return _out(meter, registry.meter_parent_codes(session), registry.site_codes(session))


@router.get("/meters/{code}/series", response_model=SeriesOut)
def meter_series(
    code: str,
    start: datetime,
    end: datetime,
    session: DbSession,
    _: Reader,
    resolution: str = "raw",
) -> dict:
    """Canonical-unit points; rollup buckets are labelled by their start and cover
    (start, start + width]."""
    return series.meter_series(session, code, start, end, resolution)
