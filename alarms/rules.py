"""Alarm rules: validation (every mistake names its field), create, update, delete, list.

The contract fields (``name``, ``meter``/``site``, ``type``, ``high``, ``low``, ``high_high``,
``low_low``, ``deadband``, ``on_delay_s``, ``off_delay_s``, ``priority``, ``message``) are
columns; type-specific settings go to ``params``:

=========== ===============================================================================
type        evaluated quantity and settings
=========== ===============================================================================
threshold   the meter's value (gauge), its quantity per interval (delta, counter), or with
            ``resolution`` 15m/1h/1d the running bucket total (average for gauges)
rate        change of that quantity over ``window_s``
idle        that quantity (or power: ``unit`` kW on an energy meter) above the baseline
            ``high`` inside ``idle_periods`` (weekly windows) and on ``holidays``
stale       no reading for ``intervals`` × the meter's expected interval (scheduler)
demand      15-minute (``block_s``) demand in kW, ``method`` block (projected to the end of
            the block) or rolling, against the contracted maximum ``high``; without
            ``high``, the site's own ``contracted_demand_kw`` (the rule's site, or its
            meter's), read at each evaluation (scheduler)
forecast_   a meter's or a site's (``carrier``, default electricity) ``target`` (energy per
deviation   bucket, or load in kW; default energy, load for kW gauges) outside the stored
            forecast's 90 % interval for ``intervals`` (K, default 3) consecutive complete
            buckets: ``high`` (``low``) is how far above the upper (below the lower) bound it
            may be, in the target's unit (no ``unit``); evaluated on the scheduler
budget      a site's budget of ``quantity`` (electricity_kwh, energy_tce, co2_t, cost_cny) for
            the current ``period`` (month or year, site local): ``basis`` projected (actual +
            forecast of the rest, default) or actual, in % of the budget against ``high`` (and
            ``high_high``); evaluated on the scheduler every 15 minutes (``budgets.service``)
node_loss   a site's energy balance (``benchmarking.energy_balance.site_balance``) of
            ``carrier`` (default electricity) over the trailing ``period`` (1h, 1d default,
            7d; ending at the last complete quarter hour): with ``node`` (a meter of the
            balance tree) its loss rate = (value − Σ children) ÷ value, without it the site's
            unmetered share = unmetered remainder ÷ consumption; in % against ``high`` (and
            ``high_high``); evaluated on the scheduler every 15 minutes
ets_        a site's ETS shortfall (``assets.offsets.ets_position``: verified emissions −
deadline    allowances surrendered − CCER used) of compliance ``year``, in t, against ``high``
            (0: any shortfall) from ``days_before`` (default 30) days before the surrender
            deadline (site local date) on, and after it while the shortfall lasts; outside
            that window the value is 0; no verification recorded: not evaluated; scheduler,
            every 15 minutes
=========== ===============================================================================

Field specs of the two newest types, for the rule editor's catalogue (``alarms/catalog.py``):
``field`` (unit; required or default): help EN / 中文.

node_loss
  - ``site`` (—; required): site whose energy balance is watched / 监视其能量平衡的站点
  - ``carrier`` (—; default electricity): energy carrier of the balance / 能量平衡的能源品种
  - ``node`` (—; default none = the site's unmetered share): balance node, a meter with
    sub-meters / 平衡节点（带子表的计量表）；留空则监视站点未计量占比
  - ``period`` (—; default 1d): trailing window 1h, 1d or 7d / 统计时段：最近 1 小时、1 天或 7 天
  - ``high`` (%; required): loss rate (unmetered share) above which it alarms /
    损耗率（未计量占比）超过此值时报警
  - ``high_high`` (%; optional): a second, higher limit / 更高一级的限值
ets_deadline
  - ``site`` (—; required): covered site, its verified emissions /
    纳入全国碳市场的站点（其核查排放量）
  - ``year`` (—; required): compliance year / 履约年度
  - ``days_before`` (d; default 30): days before the surrender deadline it arms /
    清缴截止日前多少天开始监视
  - ``high`` (t; required, 0 = any shortfall): shortfall above which it alarms /
    配额缺口超过此值时报警（0：任何缺口）

Every rule may carry a shift ``schedule`` (weekly windows: armed only inside them) and a
``parent_rule`` (suppressed by design while that rule has an active alarm). Limits are in
``unit`` (default: the quantity's canonical unit) and stored as given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from alarms import catalog, store
from alarms.config import AlarmConfig
from alarms.lifecycle import Action
from alarms.schedule import parse_holidays, parse_windows
from assets.offsets import check_year
from benchmarking.energy_balance import BALANCED_CARRIERS
from core import units
from core.errors import Conflict, Invalid, NotFound
from metering import registry
from models import Meter, Site
from models.alarms import AlarmRule, AlarmRuleLog, Priority, RuleType

LIMITS = ("high", "high_high", "low", "low_low")
STREAM_TYPES = catalog.stream_types()
TIMED_TYPES = tuple(t for t in RuleType if t not in STREAM_TYPES)
NOT_AVAILABLE: dict[RuleType, str] = {}
BUDGET_QUANTITIES = catalog.choices(RuleType.BUDGET, "quantity")
RESOLUTIONS = catalog.choices(RuleType.THRESHOLD, "resolution")
SITE_TYPES = catalog.site_types()
# type-specific fields and the types that use them: from the one catalog
PARAMS: dict[str, tuple[RuleType, ...]] = catalog.params_by_field()
# types that watch a site, never a meter, and whose limits are in a fixed unit
SITE_ONLY = {RuleType.BUDGET: "%", RuleType.NODE_LOSS: "%", RuleType.ETS_DEADLINE: "t"}
NODE_LOSS_PERIODS = {"1h": 3600, "1d": 86400, "7d": 7 * 86400}
IMMUTABLE = ("type", "meter", "site")
NOT_NULL = (
    "name",
    "type",
    "deadband",
    "on_delay_s",
    "off_delay_s",
    "priority",
    "message",
    "enabled",
)


@dataclass
class RuleIn:
    """A rule as the API receives it (all contract and type-specific fields)."""

    name: str
    type: str
    meter: str | None = None
    site: str | None = None
    high: float | None = None
    low: float | None = None
    high_high: float | None = None
    low_low: float | None = None
    deadband: float = 0.0
    on_delay_s: float = 0.0
    off_delay_s: float = 0.0
    unit: str | None = None
    priority: str = Priority.MEDIUM.value
    message: str = ""
    schedule: list | None = None
    parent_rule: int | None = None
    webhook_url: str | None = None
    enabled: bool = True
    resolution: str | None = None
    window_s: float | None = None
    intervals: float | None = None
    method: str | None = None
    block_s: int | None = None
    idle_periods: list | None = None
    holidays: list | None = None
    target: str | None = None
    carrier: str | None = None
    period: str | None = None
    quantity: str | None = None
    basis: str | None = None
    node: str | None = None
    year: int | None = None
    days_before: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _finite(name: str, value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise Invalid(name, "must be a finite number")


def quantity_unit(rtype: RuleType, meter: Meter | None) -> str:
    """Canonical unit of what the rule compares with its limits."""
    if rtype is RuleType.DEMAND:
        return "kW"
    assert meter is not None
    return meter.canonical_unit


def _check_unit(data: RuleIn, rtype: RuleType, meter: Meter | None) -> None:
    if rtype is RuleType.STALE:
        if data.unit is not None:
            raise Invalid("unit", "a stale rule has no limits and no unit")
        return
    if rtype in SITE_ONLY:
        fixed = SITE_ONLY[rtype]
        if data.unit not in (None, fixed):
            raise Invalid("unit", f"a {rtype.value} rule's limits are in {fixed}; leave unit out")
        return
    if rtype is RuleType.FORECAST_DEVIATION:
        if data.unit is not None:
            raise Invalid(
                "unit",
                "a forecast_deviation rule's margins are in its target's "
                "unit (energy per bucket in the meter's unit, load in kW); leave "
                "unit out",
            )
        return
    target = quantity_unit(rtype, meter)
    if data.unit is None:
        return
    given = units.lookup(data.unit, "unit")
    want = units.lookup(target, "unit")
    if given.dimension == want.dimension:
        return
    if (
        rtype is RuleType.IDLE
        and meter is not None
        and want.dimension == "energy"
        and given.dimension == "power"
    ):
        return  # energy per interval compared as average power
    where = f"meter {meter.code!r}" if meter is not None else "this rule"
    raise Invalid(
        "unit",
        f"{data.unit!r} ({given.dimension}) does not fit {where}: its "
        f"quantity is in {target} ({want.dimension})",
    )


def _check_limits(data: RuleIn, rtype: RuleType) -> None:
    for name in (*LIMITS, "deadband", "on_delay_s", "off_delay_s", "window_s", "intervals"):
        _finite(name, getattr(data, name))
    for name in ("deadband", "on_delay_s", "off_delay_s"):
        if getattr(data, name) < 0:
            raise Invalid(name, "must not be negative")
    given = [n for n in LIMITS if getattr(data, n) is not None]
    if rtype is RuleType.STALE:
        if given:
            raise Invalid(given[0], "a stale rule has no limits; set intervals")
        if data.deadband:
            raise Invalid("deadband", "a stale rule has no limits and no deadband")
        return
    allowed = catalog.limits_of(rtype)
    for n in given:
        if n not in allowed:
            raise Invalid(n, f"not used by a {rtype.value} rule (it takes {', '.join(allowed)})")
    if rtype is RuleType.FORECAST_DEVIATION:
        for n in ("high_high", "low_low"):
            if getattr(data, n) is not None:
                raise Invalid(n, "a forecast_deviation rule has the margins high and low only")
        if data.high is None and data.low is None:
            raise Invalid(
                "high",
                "give at least one of high (margin above the forecast's "
                "upper bound) and low (margin below its lower bound)",
            )
        for n in ("high", "low"):
            value = getattr(data, n)
            if value is not None and value < 0:
                raise Invalid(n, "a margin beyond the forecast interval must not be negative")
        return  # margins on two different sides: no ordering between high and low
    if rtype is RuleType.BUDGET:
        for n in ("low", "low_low"):
            if getattr(data, n) is not None:
                raise Invalid(n, "a budget rule has high limits only (% of the budget)")
        if data.high is None:
            raise Invalid("high", "a budget rule needs high: the % of the budget that alarms")
        if data.high <= 0:
            raise Invalid("high", "must be a percentage above 0")
    if rtype in (RuleType.NODE_LOSS, RuleType.ETS_DEADLINE):
        for n in ("low", "low_low"):
            if getattr(data, n) is not None:
                raise Invalid(n, f"a {rtype.value} rule has high limits only")
        if data.high is None:
            what = "loss rate in %" if rtype is RuleType.NODE_LOSS else "shortfall in t (0: any)"
            raise Invalid("high", f"a {rtype.value} rule needs high: the {what} that alarms")
        if rtype is RuleType.NODE_LOSS and not 0 < data.high <= 100:
            raise Invalid("high", "a loss rate in %, above 0 and at most 100")
        if rtype is RuleType.ETS_DEADLINE and data.high < 0:
            raise Invalid("high", "a shortfall in t, 0 or more")
    if rtype in (RuleType.IDLE, RuleType.DEMAND):
        if data.high is None and rtype is RuleType.IDLE:
            raise Invalid("high", "an idle rule needs high (the baseline)")
        for n in ("low", "low_low"):
            if getattr(data, n) is not None:
                raise Invalid(n, f"a {rtype.value} rule has no low limits")
        if rtype is RuleType.DEMAND and data.high is None:
            return  # the site's contracted demand is the limit (checked in _site_contract)
    if not given:
        raise Invalid("high", "give at least one of high, low, high_high, low_low")
    hi, lo, hh, ll = data.high, data.low, data.high_high, data.low_low
    if lo is not None and hi is not None and lo >= hi:
        raise Invalid("low", f"low ({lo}) must be below high ({hi})")
    if hh is not None and hi is not None and hh < hi:
        raise Invalid("high_high", f"high_high ({hh}) must not be below high ({hi})")
    if ll is not None and lo is not None and ll > lo:
        raise Invalid("low_low", f"low_low ({ll}) must not be above low ({lo})")
    top = next((v for v in (hi, hh) if v is not None), None)
    bottom = next((v for v in (lo, ll) if v is not None), None)
    if top is not None and bottom is not None:
        if bottom >= top:
            raise Invalid("low" if lo is not None else "low_low", "must be below the high limits")
        if data.deadband >= top - bottom:
            raise Invalid(
                "deadband",
                f"must be smaller than the gap between the low and high limits ({top - bottom})",
            )


def _forecast_params(
    session: Session, data: RuleIn, meter: Meter | None, site: Site | None
) -> dict:
    """``intervals`` (K), ``target`` and, for a site, ``carrier`` of a forecast_deviation rule,
    checked against what the forecasting package forecasts for the meter or site."""
    from forecasting.subjects import site_subjects  # pandas: only when such a rule is saved

    k = 3.0 if data.intervals is None else data.intervals
    if k != int(k) or not 1 <= k <= 96:
        raise Invalid("intervals", "a whole number of consecutive intervals, 1 to 96")
    p: dict[str, Any] = {"intervals": int(k)}
    unit: str | None  # of the forecast subject's energy, when known
    if meter is not None:
        if data.carrier is not None:
            raise Invalid(
                "carrier",
                f"only for a site rule: a meter rule follows its meter's carrier ({meter.carrier})",
            )
        if meter.kind == "gauge" and meter.canonical_unit != "kW":
            raise Invalid(
                "meter",
                f"{meter.code} is a {meter.canonical_unit} gauge; only "
                "energy meters and kW gauges are forecast",
            )
        default = "load" if meter.kind == "gauge" else "energy"
        unit = None if meter.kind == "gauge" else meter.canonical_unit
    else:
        assert site is not None
        carrier = data.carrier or units.Carrier.ELECTRICITY.value
        try:
            units.Carrier(carrier)
        except ValueError:
            raise Invalid(
                "carrier",
                f"unknown carrier {carrier!r}; known: {', '.join(c.value for c in units.Carrier)}",
            ) from None
        found = [s for s in site_subjects(session, site) if s.carrier == carrier]
        unit = found[0].unit if found else None  # a carrier not metered yet: checked later
        p["carrier"] = carrier
        default = "energy"
    target = data.target or default
    if target not in ("energy", "load"):
        raise Invalid("target", f"must be energy or load, not {target!r}")
    if target == "energy" and meter is not None and meter.kind == "gauge":
        raise Invalid(
            "target", f"{meter.code} is a kW gauge: its forecast is load, not energy per interval"
        )
    if target == "load" and unit is not None and units.lookup(unit).dimension != "energy":
        raise Invalid("target", f"load needs an energy carrier; this one is metered in {unit}")
    p["target"] = target
    return p


def _params(
    session: Session, data: RuleIn, rtype: RuleType, meter: Meter | None, site: Site | None
) -> dict:
    for name, types in PARAMS.items():
        if getattr(data, name) is not None and rtype not in types:
            raise Invalid(name, f"not used by a {rtype.value} rule")
    p: dict[str, Any] = {}
    if rtype is RuleType.THRESHOLD:
        res = data.resolution or "raw"
        if res not in RESOLUTIONS:
            raise Invalid("resolution", f"must be one of {', '.join(RESOLUTIONS)}")
        p["resolution"] = res
    elif rtype is RuleType.RATE:
        if data.window_s is None or data.window_s <= 0:
            raise Invalid("window_s", "a rate rule needs a positive window_s")
        p["window_s"] = data.window_s
    elif rtype is RuleType.STALE:
        n = 3.0 if data.intervals is None else data.intervals
        if n <= 0:
            raise Invalid("intervals", "must be positive")
        p["intervals"] = n
    elif rtype is RuleType.DEMAND:
        method = data.method or "block"
        if method not in ("block", "rolling"):
            raise Invalid("method", "must be block or rolling")
        block = 900 if data.block_s is None else data.block_s
        if not 60 <= block <= 3600 or 3600 % block:
            raise Invalid("block_s", "must divide an hour, 60 to 3600 seconds")
        p.update(method=method, block_s=block)
    elif rtype is RuleType.IDLE:
        parse_windows(data.idle_periods, "idle_periods")
        p["idle_periods"] = data.idle_periods
        parse_holidays(data.holidays)
        p["holidays"] = data.holidays or []
    elif rtype is RuleType.FORECAST_DEVIATION:
        p.update(_forecast_params(session, data, meter, site))
    elif rtype is RuleType.BUDGET:
        p.update(_budget_params(session, data, site))
    elif rtype is RuleType.NODE_LOSS:
        p.update(_node_loss_params(session, data, site))
    elif rtype is RuleType.ETS_DEADLINE:
        p.update(_ets_params(data))
    return p


def _node_loss_params(session: Session, data: RuleIn, site: Site | None) -> dict:
    """``carrier``, ``period`` and the optional ``node`` of a node_loss rule: the node is a
    meter of that carrier in the site's subtree (its balance tree)."""
    assert site is not None
    carrier = data.carrier or units.Carrier.ELECTRICITY.value
    if carrier not in BALANCED_CARRIERS:
        raise Invalid(
            "carrier", f"an energy carrier consumed on site: {', '.join(sorted(BALANCED_CARRIERS))}"
        )
    period = data.period or "1d"
    if period not in NODE_LOSS_PERIODS:
        raise Invalid("period", f"a trailing window: {', '.join(NODE_LOSS_PERIODS)}")
    p: dict[str, Any] = {"carrier": carrier, "period": period}
    if data.node is not None:
        meter = session.scalar(select(Meter).where(Meter.code == data.node))
        if meter is None:
            raise Invalid("node", f"unknown meter {data.node!r}")
        if meter.carrier != carrier:
            raise Invalid("node", f"{meter.code} meters {meter.carrier}, not {carrier}")
        inside = set(registry.subtree_ids(session, site.id))
        if meter.site_id not in inside:
            raise Invalid("node", f"{meter.code} is not installed in {site.code} or below it")
        p["node"] = meter.code
    return p


