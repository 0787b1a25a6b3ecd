"""Request and response models of the HTTP API (the field names are a contract)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Rejection(BaseModel):
    index: int = Field(description="Position of the item in the request (0-based)")
    error: str = Field(description="The field and the reason")


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: list[Rejection]


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    parent: str | None = None
    timezone: str | None = Field(
        default=None,
        description="IANA zone of the site's days, months and years; unset: ECC_TIMEZONE",
    )
    region: str | None = Field(default=None, description="Power-grid region for carbon factors")
    contracted_demand_kw: float | None = Field(
        default=None,
        gt=0,
        le=1e15,
        description="Contracted maximum demand with the utility, kW (the wall and the "
        "default limit of the site's demand alarm rules); unset: none",
    )
    wall_tiles: list[str] | None = Field(
        default=None,
        max_length=12,
        description="KPI tiles of the site's wall, in order; unset: ECC_WALL_TILES",
    )


class SiteUpdate(BaseModel):
    """A site's own settings; a field left out stays as it is, ``null`` clears it."""

    model_config = ConfigDict(extra="forbid")
    contracted_demand_kw: float | None = Field(
        default=None, gt=0, le=1e15, description="Contracted maximum demand, kW; null: none"
    )
    wall_tiles: list[str] | None = Field(
        default=None, max_length=12, description="KPI tiles of the wall; null: ECC_WALL_TILES"
    )


class SiteOut(BaseModel):
    code: str
    name: str
    parent: str | None
    timezone: str
    region: str | None
    contracted_demand_kw: float | None = None
    wall_tiles: list[str] | None = None


class MeterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    site: str
    parent: str | None = Field(default=None, description="Parent meter (sub-metering)")
    carrier: str
    unit: str
    kind: str = Field(description="counter | delta | gauge")
    interval_s: int = Field(default=900, description="Expected reading interval, seconds")
    multiplier: float = Field(
        default=1.0, gt=0, le=1e9, description="CT/PT ratio applied to every value"
    )
    rollover: float | None = Field(default=None, description="Counter register maximum")
    max_value: float | None = Field(
        default=None, gt=0, le=1e15, description="Plausibility: largest |value|, canonical units"
    )
    max_interval_quantity: float | None = Field(
        default=None, gt=0, le=1e15, description="Plausibility: largest interval quantity"
    )
    max_counter_step: float | None = Field(
        default=None, gt=0, le=1e15, description="Plausibility: largest counter increase"
    )


class MeterOut(BaseModel):
    code: str
    name: str
    site: str
    parent: str | None
    carrier: str
    unit: str
    canonical_unit: str
    kind: str
    interval_s: int
    multiplier: float
    rollover: float | None
    max_value: float | None = None
    max_interval_quantity: float | None = None
    max_counter_step: float | None = None


class Point(BaseModel):
    ts: datetime
    value: float | None
    energy: float | None = None
    n: int | None = None
    min: float | None = None
    max: float | None = None
    avg: float | None = None
    last: float | None = None


class SeriesOut(BaseModel):
    meter: str
    unit: str
    kind: str
    resolution: str
    points: list[Point]


class CarrierTotal(BaseModel):
    carrier: str
    unit: str
    total: float


class MeterTotal(BaseModel):
    meter: str
    carrier: str
    unit: str
    total: float
    submeter: bool


class SiteTotalsOut(BaseModel):
    site: str
    start: datetime
    end: datetime
    carriers: list[CarrierTotal]
    meters: list[MeterTotal]


class Balance(BaseModel):
    grid: float = Field(description="Grid import, kWh")
    generation: float = Field(description="On-site generation (PV, wind), kWh")
    export: float = Field(description="Energy exported to the grid, kWh")
    consumption: float = Field(description="grid + generation − export, kWh")
    load_kw: float | None = Field(description="consumption ÷ interval length, kW")


class LoadPoint(Balance):
    ts: datetime = Field(description="Bucket start; the bucket covers (ts, ts + width]")
    complete: bool = Field(description="The bucket ends at or before the latest reading")


class LoadNow(Balance):
    ts: datetime = Field(description="The latest reading of the site's load meters")
    window_s: int = Field(description="load_kw is the mean over the window_s before ts")


class LoadMeters(BaseModel):
    grid: list[str]
    generation: list[str]
    export: list[str]


class SiteLoadOut(BaseModel):
    site: str
    start: datetime
    end: datetime
    resolution: str
    unit: str = Field(description="Unit of grid, generation, export and consumption")
    meters: LoadMeters = Field(description="The counted meters of the balance, by role")
    points: list[LoadPoint]
    totals: Balance = Field(description="Over exactly (start, end]; load_kw is the mean")
    now: LoadNow | None = Field(description="Load over the 5 minutes before the latest reading")


class PointHealthIn(BaseModel):
    meter: str = Field(min_length=1, max_length=64)
    last_good: datetime | None = None
    reads: int = Field(default=0, ge=0)
    errors: dict[str, int] = Field(default_factory=dict)


class DeviceHealthIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    protocol: str = Field(default="", max_length=32)
    online: bool
    poll_s: float = Field(gt=0)
    points: list[PointHealthIn]


class CollectorHealthIn(BaseModel):
    collector: str = Field(min_length=1, max_length=100)
    report_every_s: float = Field(default=30.0, gt=0)
    devices: list[DeviceHealthIn]
    buffer: dict[str, int] = Field(default_factory=dict)


class CollectorDeviceOut(BaseModel):
    collector: str
    device: str
    protocol: str
    online: bool
    stale: bool
    reported_at: datetime
    points: int
    last_good: datetime | None
    errors: dict[str, int]


class CollectionRateOut(BaseModel):
    site: str
    start: datetime
    end: datetime
    basis: str = Field(
        description="collector_points: the collector points of the site's meters; meters: "
        "the site has no collector, every meter installed there is expected to report"
    )
    points_configured: int
    points_reporting: int
    rate: float | None
    not_reporting: list[str]
