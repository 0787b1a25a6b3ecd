"""What each page needs, fetched through the API client (in parallel) and shaped by
:mod:`dashboard.data`. Callbacks call one function here and turn its result into components.

Every function returns a snapshot even when parts are missing: an unreachable API sets
``reachable=False``; an optional service (carbon, forecasts, alarms) that is not deployed
leaves its fields ``None`` with a note, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from core import periods
from core.exports import round_figure
from dashboard import data
from dashboard.client import ApiClient, ApiError, NotAvailable, Rejected, Unreachable
from dashboard.i18n import DASH, fmt_num, t

ALIGN = timedelta(minutes=15)  # totals up to the last 15-minute boundary come from rollups
TREND = timedelta(hours=24)
CARBON_TTL_S = 60.0  # carbon figures on the wall are at most this old (stale-while-revalidate)
BUDGET_TTL_S = 300.0  # the month's budget projection: renewed every 5 minutes
BUDGET_QUANTITIES = ("cost_cny", "electricity_kwh")  # the wall's budget tile: the first found
FIELD_TTL_S = 30.0  # devices offline and the collection rate: renewed every 30 s
COLLECTION_WINDOW = timedelta(hours=24)  # the wall's collection rate: the last 24 hours


def floor(ts: datetime, step: timedelta) -> datetime:
    s = step.total_seconds()
    return datetime.fromtimestamp(ts.timestamp() // s * s, UTC)


def local_midnight(now: datetime, tz: str) -> datetime:
    local = now.astimezone(ZoneInfo(tz))
    return datetime.combine(local.date(), time(), ZoneInfo(tz)).astimezone(UTC)


class _Batch:
    """Calls submitted to the client's pool; ``get`` returns the value or the ApiError."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.futures: dict[str, Future] = {}

    def add(self, name: str, fn: Callable[..., Any], *args: Any) -> None:
        self.futures[name] = self.api.submit(fn, *args)

    def get(self, name: str) -> Any:
        try:
            return self.futures[name].result()
        except ApiError as exc:
            return exc


def _ok(value: Any) -> bool:
    return not isinstance(value, ApiError)


# -- the wall ----------------------------------------------------------------------------


@dataclass
class Kpi:
    key: str  # text key of the tile's title
    value: float | None
    unit: str
    sub: str = ""  # second line (contract, tce …)
    change_pct: float | None = None
    change_text: str = ""  # "vs yesterday"
    good_when: str = "down"  # arrow colour: which direction is good
    note: str = ""  # "not available" and the like
    share: float | None = None  # bar under the value (load / contracted demand)
    digits: int | None = None


@dataclass
class WallSnapshot:
    reachable: bool
    site: str | None = None
    site_name: str = ""
    tz: str = field(default_factory=data.default_tz)
    kpis: list[Kpi] = field(default_factory=list)
    flows: data.Flows | None = None
    load: pd.DataFrame | None = None
    forecast: pd.DataFrame | None = None
    forecast_note: str = ""
    contracted_kw: float | None = None
    alarms: list[dict] | None = None  # None: the alarm service is not deployed
    last_reading: datetime | None = None
    stale_after_s: float = 120.0
    error: str = ""  # the API refused the dashboard (shown instead of data)


