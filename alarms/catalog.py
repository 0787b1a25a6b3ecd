"""The rule-type catalog: for each alarm rule type, exactly the fields it takes.

One home for what a rule type is made of. :mod:`alarms.rules` takes its type-specific field
table (``PARAMS``), the limits each type allows and the types' targets from here; the API
serves it (``GET /api/v1/alarm-rules/types``) and the dashboard's rule editor is generated
from it (labels, units, help in English and 中文). Adding a rule type is adding an entry
to :data:`TYPES` (and its evaluation); a test checks that validation agrees with the catalog.

Every rule also takes the :data:`COMMON` fields (name, priority, message, schedule, parent
rule, webhook, enabled).

``unit`` of a field is a fixed unit (``"s"``, ``"kW"``, ``"%"``) or a rule:
``"meter"`` (the meter's unit, or the ``unit`` field when given), ``"target"`` (the target's
unit: energy per bucket in the meter's unit, load in kW), or None (a dimensionless field).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from benchmarking.energy_balance import BALANCED_CARRIERS
from core.units import Carrier
from models.alarms import RuleType

Kind = Literal[
    "number", "integer", "choice", "text", "boolean", "meter", "site", "rule", "windows", "dates"
]  # fmt: skip

#: What a field's value is, by its kind: part of the API's contract (``GET
#: /alarm-rules/types`` serves the kind; the OpenAPI schema lists these and only these).
#: ``rule`` (``parent_rule``) was served as ``integer`` before: the value is still the id.
KINDS: dict[Kind, str] = {
    "number": "a number, in the field's unit",
    "integer": "a whole number",
    "choice": "one of the field's choices",
    "text": "a string",
    "boolean": "true or false",
    "meter": "a meter's code",
    "site": "a site's code",
    "rule": "another alarm rule's id (an integer; pick it from GET /alarm-rules)",
    "windows": 'weekly windows, site time, Monday = 0: [{"days": [0..6], "start": "HH:MM", '
    '"end": "HH:MM"}]',
    "dates": 'whole days: ["YYYY-MM-DD", …]',
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind  # what the value is: see KINDS
    label: tuple[str, str]  # (English, 中文)
    help: tuple[str, str]
    unit: str | None = None
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    choice_labels: dict[str, tuple[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["label"] = {"en": self.label[0], "zh": self.label[1]}
        d["help"] = {"en": self.help[0], "zh": self.help[1]}
        d["choices"] = list(self.choices)
        d["choice_labels"] = {k: {"en": v[0], "zh": v[1]} for k, v in self.choice_labels.items()}
        return d


@dataclass(frozen=True)
class TypeSpec:
    type: RuleType
    label: tuple[str, str]
    help: tuple[str, str]
    target: str  # meter | site | meter_or_site
    fields: tuple[Field, ...]
    stream: bool  # evaluated on each reading (True) or on the scheduler
    needs_limit: tuple[str, ...] = ()  # at least one of these limits must be given

    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def to_dict(self) -> dict:
        return {
            "type": self.type.value,
            "label": {"en": self.label[0], "zh": self.label[1]},
            "help": {"en": self.help[0], "zh": self.help[1]},
            "target": self.target,
            "stream": self.stream,
            "needs_limit": list(self.needs_limit),
            "fields": [f.to_dict() for f in self.fields],
        }


# -- building blocks ---------------------------------------------------------------------

METER = Field(
    "meter",
    "meter",
    ("Meter", "计量表"),
    ("The meter the rule watches", "规则监视的计量表"),
    required=True,
)
SITE = Field(
    "site", "site", ("Site", "站点"), ("The site the rule watches", "规则监视的站点"), required=True
)


def _limit(name: str, en: str, zh: str, help_en: str, help_zh: str, unit: str | None) -> Field:
    return Field(name, "number", (en, zh), (help_en, help_zh), unit=unit)


def _limits(unit: str, names: tuple[str, ...] = ("high", "high_high", "low", "low_low")) -> list:
    text = {
        "high": ("High", "高限", "Alarm above this value", "高于此值报警"),
        "high_high": ("High-high", "高高限", "Second, more urgent high limit", "更紧急的第二高限"),
        "low": ("Low", "低限", "Alarm below this value", "低于此值报警"),
        "low_low": ("Low-low", "低低限", "Second, more urgent low limit", "更紧急的第二低限"),
    }
    return [_limit(n, *text[n], unit) for n in names]


def _tuning(unit: str | None, deadband: bool = True) -> list[Field]:
    out = []
    if deadband:
        out.append(
            Field(
                "deadband",
                "number",
                ("Deadband", "死区"),
                (
                    "Back to normal only when inside the limit by this much (hysteresis)",
                    "回到限值以内超过此量才恢复正常（回差）",
                ),
                unit=unit,
                default=0.0,
            )
        )
    out += [
        Field(
            "on_delay_s",
            "number",
            ("On-delay", "报警延时"),
            ("The condition must hold this long before it alarms", "条件持续此时长才报警"),
            unit="s",
            default=0.0,
        ),
        Field(
            "off_delay_s",
            "number",
            ("Off-delay", "恢复延时"),
            ("…and be gone this long before it returns to normal", "条件消失此时长才恢复正常"),
            unit="s",
            default=0.0,
        ),
    ]
    return out


def _unit_field(help_en: str, help_zh: str) -> Field:
    return Field("unit", "text", ("Unit of the limits", "限值单位"), (help_en, help_zh))


UNIT = _unit_field(
    "Unit the limits are given in (default: the meter's unit)", "限值所用单位（默认：计量表单位）"
)


# -- the catalog -------------------------------------------------------------------------

TYPES: dict[RuleType, TypeSpec] = {
    RuleType.THRESHOLD: TypeSpec(
        RuleType.THRESHOLD,
        ("Threshold", "越限"),
        (
            "The meter's value (or its quantity per interval, or a bucket total) beyond a limit",
            "计量值（或每周期用量、时段累计）越过限值",
        ),
        "meter",
        (
            METER,
            *_limits("meter"),
            *_tuning("meter"),
            UNIT,
            Field(
                "resolution",
                "choice",
                ("Resolution", "统计粒度"),
                (
                    "raw: each reading; 15m/1h/1d: the running bucket total (average for gauges)",
                    "raw：逐条读数；15m/1h/1d：当前时段累计（瞬时量取平均）",
                ),
                default="raw",
                choices=("raw", "15m", "1h", "1d"),
                choice_labels={
                    "raw": ("each reading", "逐条读数"),
                    "15m": ("15 minutes", "15 分钟"),
                    "1h": ("1 hour", "1 小时"),
                    "1d": ("1 day", "1 天"),
                },
            ),
        ),
        stream=True,
        needs_limit=("high", "high_high", "low", "low_low"),
    ),
    RuleType.RATE: TypeSpec(
        RuleType.RATE,
        ("Rate of change", "变化率"),
        ("Change of the meter's quantity over a window", "计量值在时间窗内的变化量"),
        "meter",
        (
            METER,
            *_limits("meter"),
            *_tuning("meter"),
            UNIT,
            Field(
                "window_s",
                "number",
                ("Window", "时间窗"),
                ("The change is measured over this window", "在此时间窗内计算变化量"),
                unit="s",
                required=True,
            ),
        ),
        stream=True,
        needs_limit=("high", "high_high", "low", "low_low"),
    ),
    RuleType.STALE: TypeSpec(
        RuleType.STALE,
        ("No data", "数据中断"),
        ("No reading for a number of the meter's intervals", "计量表连续若干周期无读数"),
        "meter",
        (
            METER,
            *_tuning(None, deadband=False),
            Field(
                "intervals",
                "number",
                ("Intervals without data", "无数据周期数"),
                (
                    "Alarm after this many expected intervals without a reading",
                    "超过此数量的应有周期无读数即报警",
                ),
                default=3.0,
            ),
        ),
        stream=False,
    ),
    RuleType.DEMAND: TypeSpec(
        RuleType.DEMAND,
        ("Demand", "需量"),
        (
            "15-minute demand (block, projected to the end of the block, or rolling) "
            "against the contracted maximum",
            "15 分钟需量（滑差或固定时段，预测至时段末）与合同最大需量比较",
        ),
        "meter_or_site",
        (
            METER,
            SITE,
            *_limits("kW", ("high", "high_high")),
            *_tuning("kW"),
            _unit_field("Power unit of the limits (default kW)", "限值功率单位（默认 kW）"),
            Field(
                "method",
                "choice",
                ("Method", "计算方法"),
                (
                    "block: projected to the end of the block; rolling",
                    "block：预测至时段末；rolling：滑差",
                ),
                default="block",
                choices=("block", "rolling"),
                choice_labels={"block": ("block", "固定时段"), "rolling": ("rolling", "滑差")},
            ),
            Field(
                "block_s",
                "integer",
                ("Block length", "需量周期"),
                ("Divides an hour, 60 to 3600 s", "须整除一小时，60–3600 秒"),
                unit="s",
                default=900,
            ),
        ),
        stream=False,
        needs_limit=("high",),
    ),
    RuleType.IDLE: TypeSpec(
        RuleType.IDLE,
        ("Idle consumption", "非生产时段能耗"),
        (
            "Consumption above a baseline inside idle periods (nights, weekends) and holidays",
            "非生产时段（夜间、周末）及节假日能耗高于基线",
        ),
        "meter",
        (
            METER,
            *_limits("meter", ("high", "high_high")),
            *_tuning("meter"),
            _unit_field(
                "Unit of the baseline (default the meter's; kW on an energy meter: average power)",
                "基线单位（默认计量表单位；电能表可用 kW 表示平均功率）",
            ),
            Field(
                "idle_periods",
                "windows",
                ("Idle periods", "非生产时段"),
                (
                    "The ticked weekdays from the start to the end time (site time, HH:MM; "
                    "22:00 to 06:00 runs past midnight)",
                    "勾选的星期、开始至结束时间（站点时间，HH:MM；22:00 至 06:00 跨越午夜）",
                ),
                required=True,
            ),
            Field(
                "holidays",
                "dates",
                ("Holidays", "节假日"),
                ("Whole days that count as idle, YYYY-MM-DD", "整天视为非生产，格式 YYYY-MM-DD"),
                default=[],
            ),
        ),
        stream=True,
        needs_limit=("high",),
    ),
    RuleType.FORECAST_DEVIATION: TypeSpec(
        RuleType.FORECAST_DEVIATION,
        ("Forecast deviation", "预测偏差"),
        (
            "Outside the stored forecast's 90 % interval for K consecutive buckets",
            "连续 K 个时段超出预测 90 % 区间",
        ),
        "meter_or_site",
        (
            METER,
            SITE,
            _limit(
                "high",
                "Margin above",
                "上偏差裕量",
                "How far above the forecast's upper bound it may be",
                "允许高出预测上界的量",
                "target",
            ),
            _limit(
                "low",
                "Margin below",
                "下偏差裕量",
                "How far below the forecast's lower bound it may be",
                "允许低于预测下界的量",
                "target",
            ),
            *_tuning("target"),
            Field(
                "intervals",
                "integer",
                ("Consecutive buckets (K)", "连续时段数 (K)"),
                ("1 to 96", "1–96"),
                default=3,
            ),
            Field(
                "target",
                "choice",
                ("Compared quantity", "比较对象"),
                ("energy per bucket, or load in kW", "每时段电量，或负荷 kW"),
                choices=("energy", "load"),
                choice_labels={"energy": ("energy", "电量"), "load": ("load (kW)", "负荷 (kW)")},
            ),
            Field(
                "carrier",
                "choice",
                ("Carrier (site rule)", "能源品种（站点规则）"),
                ("Only for a site rule; default electricity", "仅用于站点规则；默认电力"),
                choices=tuple(c.value for c in Carrier),
            ),
        ),
        stream=False,
        needs_limit=("high", "low"),
    ),
    RuleType.BUDGET: TypeSpec(
        RuleType.BUDGET,
        ("Budget", "预算"),
        (
            "A site's budget for the current month or year: actual or projected use in % of it",
            "站点本月或本年预算：实际或预测用量占预算的百分比",
        ),
        "site",
        (
            SITE,
            Field(
                "high",
                "number",
                ("High", "高限"),
                ("Alarm when this % of the budget is reached", "达到预算的此百分比时报警"),
                unit="%",
                required=True,
            ),
            _limit(
                "high_high",
                "High-high",
                "高高限",
                "A second, more urgent %",
                "更紧急的第二百分比",
                "%",
            ),
            *_tuning("%"),
            Field(
                "quantity",
                "choice",
                ("Budget quantity", "预算指标"),
                (
                    "The site must have a budget of this quantity (Budgets page)",
                    "站点须已有该指标的预算（见预算页面）",
                ),
                required=True,
                choices=("electricity_kwh", "energy_tce", "co2_t", "cost_cny"),
                choice_labels={
                    "electricity_kwh": ("electricity (kWh)", "电量 (kWh)"),
                    "energy_tce": ("energy (tce)", "综合能耗 (tce)"),
                    "co2_t": ("CO₂ (t)", "碳排放 (tCO₂)"),
                    "cost_cny": ("cost (CNY)", "费用 (元)"),
                },
            ),
            Field(
                "period",
                "choice",
                ("Period", "周期"),
                ("The current month or year, site time", "当前月或年（站点时间）"),
                default="month",
                choices=("month", "year"),
                choice_labels={"month": ("month", "月"), "year": ("year", "年")},
            ),
            Field(
                "basis",
                "choice",
                ("Basis", "依据"),
                (
                    "projected: actual + forecast of the rest; actual",
                    "projected：实际 + 剩余预测；actual：实际",
                ),
                default="projected",
                choices=("projected", "actual"),
                choice_labels={"projected": ("projected", "预测"), "actual": ("actual", "实际")},
            ),
        ),
        stream=False,
        needs_limit=("high",),
    ),
    RuleType.NODE_LOSS: TypeSpec(
        RuleType.NODE_LOSS,
        ("Balance node loss", "平衡节点损耗"),
        (
            "A site's energy balance: the loss rate of a node (a meter with sub-meters), or the "
            "site's unmetered share, over a trailing window, in %",
            "站点能量平衡：某节点（带子表的计量表）的损耗率，或站点未计量占比，按最近时段计算（%）",
        ),
        "site",
        (
            Field(
                "site",
                "site",
                ("Site", "站点"),
                ("Site whose energy balance is watched", "监视其能量平衡的站点"),
                required=True,
            ),
            Field(
                "high",
                "number",
                ("High", "高限"),
                (
                    "Loss rate (unmetered share) above which it alarms, above 0 and at most 100",
                    "损耗率（未计量占比）超过此值时报警（0 < 值 ≤ 100）",
                ),
                unit="%",
                required=True,
            ),
            _limit(
                "high_high", "High-high", "高高限", "A second, higher limit", "更高一级的限值", "%"
            ),
            *_tuning("%"),
            Field(
                "carrier",
                "choice",
                ("Carrier", "能源品种"),
                ("Energy carrier of the balance", "能量平衡的能源品种"),
                default="electricity",
                choices=tuple(sorted(BALANCED_CARRIERS)),
            ),
            Field(
                "node",
                "meter",
                ("Balance node", "平衡节点"),
                (
                    "A meter with sub-meters; empty: the site's unmetered share",
                    "带子表的计量表；留空则监视站点未计量占比",
                ),
            ),
            Field(
                "period",
                "choice",
                ("Window", "统计时段"),
                ("Trailing window: 1 h, 1 d or 7 d", "最近 1 小时、1 天或 7 天"),
                default="1d",
                choices=("1h", "1d", "7d"),
                choice_labels={
                    "1h": ("1 h", "1 小时"),
                    "1d": ("1 d", "1 天"),
                    "7d": ("7 d", "7 天"),
                },
            ),
        ),
        stream=False,
        needs_limit=("high",),
    ),
    RuleType.ETS_DEADLINE: TypeSpec(
        RuleType.ETS_DEADLINE,
        ("ETS surrender deadline", "碳市场清缴截止"),
        (
            "From N days before the compliance deadline: the allowance shortfall of a covered "
            "site (its ETS position), in t",
            "自清缴截止日前 N 天起：纳入全国碳市场站点的配额缺口（t）",
        ),
        "site",
        (
            Field(
                "site",
                "site",
                ("Site", "站点"),
                ("Covered site (its verified emissions)", "纳入全国碳市场的站点（其核查排放量）"),
                required=True,
            ),
            Field(
                "high",
                "number",
                ("Shortfall", "配额缺口"),
                (
                    "Shortfall above which it alarms (0: any shortfall)",
                    "配额缺口超过此值时报警（0：任何缺口）",
                ),
                unit="t",
                required=True,
            ),
            *_tuning("t"),
            Field(
                "year",
                "integer",
                ("Compliance year", "履约年度"),
                ("The compliance year whose deadline is watched", "监视其清缴截止日的履约年度"),
                required=True,
            ),
            Field(
                "days_before",
                "integer",
                ("Days before", "提前天数"),
                (
                    "Days before the surrender deadline it arms (0 to 366)",
                    "清缴截止日前多少天开始监视（0–366）",
                ),
                unit="d",
                default=30,
            ),
        ),
        stream=False,
        needs_limit=("high",),
    ),
}

COMMON: tuple[Field, ...] = (
    Field(
        "name",
        "text",
        ("Name", "名称"),
        ("1 to 200 characters, unique", "1–200 字符，唯一"),
        required=True,
    ),
    Field(
        "priority",
        "choice",
        ("Priority", "优先级"),
        ("How urgent the alarm is", "报警的紧急程度"),
        default="medium",
        choices=("critical", "high", "medium", "low"),
        choice_labels={
            "critical": ("critical", "紧急"),
            "high": ("high", "高"),
            "medium": ("medium", "中"),
            "low": ("low", "低"),
        },
    ),
    Field(
        "message",
        "text",
        ("Message", "报警信息"),
        ("Shown to operators", "显示给值班人员"),
        default="",
    ),
    Field(
        "schedule",
        "windows",
        ("Armed in", "启用时段"),
        (
            "Armed only on the ticked weekdays from the start to the end time (site time, "
            "HH:MM; an end at or before the start runs past midnight); none: always armed",
            "仅在勾选的星期、开始至结束时间内启用（站点时间，HH:MM；结束早于或等于开始则跨越午夜）；"
            "未设时段则始终启用",
        ),
    ),
    Field(
        "parent_rule",
        "rule",
        ("Parent rule", "上级规则"),
        (
            "The rule whose active alarm suppresses this one; empty: never suppressed",
            "其活动报警会抑制本规则的规则；留空则不抑制",
        ),
    ),
    Field(
        "webhook_url",
        "text",
        ("Webhook", "Webhook 地址"),
        (
            "http:// or https:// URL posted to when an alarm is raised or returns to normal; "
            "empty: none",
            "报警产生或恢复正常时推送到此 http:// 或 https:// 地址；留空则不推送",
        ),
    ),
    Field(
        "enabled",
        "boolean",
        ("Enabled", "启用"),
        ("Evaluated when enabled", "启用后才评估"),
        default=True,
    ),
)

LIMIT_NAMES = ("high", "high_high", "low", "low_low")
TUNING = ("deadband", "on_delay_s", "off_delay_s", "unit")


def spec(rtype: RuleType) -> TypeSpec:
    return TYPES[rtype]


def choices(rtype: RuleType, name: str) -> tuple[str, ...]:
    f = TYPES[rtype].field(name)
    assert f is not None, (rtype, name)
    return f.choices


def params_by_field() -> dict[str, tuple[RuleType, ...]]:
    """Type-specific fields (neither target, limit, tuning nor common) and the types using
    them: the table :mod:`alarms.rules` validates against."""
    fixed = {"meter", "site", *LIMIT_NAMES, *TUNING}
    out: dict[str, list[RuleType]] = {}
    for rtype, s in TYPES.items():
        for f in s.fields:
            if f.name not in fixed:
                out.setdefault(f.name, []).append(rtype)
    return {k: tuple(v) for k, v in out.items()}


def site_types() -> set[RuleType]:
    return {t for t, s in TYPES.items() if s.target in ("site", "meter_or_site")}


def stream_types() -> tuple[RuleType, ...]:
    return tuple(t for t, s in TYPES.items() if s.stream)


def limits_of(rtype: RuleType) -> tuple[str, ...]:
    names = TYPES[rtype].names()
    return tuple(n for n in LIMIT_NAMES if n in names)


def as_json() -> dict:
    """The catalog as the API serves it."""
    return {
        "types": [s.to_dict() for s in TYPES.values()],
        "common": [f.to_dict() for f in COMMON],
    }