def _ets_params(data: RuleIn) -> dict:
    if data.year is None:
        raise Invalid("year", "an ets_deadline rule needs the compliance year")
    check_year(data.year)
    days = 30 if data.days_before is None else data.days_before
    if not 0 <= days <= 366:
        raise Invalid("days_before", "a whole number of days, 0 to 366")
    return {"year": data.year, "days_before": days}


def _budget_params(session: Session, data: RuleIn, site: Site | None) -> dict:
    period = data.period or "month"
    if period not in ("month", "year"):
        raise Invalid("period", "must be month or year (the current one, site local)")
    basis = data.basis or "projected"
    if basis not in ("projected", "actual"):
        raise Invalid("basis", "must be projected or actual")
    if data.quantity not in BUDGET_QUANTITIES:
        raise Invalid("quantity", f"must be one of {', '.join(BUDGET_QUANTITIES)}")
    assert site is not None
    found = session.execute(
        text("SELECT 1 FROM budget WHERE site_id = :s AND quantity = :q AND meter_id IS NULL"),
        {"s": site.id, "q": data.quantity},
    ).first()
    if found is None:
        raise Invalid(
            "quantity", f"site {site.code!r} has no {data.quantity} budget (POST /api/v1/budgets)"
        )
    return {"period": period, "quantity": data.quantity, "basis": basis}