def wall_snapshot(
    api: ApiClient,
    site: str | None,
    lang: str,
    now: datetime | None = None,
    tiles: list[str] | None = None,
    default_tiles: list[str] | None = None,
) -> WallSnapshot:
    """Everything the wall shows, in one round of parallel API calls.

    The KPI tiles, in order: ``tiles`` (the screen's ``?tiles=``), else the site's own
    ``wall_tiles``, else ``default_tiles`` (``ECC_WALL_TILES``), else all. The contracted
    demand drawn is the site's own ``contracted_demand_kw``."""
    fixed_now = now is not None  # injected (tests): every window is cut there
    now = now or datetime.now(UTC)
    try:
        sites, meters = api.sites(), api.meters()
        site = site or data.default_site(sites, meters)
        if site is None or site not in {s["code"] for s in sites}:
            return WallSnapshot(reachable=True, site=None)
        has = {
            k: api.has(p)
            for k, p in (
                ("emissions", "/carbon/emissions"),
                ("intensity", "/kpis/intensity"),
                ("forecasts", "/forecasts"),
                ("alarms", "/alarms"),
                ("costs", "/costs"),
                ("budgets", "/budgets/status"),
                ("offsets", "/offsets"),
                ("devices", "/collectors/devices"),
                ("collection", "/collection-rate"),
            )
        }
    except Unreachable:
        return WallSnapshot(reachable=False, site=site)
    except ApiError as exc:  # e.g. the dashboard's key was revoked: say so on the wall
        return WallSnapshot(reachable=True, site=None, error=exc.detail)
    sc = data.scope(sites, meters, site)
    own = sc.sites[site]
    chosen = data.wall_tiles(tiles, own.get("wall_tiles"), default_tiles)
    contracted_kw = own.get("contracted_demand_kw")
    midnight = local_midnight(now, sc.tz)
    edge = max(floor(now, ALIGN), midnight)
    day = timedelta(days=1)
    b = _Batch(api)
    b.add(
        "today",
        api.cached,
        ("totals", site, midnight, edge),
        60.0,
        lambda: api.totals(site, midnight, edge) if edge > midnight else {"meters": []},
    )
    # Since the last boundary: every meter for the energy flow (≤ 30 s old).
    b.add(
        "tail",
        api.cached,
        ("tail", site, edge),
        30.0,
        lambda: api.totals(site, edge, datetime.now(UTC)),
    )
    # The site balance as the API computes it: the 24-hour trend with the load now, and
    # the consumption since midnight (always fresh); yesterday up to this time of day, for
    # the trend arrows, kept for a minute and renewed in the background (the end is taken
    # when fetched), so the refresh never waits on it.
    t0 = floor(now - TREND, ALIGN)
    b.add("load", api.load, site, t0, now, "15m")
    b.add(
        "load_today",
        lambda: api.load(site, midnight, now, "1h") if now > midnight else None,
    )
    # Yesterday up to this time of day (core.periods: the same elapsed part of the day), for
    # the "vs yesterday" arrows, kept for a minute and renewed in the background (the cut is
    # taken when fetched), so the refresh never waits on it.
    zone = ZoneInfo(sc.tz)
    local_day = now.astimezone(zone).date()

    def yesterday() -> tuple[datetime, datetime]:
        cut = now if fixed_now else datetime.now(UTC)
        return periods.compare("day", local_day, zone, cut, "previous").previous

    b.add(
        "load_y",
        api.cached,
        ("load_y", site, midnight - day),
        CARBON_TTL_S,
        lambda: api.load(site, *yesterday(), "1h"),
    )
    if has["emissions"]:
        b.add(
            "em",
            api.cached,
            ("emissions", site, midnight),
            CARBON_TTL_S,
            lambda: api.emissions(site, midnight, now if fixed_now else datetime.now(UTC)),
        )
        b.add(
            "em_y",
            api.cached,
            ("emissions_y", site, midnight - day),
            CARBON_TTL_S,
            lambda: api.emissions(site, *yesterday()),
        )
    if has["intensity"]:  # its "mom" is yesterday up to the same time (core.periods)
        b.add(
            "kpi",
            api.cached,
            ("intensity", site, "day", local_day),
            CARBON_TTL_S,
            lambda: api.intensity(site, "day", local_day, now if fixed_now else None),
        )
    if has["forecasts"]:
        b.add(
            "fc",
            api.cached,
            ("forecast", site, floor(now, ALIGN)),
            300.0,
            lambda: api.forecasts(site, "load", t0, now + TREND),
        )
    if has["alarms"]:
        b.add("alarms", api.alarms, "active")
    if has["costs"] and edge > midnight:
        b.add(
            "cost",
            api.cached,
            ("cost", site, midnight, edge),
            CARBON_TTL_S,
            lambda: api.costs(site, midnight, edge),
        )
    if has["budgets"]:
        month = now.astimezone(ZoneInfo(sc.tz)).strftime("%Y-%m")
        b.add(
            "budget",
            api.cached,
            ("budget", site, month),
            BUDGET_TTL_S,
            lambda: _month_budget(api, site, month),
        )

    _add_field_and_offsets(b, api, has, chosen, site, now, sc.tz)

    essentials = [b.get("today"), b.get("tail"), b.get("load")]
    if any(isinstance(v, Unreachable) for v in essentials):
        return WallSnapshot(reachable=False, site=site)
    snap = WallSnapshot(
        reachable=True,
        site=site,
        tz=sc.tz,
        contracted_kw=contracted_kw,
        site_name=data.local_name(sc.sites[site]["name"], lang),
    )
    totals = data.meter_totals(*[v for v in (b.get("today"), b.get("tail")) if _ok(v)])
    load = b.get("load")
    kw_now, snap.last_reading = data.load_now(load) if _ok(load) else (None, None)
    if _ok(load):
        snap.stale_after_s = max(120.0, 3.0 * data.load_interval_s(sc, load))
    snap.load = data.load_frame(load if _ok(load) else {})
    today, y = b.get("load_today"), b.get("load_y")
    kwh_today = None if not _ok(today) else 0.0 if today is None else data.consumption_kwh(today)
    kwh_y = data.consumption_kwh(y) if _ok(y) else None
    if snap.last_reading is None and not snap.load.empty:
        snap.last_reading = (snap.load["ts"].iloc[-1] + ALIGN).to_pydatetime()
    kw_before = None
    if snap.last_reading is not None and not snap.load.empty:
        past = snap.load[snap.load["ts"] + ALIGN <= snap.last_reading - ALIGN]
        kw_before = float(past["load_kw"].iloc[-1]) if not past.empty else None

    em = b.get("em") if has["emissions"] else None
    em_ok = em is not None and _ok(em)
    snap.flows = data.energy_flows(sc, totals, data.tce_factors(em) if em_ok else None, lang)
    snap.kpis = (
        _wall_kpis(b, has, kwh_today, kwh_y, kw_now, kw_before, contracted_kw, lang)
        + _cost_kpis(b, has, lang)
        + _field_and_offset_kpis(b, has, lang)
    )
    by_key = {k.key: k for k in snap.kpis}
    snap.kpis = [by_key[k] for k in chosen if k in by_key]
    snap.forecast, snap.forecast_note = None, t("forecast_na", lang)
    if has["forecasts"] and _ok(fc := b.get("fc")):
        snap.forecast = data.forecast_frame(fc)
        snap.forecast_note = t(
            "forecast_next" if snap.forecast is not None else "forecast_na", lang
        )
    if has["alarms"] and _ok(al := b.get("alarms")):
        snap.alarms = [
            a for a in data.alarm_rows(al) if a["subject"] in sc.meters or a["subject"] in sc.sites
        ]
    return snap


