"""Alarm rules: create, list, read, update (partial), delete; the rule-type catalog; trying a
rule on stored history. Engineers and admins configure; viewers read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from alarms import catalog, rules, trial
from alarms.config import AlarmConfig
from api.deps import Configurer, DbSession, Reader, State, visible
from api.routers.alarms import after_commit

router = APIRouter(tags=["alarms"])

_TYPE_DOC = (
    "threshold | rate | stale | demand | idle | forecast_deviation | budget | node_loss | "
    "ets_deadline (budget: high in % of the site's budget of quantity; node_loss: high in % "
    "loss rate of a balance node or the site's unmetered share; ets_deadline: high in t of "
    "ETS shortfall, armed days_before the surrender deadline)"
)


class _RuleFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meter: str | None = Field(default=None, description="Meter code (or site)")
    site: str | None = Field(
        default=None, description="Site code (demand and forecast_deviation rules)"
    )
    high: float | None = Field(
        default=None,
        description="High limit (demand: contracted kW; "
        "idle: baseline; forecast_deviation: "
        "margin above the forecast's upper "
        "bound, >= 0)",
    )
    low: float | None = Field(
        default=None,
        description="Low limit (forecast_deviation: margin below the forecast's lower bound, >= 0)",
    )
    high_high: float | None = None
    low_low: float | None = None
    deadband: float = Field(default=0.0, description="Hysteresis: back inside by this much")
    on_delay_s: float = Field(default=0.0, description="Condition must hold this long to alarm")
    off_delay_s: float = Field(default=0.0, description="…and to return to normal")
    unit: str | None = Field(
        default=None,
        description="Unit of the limits (default canonical; none for stale, forecast_deviation)",
    )
    priority: str = Field(default="medium", description="critical | high | medium | low")
    message: str = ""
    schedule: list[dict[str, Any]] | None = Field(
        default=None,
        description='Armed only in these weekly windows: [{"days": [0..6], '
        '"start": "HH:MM", "end": "HH:MM"}] (Monday = 0, site time)',
    )
    parent_rule: int | None = Field(
        default=None, description="Suppressed while this rule's alarm is active"
    )
    webhook_url: str | None = None
    enabled: bool = True
    resolution: str | None = Field(default=None, description="threshold: raw | 15m | 1h | 1d")
    window_s: float | None = Field(default=None, description="rate: window, seconds")
    intervals: float | None = Field(
        default=None,
        description="stale: expected intervals "
        "without a reading (default 3); "
        "forecast_deviation: K "
        "consecutive buckets outside the "
        "forecast interval (default 3, "
        "1-96)",
    )
    method: str | None = Field(default=None, description="demand: block | rolling")
    block_s: int | None = Field(default=None, description="demand: block length (900)")
    idle_periods: list[dict[str, Any]] | None = Field(default=None, description="idle: windows")
    holidays: list[str] | None = Field(default=None, description="idle: YYYY-MM-DD dates")
    target: str | None = Field(
        default=None,
        description="forecast_deviation: energy (per "
        "bucket, meter's unit) | load (kW); "
        "default energy, load for gauges",
    )
    carrier: str | None = Field(
        default=None,
        description="forecast_deviation of a site, node_loss: carrier (default electricity)",
    )
    period: str | None = Field(
        default=None,
        description="budget: month (default) | year, the current one (site local); "
        "node_loss: trailing 1h | 1d (default) | 7d",
    )
    quantity: str | None = Field(
        default=None, description="budget: electricity_kwh | energy_tce | co2_t | cost_cny"
    )
    basis: str | None = Field(
        default=None, description="budget: projected (default: actual + forecast) | actual"
    )
    node: str | None = Field(
        default=None,
        description="node_loss: meter code of the balance node (none: the site's unmetered share)",
    )
    year: int | None = Field(
        default=None, ge=1900, le=2200, description="ets_deadline: compliance year"
    )
    days_before: int | None = Field(
        default=None,
        ge=0,
        le=366,
        description="ets_deadline: days before the surrender deadline it arms (default 30)",
    )


class AlarmRuleIn(_RuleFields):
    name: str = Field(min_length=1, max_length=200)
    type: str = Field(description=_TYPE_DOC)


class AlarmRulePatch(_RuleFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    type: str | None = None
    deadband: float | None = None  # type: ignore[assignment]
    on_delay_s: float | None = None  # type: ignore[assignment]
    off_delay_s: float | None = None  # type: ignore[assignment]
    priority: str | None = None  # type: ignore[assignment]
    message: str | None = None  # type: ignore[assignment]
    enabled: bool | None = None  # type: ignore[assignment]


class AlarmRuleOut(AlarmRuleIn):
    model_config = ConfigDict(extra="allow")
    id: int
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


def _config(state: State) -> AlarmConfig:
    return AlarmConfig.from_settings(state.settings)


@router.post("/alarm-rules", response_model=AlarmRuleOut, status_code=201)
def create_rule(
    body: AlarmRuleIn, request: Request, session: DbSession, state: State, who: Configurer
) -> dict:
    rule, outbox = rules.create_rule(
        session, rules.RuleIn(**body.model_dump()), who.name, _config(state)
    )
    session.commit()
    after_commit(request, outbox)
    return rules.to_dict(session, rule)


@router.get("/alarm-rules", response_model=list[AlarmRuleOut])
def list_rules(
    session: DbSession, who: Reader, meter: str | None = None, site: str | None = None
) -> list[dict]:
    found = [rules.to_dict(session, r) for r in rules.list_rules(session, meter, site)]
    return visible(who, session, found)


class FieldSpecOut(BaseModel):
    name: str
    kind: catalog.Kind = Field(
        description="What the value is: " + "; ".join(f"{k}: {v}" for k, v in catalog.KINDS.items())
    )
    label: dict[str, str] = Field(description="{en, zh}")
    help: dict[str, str] = Field(description="{en, zh}")
    unit: str | None = Field(
        description="A unit (s, kW, %), or a rule: meter (the meter's unit, or the rule's "
        "unit field), target (forecast target's unit); null: none"
    )
    required: bool
    default: Any = None
    choices: list[str]
    choice_labels: dict[str, dict[str, str]]


class TypeSpecOut(BaseModel):
    type: str
    label: dict[str, str]
    help: dict[str, str]
    target: str = Field(description="meter | site | meter_or_site")
    stream: bool = Field(description="Evaluated on each reading (can be tried on history)")
    needs_limit: list[str] = Field(description="At least one of these limits")
    fields: list[FieldSpecOut] = Field(description="Exactly the fields this type takes")


class CatalogOut(BaseModel):
    types: list[TypeSpecOut]
    common: list[FieldSpecOut] = Field(description="Fields every rule takes")


class Raised(BaseModel):
    at: datetime
    condition: str
    value: float | None


class TryWindow(BaseModel):
    start: datetime
    end: datetime
    days: float
    readings: int


class TryOut(BaseModel):
    alarms: int = Field(description="How many alarms the rule would have raised")
    raised_at: list[datetime] = Field(description="When (the first 200)")
    raised: list[Raised]
    window: TryWindow


@router.get("/alarm-rules/types", response_model=CatalogOut)
def rule_types(_: Reader) -> dict:
    """The rule-type catalog: each type's fields with units and help (English, 中文)."""
    return catalog.as_json()