def _rule_type(raw: str) -> RuleType:
    try:
        rtype = RuleType(raw)
    except ValueError:
        raise Invalid(
            "type", f"must be one of {', '.join(t.value for t in RuleType)}; got {raw!r}"
        ) from None
    if rtype in NOT_AVAILABLE:
        raise Invalid(
            "type", f"{rtype.value} rules are not available yet: they need {NOT_AVAILABLE[rtype]}"
        )
    return rtype


def _target(session: Session, data: RuleIn, rtype: RuleType) -> tuple[Meter | None, Site | None]:
    if (data.meter is None) == (data.site is None):
        raise Invalid("meter", "give exactly one of meter or site")
    if rtype in SITE_ONLY and data.site is None:
        raise Invalid("site", f"a {rtype.value} rule watches a site: give site, not meter")
    if data.site is not None:
        if rtype not in SITE_TYPES:
            raise Invalid("meter", f"a {rtype.value} rule needs a meter, not a site")
        site = session.scalar(select(Site).where(Site.code == data.site))
        if site is None:
            raise Invalid("site", f"unknown site {data.site!r}")
        return None, site
    meter = session.scalar(select(Meter).where(Meter.code == data.meter))
    if meter is None:
        raise Invalid("meter", f"unknown meter {data.meter!r}")
    if rtype is RuleType.DEMAND and (
        meter.carrier != "electricity"
        or units.lookup(meter.canonical_unit).dimension not in ("energy", "power")
    ):
        raise Invalid(
            "meter",
            f"demand needs an electricity energy or power meter; "
            f"{meter.code!r} is {meter.carrier} in {meter.canonical_unit}",
        )
    return meter, None