def _wall_kpis(
    b: _Batch,
    has: dict[str, bool],
    kwh_today: float | None,
    kwh_y: float | None,
    kw_now: float | None,
    kw_before: float | None,
    contracted_kw: float | None,
    lang: str,
) -> list[Kpi]:
    na = t("not_available", lang)
    load = Kpi(
        "load_now",
        kw_now,
        "kW",
        change_pct=data.change_pct(kw_now, kw_before),
        change_text=t("vs_15min", lang),
        digits=0,
    )
    if contracted_kw:
        load.sub = t("of_contract", lang, v=f"{contracted_kw:,.0f} kW")
        load.share = None if kw_now is None else kw_now / contracted_kw
    else:
        load.sub = t("contract_unknown", lang)
    # Total energy of every carrier in tce; electricity alone in kWh, labelled as such.
    energy = Kpi("energy_today", None, "tce", note=na, digits=2)
    elec = DASH if kwh_today is None else f"{kwh_today:,.0f} kWh"
    elec_change = data.change_pct(kwh_today, kwh_y)
    energy.sub = t("electricity_of_which", lang, v=elec) + (
        "" if elec_change is None else f" ({elec_change:+,.1f} %)"
    )
    co2 = Kpi("co2_today", None, "tCO₂e", note=na, digits=2)
    em, em_y = (
        b.get("em") if has["emissions"] else None,
        b.get("em_y") if has["emissions"] else None,
    )
    if em is not None and _ok(em):
        energy.value, energy.note = em["energy_tce"], ""
        co2.value, co2.note = em["total_location_tco2e"], ""
        if em_y is not None and _ok(em_y):
            energy.change_pct = data.change_pct(energy.value, em_y["energy_tce"])
            energy.change_text = t("vs_yesterday", lang)
            co2.change_pct = data.change_pct(co2.value, em_y["total_location_tco2e"])
            co2.change_text = t("vs_yesterday", lang)
    intensity = Kpi("carbon_intensity", None, "", note=na)
    shares = [
        Kpi("renewable_share", None, "%", good_when="up", note=na, digits=1),
        Kpi("green_share", None, "%", good_when="up", note=na, digits=1),
    ]
    k = b.get("kpi") if has["intensity"] else None
    if k is not None and _ok(k):
        intensity.value, intensity.unit, intensity.note = _intensity(k, lang)
        mom = k.get("mom") or {}
        for tile, name in zip(
            shares, ("renewable_electricity_share", "green_power_share"), strict=True
        ):
            v = k.get(name)
            tile.value, tile.note = (None, t("no_reading", lang)) if v is None else (v * 100, "")
            prev = (mom.get(name) or {}).get("previous")
            if v is not None and prev is not None:
                tile.change_pct = (v - prev) * 100.0  # percentage points
                tile.change_text = t("vs_yesterday", lang)
    return [load, energy, co2, intensity, *shares]


def _add_field_and_offsets(
    b: _Batch,
    api: ApiClient,
    has: dict[str, bool],
    chosen: list[str],
    site: str,
    now: datetime,
    tz: str,
) -> None:
    """The calls behind the tiles "net emissions this year", "devices offline" and
    "automatic collection rate", made only when the screen shows them."""
    if has["offsets"] and "net_emissions_year" in chosen:
        year = now.astimezone(ZoneInfo(tz)).year
        b.add(
            "offsets",
            api.cached,
            ("offsets", site, year),
            BUDGET_TTL_S,
            lambda: api.offsets(site, year),
        )
    if has["devices"] and "devices_offline" in chosen:
        b.add("devices", api.cached, ("devices", site), FIELD_TTL_S, lambda: _devices(api, site))
    if has["collection"] and "collection_rate" in chosen:
        b.add(
            "collection",
            api.cached,
            ("collection", site),
            FIELD_TTL_S,
            lambda: _collection(api, site),
        )


def _devices(api: ApiClient, site: str) -> list[dict]:
    return api.collector_devices(site)


def _collection(api: ApiClient, site: str) -> dict:
    """The automatic collection rate over the last 24 hours up to now."""
    end = datetime.now(UTC)
    return api.collection_rate(site, end - COLLECTION_WINDOW, end)


def _field_and_offset_kpis(b: _Batch, has: dict[str, bool], lang: str) -> list[Kpi]:
    """ "Net emissions this year", "Devices offline" and "Automatic collection rate"."""
    na = t("not_available", lang)
    net = Kpi("net_emissions_year", None, "tCO₂e", note=na)
    o = b.get("offsets") if "offsets" in b.futures else None
    if o is not None and _ok(o):
        # tonnes come as decimal strings (the ledger's numeric): figures to draw
        net.value, net.note = float(o["net_tco2"]), ""
        net.sub = t(
            "net_sub",
            lang,
            gross=fmt_num(float(o["gross_tco2"]), "", 0),
            offsets=fmt_num(float(o["offsets_tco2"]), "", 0),
        )
        if o.get("warnings"):
            net.note = t("offsets_warning", lang)
    offline = Kpi("devices_offline", None, t("devices_unit", lang), note=na, digits=0)
    d = b.get("devices") if "devices" in b.futures else None
    if d is not None and _ok(d):
        if not d:
            offline.note = t("no_collectors", lang)
        else:
            down = [x for x in d if not x["online"]]
            offline.value, offline.note = float(len(down)), ""
            offline.unit = t("device_unit" if len(down) == 1 else "devices_unit", lang)
            offline.sub = t("devices_of", lang, n=len(d))
            if down:
                offline.note = ", ".join(x["device"] for x in down[:3]) + (
                    " …" if len(down) > 3 else ""
                )
    rate = Kpi("collection_rate", None, "%", good_when="up", note=na, digits=1)
    c = b.get("collection") if "collection" in b.futures else None
    if c is not None and _ok(c):
        if c["rate"] is None:
            rate.note = t("no_points", lang)
        else:
            rate.value, rate.note = c["rate"] * 100.0, ""
            rate.sub = t("collection_sub", lang, r=c["points_reporting"], n=c["points_configured"])
    return [net, offline, rate]