@router.post("/alarm-rules/try", response_model=TryOut)
def try_rule(
    body: AlarmRuleIn,
    session: DbSession,
    _: Configurer,
    days: Annotated[float, Query(gt=0, le=trial.MAX_DAYS)] = 7.0,
    end: datetime | None = None,
) -> dict:
    """Evaluate the rule (not saved) over the stored readings of the last ``days`` before
    ``end`` (default now) with the engine's own condition and debounce code. Stream types
    (threshold, rate, idle) only; others answer 422 naming the type."""
    return trial.try_rule(
        session, rules.RuleIn(**body.model_dump()), end or datetime.now(UTC), days
    )


@router.get("/alarm-rules/{rule_id}", response_model=AlarmRuleOut)
def get_rule(rule_id: int, session: DbSession, _: Reader) -> dict:
    return rules.to_dict(session, rules.get_rule(session, rule_id))


@router.patch("/alarm-rules/{rule_id}", response_model=AlarmRuleOut)
def update_rule(
    rule_id: int,
    body: AlarmRulePatch,
    request: Request,
    session: DbSession,
    state: State,
    who: Configurer,
) -> dict:
    """Change some fields; the whole rule is validated again. ``null`` removes a limit."""
    rule, outbox = rules.update_rule(
        session, rule_id, body.model_dump(exclude_unset=True), who.name, _config(state)
    )
    session.commit()
    after_commit(request, outbox)
    return rules.to_dict(session, rule)


@router.delete("/alarm-rules/{rule_id}", status_code=204)
def delete_rule(
    rule_id: int, request: Request, session: DbSession, state: State, who: Configurer
) -> Response:
    """Retire the rule; its alarms return to normal and their history is kept."""
    outbox = rules.delete_rule(session, rule_id, who.name, _config(state))
    session.commit()
    after_commit(request, outbox)
    return Response(status_code=204)