def _parent(session: Session, raw: int | None, rule_id: int | None) -> int | None:
    if raw is None:
        return None
    seen = {rule_id}
    cur: int | None = raw
    while cur is not None:
        if cur in seen:
            raise Invalid("parent_rule", "a rule cannot be suppressed by itself (cycle)")
        seen.add(cur)
        row = session.get(AlarmRule, cur)
        if row is None or row.deleted_at is not None:
            raise Invalid("parent_rule", f"unknown alarm rule {cur}")
        cur = row.parent_rule_id
    return raw


def validate(
    session: Session, data: RuleIn, rule_id: int | None = None, *, unique_name: bool = True
) -> dict:
    """Column values of a valid rule; raises ``Invalid`` naming the first wrong field
    (``unique_name=False``: a rule only tried, never saved, may share a name)."""
    if data.extra:
        raise Invalid(next(iter(data.extra)), "unknown field")
    if not data.name or not data.name.strip() or len(data.name) > 200:
        raise Invalid("name", "must be 1 to 200 characters")
    rtype = _rule_type(data.type)
    try:
        priority = Priority(data.priority)
    except ValueError:
        raise Invalid("priority", "must be critical, high, medium or low") from None
    meter, site = _target(session, data, rtype)
    _check_limits(data, rtype)
    if rtype is RuleType.DEMAND and data.high is None:
        _site_contract(session, site.id if site is not None else meter.site_id)  # type: ignore[union-attr]
    _check_unit(data, rtype, meter)
    params = _params(session, data, rtype, meter, site)
    if data.schedule is not None:
        parse_windows(data.schedule, "schedule")
    if data.webhook_url is not None and not data.webhook_url.startswith(("http://", "https://")):
        raise Invalid("webhook_url", "must be an http:// or https:// URL")
    clash = select(AlarmRule.id).where(AlarmRule.name == data.name, AlarmRule.deleted_at.is_(None))
    if rule_id is not None:
        clash = clash.where(AlarmRule.id != rule_id)
    if unique_name and session.scalar(clash) is not None:
        raise Conflict("name", f"an alarm rule named {data.name!r} exists")
    return {
        "name": data.name,
        "type": rtype.value,
        "meter_id": meter.id if meter else None,
        "site_id": site.id if site else None,
        **{n: getattr(data, n) for n in LIMITS},
        "deadband": data.deadband,
        "on_delay_s": data.on_delay_s,
        "off_delay_s": data.off_delay_s,
        "unit": data.unit,
        "priority": priority.value,
        "message": data.message,
        "params": params,
        "schedule": data.schedule,
        "parent_rule_id": _parent(session, data.parent_rule, rule_id),
        "webhook_url": data.webhook_url,
        "enabled": data.enabled,
    }