def _month_budget(api: ApiClient, site: str, month: str) -> dict | None:
    """The month's status of the site's cost budget, else of its electricity budget."""
    for quantity in BUDGET_QUANTITIES:
        try:
            return api.budget_status(site, quantity, month)
        except Rejected as exc:
            if exc.status != 404:
                raise
    return None


def _cost_kpis(b: _Batch, has: dict[str, bool], lang: str) -> list[Kpi]:
    """ "Cost today" and "Month budget: N % used, projected M %"."""
    na = t("not_available", lang)
    cost = Kpi("cost_today", None, "CNY", note=na, digits=0)
    c = b.get("cost") if "cost" in b.futures else None
    if c is None and has.get("costs"):
        cost.value, cost.note = 0.0, ""  # the day has just begun
    elif c is not None and _ok(c):
        cost.value, cost.note = c["total_cny"], ""
        kwh = sum(p["kwh"] for p in c["by_period"])
        if kwh:
            cost.sub = t("cost_avg", lang, kwh=f"{kwh:,.0f}", avg=f"{c['energy_cny'] / kwh:.3f}")
    elif isinstance(c, Rejected) and c.status == 422:
        cost.note = t("no_tariff", lang)
    budget = Kpi("budget_month", None, t("budget_used", lang), note=na, digits=0)
    s = b.get("budget") if "budget" in b.futures else None
    if has.get("budgets") and s is None:
        budget.note = t("no_budget", lang)
    elif s is not None and _ok(s):
        budget.value, budget.note = s["actual_pct"], ""
        if s["projected_pct"] is not None:
            budget.sub = t("budget_projected", lang, v=f"{s['projected_pct']:,.0f}")
            budget.share = s["projected_pct"] / 100.0
    return [cost, budget]


def _intensity(k: dict, lang: str) -> tuple[float | None, str, str]:
    """Carbon per unit of the main product, else per 10⁴ CNY of output, else nothing."""
    for p in k.get("by_product", []):
        if p.get("carbon_intensity_tco2_per_unit") is not None:
            return p["carbon_intensity_tco2_per_unit"], f"tCO₂/{p['unit']}", p["product"]
    v = k.get("carbon_intensity_tco2_per_10k_cny")
    if v is not None:
        return v, "tCO₂/10⁴ CNY", ""
    return None, "", t("no_production", lang)


# -- meters: drill-down and the meter page -----------------------------------------------


def auto_resolution(start: datetime, end: datetime) -> str:
    """The finest rollup that keeps a chart under a few thousand points."""
    span = (end - start).total_seconds()
    for res, limit in (("1m", 2 * 86400), ("15m", 31 * 86400), ("1h", 120 * 86400)):
        if span <= limit:
            return res
    return "1d"


def meter_timezone(api: ApiClient, code: str) -> str:
    """Timezone of the site a meter is installed in (its days and clock)."""
    try:
        site = next((m["site"] for m in api.meters() if m["code"] == code), None)
        zone = next((s["timezone"] for s in api.sites() if s["code"] == site), None)
        return zone or data.default_tz()
    except ApiError:
        return data.default_tz()


@dataclass
class MeterSnapshot:
    reachable: bool
    meter: dict | None = None
    site_name: str = ""
    tz: str = field(default_factory=data.default_tz)
    children: list[dict] = field(default_factory=list)
    rollup: pd.DataFrame | None = None
    raw: pd.DataFrame | None = None
    resolution: str = ""
    unit: str = ""
    end: datetime | None = None
    error: str = ""


def meter_table(snap: MeterSnapshot) -> pd.DataFrame:
    """The meter's buckets for export: local start with the zone in the header, units in the
    headers (energy per bucket and mean power for energy meters; mean, min and max for
    gauges), the readings per bucket and whether the bucket is complete; values rounded by
    :func:`core.exports.round_figure`."""
    df = snap.rollup if snap.rollup is not None else pd.DataFrame({"ts": []})
    unit = snap.unit
    gauge = snap.meter is not None and snap.meter["kind"] == "gauge"
    out = pd.DataFrame(
        {
            f"period_start ({snap.tz})": pd.to_datetime(df["ts"], utc=True)
            .dt.tz_convert(snap.tz)
            .dt.strftime("%Y-%m-%d %H:%M:%S %z")
        }
    )

    def rounded(col: str, u: str) -> pd.Series:
        return df[col].map(lambda v: None if pd.isna(v) else round_figure(float(v), u))

    if "value" in df.columns:
        if gauge:
            out[f"mean_{unit}"] = rounded("value", unit)
            for col in ("min", "max"):
                if col in df.columns:
                    out[f"{col}_{unit}"] = rounded(col, unit)
        else:
            out[f"energy_{unit}_per_bucket"] = rounded("value", unit)
            hours = data.BUCKET_S.get(snap.resolution, 0) / 3600.0
            if unit == "kWh" and hours:
                out["mean_power_kW"] = (df["value"] / hours).map(
                    lambda v: None if pd.isna(v) else round_figure(float(v), "kW")
                )
    if "n" in df.columns:
        out["readings"] = df["n"]
    if "complete" in df.columns:
        out["complete"] = df["complete"]
    return out


def meter_snapshot(
    api: ApiClient, code: str, start: datetime, end: datetime, resolution: str, with_raw: bool
) -> MeterSnapshot:
    try:
        meters = api.meters()
        sites = api.sites()
    except Unreachable:
        return MeterSnapshot(reachable=False)
    except ApiError as exc:
        return MeterSnapshot(reachable=True, error=exc.detail)
    by_code = {m["code"]: m for m in meters}
    if code not in by_code:
        return MeterSnapshot(reachable=True, error="unknown")
    snap = MeterSnapshot(
        reachable=True, meter=by_code[code], children=[m for m in meters if m["parent"] == code]
    )
    site = next((s for s in sites if s["code"] == by_code[code]["site"]), None)
    if site is not None:
        snap.site_name, snap.tz = site["name"], site.get("timezone") or snap.tz
    snap.resolution = auto_resolution(start, end) if resolution == "auto" else resolution
    b = _Batch(api)
    b.add("rollup", api.series, code, start, end, snap.resolution)
    raw_ok = with_raw and snap.resolution != "raw" and (end - start) <= timedelta(days=3)
    if raw_ok:
        b.add("raw", api.series, code, start, end, "raw")
    roll = b.get("rollup")
    if isinstance(roll, Unreachable):
        snap.reachable = False
        return snap
    if isinstance(roll, ApiError):
        snap.error = roll.detail
        return snap
    snap.unit = roll["unit"]
    snap.rollup = data.series_frame(roll)
    snap.end = end
    if snap.resolution in data.BUCKET_S and not snap.rollup.empty:
        width = timedelta(seconds=data.BUCKET_S[snap.resolution])
        # a bucket that ends after the period asked for (the one in progress) is partial
        snap.rollup["complete"] = snap.rollup["ts"] + width <= pd.Timestamp(end)
    if raw_ok and _ok(raw := b.get("raw")):
        snap.raw = data.series_frame(raw)
    return snap


# -- the manager's view ------------------------------------------------------------------

PERIODS = ("day", "week", "month", "year")


def period_bounds(period: str, day: date, tz: str) -> tuple[datetime, datetime, str]:
    """``(start, end, bucket)`` of the period holding ``day`` in the site's timezone;
    bucket is the chart's bar: ``1h`` for a day, ``1d`` for a week or month, ``month``."""
    if period == "day":
        lo, hi, bucket = day, day + timedelta(days=1), "1h"
    elif period == "week":
        lo = day - timedelta(days=day.weekday())
        hi, bucket = lo + timedelta(days=7), "1d"
    elif period == "month":
        lo = day.replace(day=1)
        hi, bucket = (lo + timedelta(days=32)).replace(day=1), "1d"
    else:
        lo, hi, bucket = date(day.year, 1, 1), date(day.year + 1, 1, 1), "month"
    z = ZoneInfo(tz)
    return (
        datetime.combine(lo, time(), z).astimezone(UTC),
        datetime.combine(hi, time(), z).astimezone(UTC),
        bucket,
    )


@dataclass
class ManagerSnapshot:
    reachable: bool
    site: str | None = None
    tz: str = field(default_factory=data.default_tz)
    start: datetime | None = None
    end: datetime | None = None
    by_bucket: pd.DataFrame | None = None  # ts, electricity_kwh, energy_tce, co2_t
    kpis: pd.DataFrame | None = None  # metric, value, unit, mom_pct, yoy_pct
    scopes: pd.DataFrame | None = None  # scope, tco2
    top: pd.DataFrame | None = None  # meter, name, kwh
    trend: pd.DataFrame | None = None  # month, metric columns
    carbon_note: str = ""
    compared: str = ""  # what the MoM and YoY columns compare (from the KPI answer)
    error: str = ""