def conditions_of(rule: AlarmRule) -> list[str]:
    """The alarm points a rule has: one per limit it sets (``stale`` for stale rules; a
    demand rule always has ``high``, its site's contracted demand when it sets none)."""
    if rule.type == RuleType.STALE:
        return ["stale"]
    return [
        n
        for n in LIMITS
        if getattr(rule, n) is not None or (n == "high" and rule.type == RuleType.DEMAND)
    ]


def _site_contract(session: Session, site_id: int) -> float:
    """The contracted demand (kW) a demand rule without ``high`` watches: its site's own."""
    kw = registry.contracted_demand_kw(session, site_id)
    if kw is None:
        code = session.scalar(select(Site.code).where(Site.id == site_id))
        raise Invalid(
            "high",
            f"a demand rule needs high (the contracted maximum demand, kW) or a site with "
            f"contracted_demand_kw; site {code!r} has none",
        )
    return kw


def get_rule(session: Session, rule_id: int) -> AlarmRule:
    rule = session.get(AlarmRule, rule_id)
    if rule is None or rule.deleted_at is not None:
        raise NotFound("id", f"unknown alarm rule {rule_id}")
    return rule


def list_rules(
    session: Session, meter: str | None = None, site: str | None = None
) -> list[AlarmRule]:
    stmt = select(AlarmRule).where(AlarmRule.deleted_at.is_(None)).order_by(AlarmRule.id)
    if meter is not None:
        stmt = stmt.join(Meter, Meter.id == AlarmRule.meter_id).where(Meter.code == meter)
    if site is not None:
        site_id = select(Site.id).where(Site.code == site).scalar_subquery()
        stmt = stmt.where(
            (AlarmRule.site_id == site_id)
            | AlarmRule.meter_id.in_(select(Meter.id).where(Meter.site_id == site_id))
        )
    return list(session.scalars(stmt))