def manager_snapshot(
    api: ApiClient, site: str | None, period: str, day: date, lang: str
) -> ManagerSnapshot:
    try:
        sites, meters = api.sites(), api.meters()
        site = site or data.default_site(sites, meters)
        if site is None:
            return ManagerSnapshot(reachable=True)
        has_em, has_kpi, has_cs, has_cost = (
            api.has("/carbon/emissions"),
            api.has("/kpis/intensity"),
            api.has("/carbon/series"),
            api.has("/costs"),
        )
    except Unreachable:
        return ManagerSnapshot(reachable=False)
    except ApiError as exc:
        return ManagerSnapshot(reachable=True, error=exc.detail)
    sc = data.scope(sites, meters, site)
    start, end, bucket = period_bounds(period, day, sc.tz)
    now = datetime.now(UTC)
    end_eff = min(end, floor(now, ALIGN)) if end > now else end
    if end_eff <= start:
        end_eff = start + ALIGN
    res = "1h" if bucket == "1h" else "1d"
    b = _Batch(api)
    b.add("load", api.load, site, start, end_eff, res)
    b.add("totals", api.totals, site, start, end_eff)
    if has_cs:
        b.add(
            "cs",
            api.cached,
            ("carbon_series", site, start, end_eff, res),
            300.0,
            lambda: api.carbon_series(site, start, end_eff, res),
        )
    if has_em:
        b.add(
            "em",
            api.cached,
            ("emissions", site, start, end_eff),
            300.0,
            lambda: api.emissions(site, start, end_eff),
        )
    if has_cost:
        b.add(
            "cost",
            api.cached,
            ("cost", site, start, end_eff),
            300.0,
            lambda: api.costs(site, start, end_eff),
        )
    if has_kpi:
        kpi_period = "month" if period == "week" else period
        b.add(
            "kpi",
            api.cached,
            ("intensity", site, kpi_period, day),
            300.0,
            lambda: api.intensity(site, kpi_period, day),
        )
        months = _last_months(day, 12)
        for m in months:
            b.add(
                f"k:{m}",
                api.cached,
                ("intensity", site, "month", m),
                600.0,
                lambda m=m: api.intensity(site, "month", m),
            )
    tot = b.get("totals")
    if isinstance(tot, Unreachable):
        return ManagerSnapshot(reachable=False, site=site)
    snap = ManagerSnapshot(reachable=True, site=site, tz=sc.tz, start=start, end=end)
    load = b.get("load")
    kwh = data.load_frame(load if _ok(load) else {}, complete_only=False)
    frame = pd.DataFrame(
        {"ts": kwh["ts"], "electricity_kwh": kwh["consumption_kwh"], "complete": kwh["complete"]}
    )
    cs = b.get("cs") if has_cs else None
    if cs is not None and _ok(cs) and cs.get("points"):
        c = pd.DataFrame(cs["points"])
        c["ts"] = pd.to_datetime(c["ts"], utc=True, format="ISO8601")
        frame = frame.merge(
            c[["ts", "tce", "co2_t"]].rename(columns={"tce": "energy_tce"}), on="ts", how="outer"
        )
    else:
        snap.carbon_note = t("carbon_na", lang)
        frame["energy_tce"], frame["co2_t"] = float("nan"), float("nan")
    frame = frame.sort_values("ts").reset_index(drop=True)
    frame["complete"] = frame["complete"].astype("boolean").fillna(True).astype(bool)
    if bucket == "month":
        local = frame["ts"].dt.tz_convert(sc.tz)
        frame = (
            frame.groupby(local.dt.strftime("%Y-%m"))
            .agg(
                electricity_kwh=("electricity_kwh", "sum"),
                energy_tce=("energy_tce", "sum"),
                co2_t=("co2_t", "sum"),
                complete=("complete", "all"),
            )
            .reset_index(names="ts")
        )
        months = [
            m.strftime("%Y-%m")
            for m in _last_months(end.astimezone(ZoneInfo(sc.tz)).date() - timedelta(days=1), 12)
        ]
        frame = frame.set_index("ts").reindex(months).reset_index(names="ts")
    frame["complete"] = frame["complete"].astype("boolean").fillna(True).astype(bool)
    cost = b.get("cost") if has_cost else None
    cost = cost if cost is not None and _ok(cost) else None
    frame["cost_cny"] = float("nan")
    if cost is not None and bucket != "1h" and not frame.empty:  # per local day or month
        per_day = pd.Series({d["date"]: d["energy_cny"] for d in cost["by_day"]}, dtype=float)
        if bucket == "month":
            per_month = per_day.groupby(per_day.index.str[:7]).sum()
            frame["cost_cny"] = frame["ts"].map(per_month)
        else:
            day_of = frame["ts"].dt.tz_convert(sc.tz).dt.strftime("%Y-%m-%d")
            frame["cost_cny"] = day_of.map(per_day)
    snap.by_bucket = frame
    if _ok(tot):
        snap.top = _top_consumers(sc, tot, lang)
    em = b.get("em") if has_em else None
    if em is not None and _ok(em):
        snap.scopes = pd.DataFrame(
            {
                "scope": [t("scope1", lang), t("scope2_location", lang), t("scope2_market", lang)],
                "tco2": [em["scope1_tco2e"], em["scope2_location_tco2"], em["scope2_market_tco2"]],
            }
        )
    k = b.get("kpi") if has_kpi else None
    if k is not None and _ok(k):
        snap.compared = compared_text(k, sc.tz, lang)
    snap.kpis = _kpi_table(
        k if k is not None and _ok(k) else None,
        em if em is not None and _ok(em) else None,
        kwh_total=float(frame["electricity_kwh"].sum()),
        lang=lang,
        cost_cny=None if cost is None else cost["total_cny"],
    )
    if has_kpi:
        rows = [
            (m.strftime("%Y-%m"), r) for m in _last_months(day, 12) if _ok(r := b.get(f"k:{m}"))
        ]
        snap.trend = pd.DataFrame(
            [
                {
                    "month": m,
                    "energy_tce": r.get("energy_tce"),
                    "carbon_tco2e": r.get("carbon_tco2e"),
                    "carbon_intensity": _intensity(r, lang)[0],
                    "intensity_unit": _intensity(r, lang)[1],
                    "energy_intensity": _energy_intensity(r)[0],
                    "energy_intensity_unit": _energy_intensity(r)[1],
                    "renewable_pct": None
                    if r.get("renewable_electricity_share") is None
                    else r["renewable_electricity_share"] * 100,
                    "green_pct": None
                    if r.get("green_power_share") is None
                    else r["green_power_share"] * 100,
                }
                for m, r in rows
            ]
        )
    return snap


def _energy_intensity(k: dict) -> tuple[float | None, str]:
    """Energy per unit of the main product, else per 10⁴ CNY of output, else nothing."""
    for p in k.get("by_product", []):
        if p.get("energy_intensity_tce_per_unit") is not None:
            return p["energy_intensity_tce_per_unit"], f"tce/{p['unit']}"
    v = k.get("energy_intensity_tce_per_10k_cny")
    return (v, "tce/10⁴ CNY") if v is not None else (None, "")


def _span(window: list[str], tz: str) -> str:
    """``2025-12-01 00:00 – 12-04 10:15`` in the site's local time."""
    lo, hi = (datetime.fromisoformat(x).astimezone(ZoneInfo(tz)) for x in window)
    same_year = lo.year == hi.year
    return f"{lo:%Y-%m-%d %H:%M} – {hi.strftime('%m-%d %H:%M' if same_year else '%Y-%m-%d %H:%M')}"


def compared_text(k: dict, tz: str, lang: str) -> str:
    """What the MoM and YoY changes of a ``/kpis/intensity`` answer compare, in words."""
    parts = []
    for key in ("mom", "yoy"):
        c = (k.get(key) or {}).get("compared")
        if not c:
            continue
        parts.append(
            t(
                "compared_line",
                lang,
                what=t(key, lang),
                cur=_span(c["current"], tz),
                prev=_span(c["previous"], tz),
                basis=t(f"basis_{c['basis']}", lang),
            )
        )
    return " · ".join(parts)


def _last_months(day: date, n: int) -> list[date]:
    first = day.replace(day=1)
    out = []
    for i in range(n - 1, -1, -1):
        m = first.year * 12 + first.month - 1 - i
        out.append(date(m // 12, m % 12 + 1, 1))
    return out


def _top_consumers(sc: data.Scope, tot: dict, lang: str, n: int = 10) -> pd.DataFrame:
    """Electricity meters with no sub-meters (the real consumers), largest first: counted or
    not (a workshop whose feeder has no sub-meters is its own top consumer); generation and
    export have their own carriers."""
    parents = {m["parent"] for m in sc.meters.values()}
    rows = [
        {
            "meter": m["meter"],
            "name": data.local_name(sc.meters[m["meter"]]["name"], lang),
            "kwh": m["total"],
        }
        for m in tot["meters"]
        if m["carrier"] == "electricity"
        and m["unit"] == "kWh"
        and m["meter"] not in parents
        and m["meter"] in sc.meters
    ]
    df = pd.DataFrame(rows, columns=["meter", "name", "kwh"])
    return df.sort_values("kwh", ascending=False).head(n).reset_index(drop=True)


_KPI_ROWS = (
    ("energy_tce", "energy_tce", "tce"),
    ("carbon_tco2e", "co2_t", "tCO₂e"),
    ("renewable_electricity_share", "renewable_share", "%"),
    ("green_power_share", "green_share", "%"),
)


def _kpi_table(
    k: dict | None, em: dict | None, kwh_total: float, lang: str, cost_cny: float | None = None
) -> pd.DataFrame:
    def change(key: str, name: str) -> float | None:
        return None if k is None else ((k.get(key) or {}).get(name) or {}).get("change_pct")

    rows = [
        {
            "metric": t("electricity_kwh", lang),
            "value": kwh_total,
            "unit": "kWh",
            "mom_pct": change("mom", "electricity_kwh"),
            "yoy_pct": change("yoy", "electricity_kwh"),
        },
        {
            "metric": t("cost_cny_q", lang),
            "value": cost_cny,
            "unit": "CNY",
            "mom_pct": None,
            "yoy_pct": None,
        },
    ]
    for name, text, unit in _KPI_ROWS:
        value, mom, yoy = None, None, None
        if k is not None:
            value = k.get(name)
            mom = ((k.get("mom") or {}).get(name) or {}).get("change_pct")
            yoy = ((k.get("yoy") or {}).get(name) or {}).get("change_pct")
        elif em is not None and name == "energy_tce":
            value = em["energy_tce"]
        elif em is not None and name == "carbon_tco2e":
            value = em["total_location_tco2e"]
        if unit == "%" and value is not None:
            value *= 100
        rows.append(
            {"metric": t(text, lang), "value": value, "unit": unit, "mom_pct": mom, "yoy_pct": yoy}
        )
    if k is not None:
        v, unit, _ = _intensity(k, lang)
        yoy = (k.get("yoy") or {}).get("carbon_intensity_tco2_per_10k_cny") or {}
        rows.append(
            {
                "metric": t("carbon_intensity", lang),
                "value": v,
                "unit": unit,
                "mom_pct": None,
                "yoy_pct": yoy.get("change_pct")
                if v is not None and unit.endswith("CNY")
                else None,
            }
        )
    return pd.DataFrame(rows)


# -- alarms (engineer) -------------------------------------------------------------------


@dataclass
class AlarmsSnapshot:
    reachable: bool
    available: bool = False
    rows: list[dict] = field(default_factory=list)
    rules_available: bool = False
    rules: list[dict] = field(default_factory=list)
    actions: tuple[str, ...] = ()  # POST /alarms/{id}/<action> the service offers


ALARM_ACTIONS = ("ack", "shelve", "unshelve", "comment", "out-of-service", "return-to-service")


def alarms_snapshot(api: ApiClient, state: str) -> AlarmsSnapshot:
    """The alarms in ``state`` and the configured rules, where the alarm service exists."""
    try:
        snap = AlarmsSnapshot(
            reachable=True,
            available=api.has("/alarms"),
            rules_available=api.has("/alarm-rules", "post"),
        )
        if snap.available:
            snap.rows = data.alarm_rows(api.alarms(state))
            snap.actions = tuple(a for a in ALARM_ACTIONS if api.has(f"/alarms/{{}}/{a}", "post"))
        if api.has("/alarm-rules"):
            rules = api.alarm_rules()
            snap.rules = rules if isinstance(rules, list) else data._points(rules)
        return snap
    except Unreachable:
        return AlarmsSnapshot(reachable=False)
    except (NotAvailable, Rejected):
        return AlarmsSnapshot(reachable=True)


def alarm_action(
    api: ApiClient, ids: list[str], action: str, comment: str, shelve_minutes: int | None, lang: str
) -> str:
    """Apply ``action`` to each selected alarm; the text to show (the API's message when it
    refuses, e.g. acknowledging an alarm that is not active)."""
    if not ids:
        return t("select_alarm", lang)
    shelve_s = (shelve_minutes or 60) * 60.0 if action == "shelve" else None
    try:
        for alarm_id in ids:
            api.alarm_action(alarm_id, action, comment or None, shelve_s)
    except Rejected as exc:
        return t("forbidden", lang) if exc.status == 403 else exc.detail
    except NotAvailable:
        return t("not_available", lang)
    except Unreachable:
        return t("reconnecting", lang)
    return t("done", lang)


def create_rule(api: ApiClient, body: dict, lang: str) -> tuple[bool, str]:
    """POST the rule; ``(ok, message)`` with the API's validation message on 422."""
    try:
        api.create_rule({k: v for k, v in body.items() if v not in (None, "")})
    except Rejected as exc:
        return False, t("forbidden", lang) if exc.status == 403 else exc.detail
    except NotAvailable:
        return False, t("not_available", lang)
    except Unreachable:
        return False, t("reconnecting", lang)
    return True, t("rule_created", lang)


def manager_table(snap: ManagerSnapshot, lang: str) -> pd.DataFrame:
    """Everything the manager's page shows, one row per figure: the buckets of the chart, the
    key figures with their MoM / YoY changes and what they compare, scopes, top consumers and
    the 12-month trend; times in the site's local time with the zone, units in a column,
    values rounded by :func:`core.exports.round_figure`."""
    tz = ZoneInfo(snap.tz)
    rows: list[dict] = []

    def add(section: str, item: str, when: str, value: Any, unit: str, **extra: Any) -> None:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            value = None
        rows.append(
            {
                "section": t(section, lang),
                "item": item,
                f"period_start ({snap.tz})": when,
                "value": None if value is None else round_figure(float(value), unit),
                "unit": unit,
                "mom_change_%": extra.get("mom"),
                "yoy_change_%": extra.get("yoy"),
                "compared": extra.get("compared", ""),
            }
        )

    if snap.by_bucket is not None:
        for r in snap.by_bucket.itertuples(index=False):
            ts = r.ts
            when = (
                ts.tz_convert(tz).strftime("%Y-%m-%d %H:%M %z")
                if isinstance(ts, pd.Timestamp)
                else str(ts)
            )
            for col, name, unit in (
                ("electricity_kwh", "electricity_kwh", "kWh"),
                ("energy_tce", "energy_tce", "tce"),
                ("co2_t", "co2_t", "tCO₂e"),
                ("cost_cny", "cost_cny_q", "CNY"),
            ):
                add("by_period", t(name, lang), when, getattr(r, col), unit)
    if snap.kpis is not None:
        for r in snap.kpis.itertuples(index=False):
            add(
                "kpi_table",
                r.metric,
                "",
                r.value,
                r.unit,
                mom=None if pd.isna(r.mom_pct) else round(float(r.mom_pct), 1),
                yoy=None if pd.isna(r.yoy_pct) else round(float(r.yoy_pct), 1),
                compared=snap.compared,
            )
    if snap.scopes is not None:
        for r in snap.scopes.itertuples(index=False):
            add("scopes", r.scope, "", r.tco2, "tCO₂e")
    if snap.top is not None:
        for r in snap.top.itertuples(index=False):
            add("top_consumers", f"{r.name} ({r.meter})", "", r.kwh, "kWh")
    if snap.trend is not None:
        for r in snap.trend.itertuples(index=False):
            add(
                "intensity_trend",
                t("carbon_intensity", lang),
                r.month,
                r.carbon_intensity,
                r.intensity_unit,
            )
            add(
                "intensity_trend",
                t("energy_intensity", lang),
                r.month,
                r.energy_intensity,
                r.energy_intensity_unit,
            )
            add("intensity_trend", t("renewable_share", lang), r.month, r.renewable_pct, "%")
            add("intensity_trend", t("green_share", lang), r.month, r.green_pct, "%")
    return pd.DataFrame(rows)


# -- budgets -----------------------------------------------------------------------------

BUDGET_PAGE_QUANTITIES = ("cost_cny", "electricity_kwh", "co2_t", "energy_tce")


@dataclass
class BudgetRow:
    site: str
    name: str
    budget: float
    actual: float
    projected: float
    projected_pct: float | None
    crossing_date: str | None
    light: str  # green | amber | red


@dataclass
class BudgetSnapshot:
    reachable: bool
    site: str | None = None
    status: dict | None = None  # the site's own status (with by_day)
    rows: list[BudgetRow] = field(default_factory=list)
    error: str = ""


def traffic_light(projected_pct: float | None) -> str:
    """green below 90 % projected, amber up to 100 %, red above."""
    if projected_pct is None:
        return "grey"
    return "green" if projected_pct < 90 else "amber" if projected_pct <= 100 else "red"


def budget_snapshot(
    api: ApiClient, site: str | None, quantity: str, month: str, lang: str
) -> BudgetSnapshot:
    """The month's status of a site's budget and of each workshop below it (in parallel)."""
    try:
        sites = api.sites()
    except Unreachable:
        return BudgetSnapshot(reachable=False, site=site)
    except ApiError as exc:
        return BudgetSnapshot(reachable=True, error=exc.detail)
    if site is None or site not in {s["code"] for s in sites}:
        return BudgetSnapshot(reachable=True)
    names = {s["code"]: data.local_name(s["name"], lang) for s in sites}
    children = [s["code"] for s in sites if s.get("parent") == site]
    b = _Batch(api)
    for code in (site, *children):
        b.add(code, api.budget_status, code, quantity, month)
    snap = BudgetSnapshot(reachable=True, site=site)
    for code in (site, *children):
        s = b.get(code)
        if isinstance(s, Unreachable):
            return BudgetSnapshot(reachable=False, site=site)
        if not _ok(s):
            continue
        if code == site:
            snap.status = s
        snap.rows.append(
            BudgetRow(
                code,
                names[code],
                s["budget"],
                s["actual"],
                s["projected"],
                s["projected_pct"],
                s["crossing_date"],
                traffic_light(s["projected_pct"]),
            )
        )
    return snap