def to_dict(session: Session, rule: AlarmRule) -> dict:
    """The rule in contract form (flat: contract fields plus its type-specific ones)."""
    meter = session.get(Meter, rule.meter_id) if rule.meter_id else None
    site = session.get(Site, rule.site_id) if rule.site_id else None
    out = {
        "id": rule.id,
        "name": rule.name,
        "type": rule.type,
        "meter": meter.code if meter else None,
        "site": site.code if site else None,
        **{n: getattr(rule, n) for n in LIMITS},
        "deadband": rule.deadband,
        "on_delay_s": rule.on_delay_s,
        "off_delay_s": rule.off_delay_s,
        "unit": rule.unit,
        "priority": rule.priority,
        "message": rule.message,
        "schedule": rule.schedule,
        "parent_rule": rule.parent_rule_id,
        "webhook_url": rule.webhook_url,
        "enabled": rule.enabled,
        "version": rule.version,
        "created_at": rule.created_at,
        "created_by": rule.created_by,
        "updated_at": rule.updated_at,
        "updated_by": rule.updated_by,
    }
    out.update(rule.params or {})
    return out


def _log(session: Session, rule: AlarmRule, action: str, user: str) -> None:
    snapshot = {
        k: v for k, v in to_dict(session, rule).items() if k not in ("created_at", "updated_at")
    }
    session.add(
        AlarmRuleLog(
            rule_id=rule.id, version=rule.version, action=action, user_name=user, snapshot=snapshot
        )
    )


def _sync_points(
    session: Session, rule: AlarmRule, user: str, now: datetime, config: AlarmConfig
) -> list[int]:
    """Make the rule's alarm points match its limits, enabled flag and parent; returns the
    outbox ids of the notifications this produced."""
    conn = session.connection()
    wanted = conditions_of(rule)
    conn.execute(
        text(
            "INSERT INTO alarm (rule_id, condition) SELECT :r, unnest(CAST(:c AS text[]))"
            " ON CONFLICT (rule_id, condition) DO NOTHING"
        ),
        {"r": rule.id, "c": wanted},
    )
    conn.execute(
        text(
            "UPDATE alarm SET retired_at = NULL WHERE rule_id = :r "
            "AND condition = ANY(:c) AND retired_at IS NOT NULL"
        ),
        {"r": rule.id, "c": wanted},
    )
    rows = store.lock_points(conn, rule_ids=[rule.id], include_retired=True)
    parent_active = store.rules_active(conn, [rule.parent_rule_id]) if rule.parent_rule_id else {}
    rec = store.Recorder(conn, now, config)
    for row in rows.values():
        if row.condition not in wanted:
            if not row.retired:
                rec.act(row, Action.RESET, user=user, comment="limit removed from the rule")
                rec.retire(row)
            continue
        if rule.enabled and row.point.out_of_service:
            rec.act(row, Action.RETURN_TO_SERVICE, user=user, comment="rule enabled")
        elif not rule.enabled and not row.point.out_of_service:
            rec.act(row, Action.REMOVE_FROM_SERVICE, user=user, comment="rule disabled")
        suppress = rule.parent_rule_id is not None and parent_active.get(rule.parent_rule_id, False)
        rec.act(
            row,
            Action.SUPPRESS if suppress else Action.UNSUPPRESS,
            user="system",
            comment=f"parent rule {rule.parent_rule_id}" if suppress else None,
        )
    return rec.flush()


def create_rule(
    session: Session, data: RuleIn, user: str, config: AlarmConfig
) -> tuple[AlarmRule, list[int]]:
    values = validate(session, data)
    rule = AlarmRule(**values, created_by=user, updated_by=user, version=1)
    session.add(rule)
    session.flush()
    _log(session, rule, "create", user)
    outbox = _sync_points(session, rule, user, store.db_now(session.connection()), config)
    return rule, outbox


def update_rule(
    session: Session, rule_id: int, changes: dict[str, Any], user: str, config: AlarmConfig
) -> tuple[AlarmRule, list[int]]:
    """Apply a partial update (PATCH); the whole rule is validated again."""
    for name in NOT_NULL:
        if name in changes and changes[name] is None:
            raise Invalid(name, "must not be null")
    rule = get_rule(session, rule_id)
    session.refresh(rule, with_for_update=True)
    current = to_dict(session, rule)
    for name in IMMUTABLE:
        if name in changes and changes[name] != current[name]:
            raise Invalid(name, "cannot be changed; create a new rule instead")
    known = {f.name for f in fields(RuleIn)} - {"extra"}
    merged = {k: v for k, v in current.items() if k in known}
    extra = {k: v for k, v in changes.items() if k not in known}
    merged.update({k: v for k, v in changes.items() if k in known})
    values = validate(session, RuleIn(**merged, extra=extra), rule_id=rule.id)
    for key, value in values.items():
        setattr(rule, key, value)
    rule.version += 1
    rule.updated_by = user
    rule.updated_at = store.db_now(session.connection())
    session.flush()
    _log(session, rule, "update", user)
    conn = session.connection()
    store.lock_points(conn, rule_ids=[rule.id], family=True)  # every lock, in one order
    outbox = _sync_points(session, rule, user, rule.updated_at, config)
    return rule, outbox + store.resync_children(conn, [rule.id], rule.updated_at, config)


def delete_rule(session: Session, rule_id: int, user: str, config: AlarmConfig) -> list[int]:
    """Retire the rule: its alarms return to normal (recorded), history is kept."""
    rule = get_rule(session, rule_id)
    session.refresh(rule, with_for_update=True)
    conn = session.connection()
    now = store.db_now(conn)
    rows = store.lock_points(conn, rule_ids=[rule.id], family=True)
    rec = store.Recorder(conn, now, config)
    for row in (r for r in rows.values() if r.rule_id == rule.id):
        rec.act(row, Action.RESET, user=user, comment="rule deleted")
        rec.retire(row)
    outbox = rec.flush()
    rule.deleted_at, rule.deleted_by = now, user
    session.flush()
    _log(session, rule, "delete", user)
    return outbox + store.resync_children(conn, [rule.id], now, config)
