"""The dashboard's pure parts: shaping API answers (energy flow, load, alarms, forecasts),
the figure builders, number formatting, and how the API client classifies answers.

No server here: the inputs are API answers written out by hand; the browser tests
(test_dashboard_browser.py) run the same code against the real API.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import data, snapshots
from dashboard.client import ApiClient, NotAvailable, Rejected, Unreachable
from dashboard.figures import manager as manager_figs
from dashboard.figures import theme
from dashboard.figures.meter import meter_series
from dashboard.figures.wall import load_trend, sankey
from dashboard.i18n import fmt_age, fmt_num, fmt_pct, t

SITES = [
    {"code": "P", "name": "Plant 工厂", "parent": None, "timezone": "Asia/Shanghai"},
    {"code": "WA", "name": "Workshop A A车间", "parent": "P", "timezone": "Asia/Shanghai"},
    {"code": "WB", "name": "Workshop B B车间", "parent": "P", "timezone": "Asia/Shanghai"},
    {"code": "LA", "name": "Line A1", "parent": "WA", "timezone": "Asia/Shanghai"},
    {"code": "OTHER", "name": "Elsewhere", "parent": None, "timezone": "Asia/Shanghai"},
]


def _m(
    code: str,
    site: str,
    carrier: str,
    parent: str | None = None,
    kind: str = "delta",
    unit: str = "kWh",
) -> dict:
    return {
        "code": code,
        "name": f"{code} meter",
        "site": site,
        "parent": parent,
        "carrier": carrier,
        "unit": unit,
        "canonical_unit": unit,
        "kind": kind,
        "interval_s": 60,
        "multiplier": 1.0,
        "rollover": None,
    }


METERS = [
    _m("IN", "P", "electricity", kind="counter"),
    _m("TX", "P", "electricity", "IN"),
    _m("FA", "WA", "electricity", "TX"),
    _m("FA1", "LA", "electricity", "FA"),
    _m("FB", "WB", "electricity", "TX"),
    _m("PV", "P", "pv_generation"),
    _m("EX", "P", "grid_export"),
    _m("KW", "P", "electricity", kind="gauge", unit="kW"),
    _m("GAS", "P", "natural_gas", unit="m3"),
    _m("GA", "WA", "natural_gas", "GAS", unit="m3"),
    _m("ST", "WB", "steam", unit="t"),
    _m("WATER", "P", "water", unit="m3"),
    _m("FAR", "OTHER", "electricity"),
]
TOTALS = {
    "IN": 1000.0,
    "TX": 1050.0,
    "FA": 600.0,
    "FA1": 500.0,
    "FB": 400.0,
    "PV": 100.0,
    "EX": 20.0,
    "GAS": 50.0,
    "GA": 45.0,
    "ST": 2.0,
    "WATER": 9.0,
    "FAR": 7.0,
}


@pytest.fixture
def sc() -> data.Scope:
    return data.scope(SITES, METERS, "P")


# -- scope, load and energy -----------------------------------------------------------------


def test_scope_holds_the_subtree() -> None:
    sc = data.scope(SITES, METERS, "P")
    assert set(sc.sites) == {"P", "WA", "WB", "LA"}
    assert "FAR" not in sc.meters and "FA1" in sc.meters
    assert data.default_site(SITES, METERS) == "P"  # the root with the most meters


def test_meter_totals_add_adjacent_periods() -> None:
    merged = data.meter_totals(
        {"meters": [{"meter": "IN", "total": 1.5}]},
        {"meters": [{"meter": "IN", "total": 2.0}, {"meter": "PV", "total": 1.0}]},
    )
    assert merged == {"IN": 3.5, "PV": 1.0}


def _load_answer(t0: datetime) -> dict:
    """A ``/sites/{code}/load`` answer: three 15-minute buckets, the last one partial."""

    def point(i: int, grid: float, gen: float, export: float, complete: bool) -> dict:
        cons = grid + gen - export
        return {
            "ts": (t0 + timedelta(minutes=15 * i)).isoformat(),
            "grid": grid,
            "generation": gen,
            "export": export,
            "consumption": cons,
            "load_kw": cons * 4,
            "complete": complete,
        }

    return {
        "site": "P",
        "resolution": "15m",
        "unit": "kWh",
        "meters": {"grid": ["IN"], "generation": ["PV"], "export": ["EX"]},
        "points": [
            point(0, 250, 50, 25, True),
            point(1, 250, 50, 25, True),
            point(2, 9, 1, 0, False),
        ],
        "totals": {"grid": 509, "generation": 101, "export": 50, "consumption": 560, "load_kw": 1},
        "now": {"ts": (t0 + timedelta(minutes=40)).isoformat(), "load_kw": 720.0, "window_s": 300},
    }


def test_load_frame_draws_the_api_load_and_drops_the_partial_bucket(sc: data.Scope) -> None:
    t0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    answer = _load_answer(t0)
    df = data.load_frame(answer)
    assert list(df["load_kw"]) == [pytest.approx(1100.0)] * 2  # (250+50−25) kWh / 0.25 h
    assert list(df["gen_kw"]) == [pytest.approx(200.0)] * 2
    assert list(df["ts"]) == [pd.Timestamp(t0), pd.Timestamp(t0 + timedelta(minutes=15))]
    every = data.load_frame(answer, complete_only=False)
    assert list(every["consumption_kwh"]) == [275.0, 275.0, 10.0]  # the manager's kWh bars
    assert data.load_frame({}).empty
    assert data.load_now(answer) == (720.0, t0 + timedelta(minutes=40))
    assert data.load_now({"now": None}) == (None, None)
    assert data.consumption_kwh(answer) == 560.0
    assert data.load_interval_s(sc, answer) == 60  # IN, PV and EX report every minute


# -- energy flow ------------------------------------------------------------------------------


def _links(flows: data.Flows) -> dict[tuple[str, str], float]:
    return {
        (s, tg): v
        for s, tg, v in flows.links[["source", "target", "value"]].itertuples(index=False)
    }


def test_energy_flow_in_kwh_draws_unmetered_losses_as_parent_minus_children(sc: data.Scope) -> None:
    flows = data.energy_flows(sc, TOTALS, None, "en")
    assert flows.unit == "kWh"
    links = _links(flows)
    # grid and PV into the electricity bus, export out of it
    assert links[("src:IN", "bus:electricity")] == 1000.0
    assert links[("src:PV", "bus:electricity")] == 100.0
    assert links[("bus:electricity", "export")] == 20.0
    # bus → transformer; the bus remainder (1000 + 100 − 20 − 1050) is a loss
    assert links[("bus:electricity", "m:TX")] == 1050.0
    assert links[("bus:electricity", "losses")] == pytest.approx(30.0)
    # transformer → workshops (feeders, not the line below them); TX − (FA + FB) = 50
    assert links[("m:TX", "ws:WA")] == 600.0
    assert links[("m:TX", "ws:WB")] == 400.0
    assert links[("m:TX", "losses")] == pytest.approx(50.0)
    assert not any("FA1" in s or "FA1" in tg for s, tg in links)
    # no gas, steam or water without a tce conversion
    assert not any("GAS" in s or "ST" in s or "WATER" in s for s, _ in links)
    assert flows.labels["ws:WA"] == "Workshop A" and flows.labels["losses"] == "Unmetered & losses"


def test_energy_flow_in_tce_adds_gas_and_steam(sc: data.Scope) -> None:
    factors = {
        "electricity": 0.1229e-3,
        "pv_generation": 0.1229e-3,
        "grid_export": 0.1229e-3,
        "natural_gas": 1.33e-3,
        "steam": 0.1286,
    }
    flows = data.energy_flows(sc, TOTALS, factors, "zh")
    links = _links(flows)
    assert flows.unit == "tce"
    assert links[("src:GAS", "ws:WA")] == pytest.approx(45 * 1.33e-3)
    assert links[("src:GAS", "losses")] == pytest.approx(5 * 1.33e-3)
    assert links[("src:ST", "ws:WB")] == pytest.approx(2 * 0.1286)  # straight into a workshop
    assert flows.labels["ws:WB"] == "B车间"
    assert flows.columns["src:GAS"] == 0 and flows.columns["ws:WB"] == 3
    assert set(flows.links["kind"]) == {"supply", "feed", "loss", "export"}


def test_tce_factors_come_from_the_carbon_answer() -> None:
    em = {
        "by_carrier": [
            {"carrier": "electricity", "quantity": 1000.0, "tce": 0.1229},
            {"carrier": "grid_export", "quantity": 0.0, "tce": 0.0},
        ]
    }
    assert data.tce_factors(em) == {"electricity": pytest.approx(0.1229e-3)}


def test_local_name_picks_the_language_half() -> None:
    assert data.local_name("Transformer T1 5 MVA 1#变压器", "en") == "Transformer T1 5 MVA"
    assert data.local_name("Transformer T1 5 MVA 1#变压器", "zh") == "1#变压器"
    assert data.local_name("Plain name", "zh") == "Plain name"


# -- other services' answers --------------------------------------------------------------


def test_the_alarm_banner_names_the_priority_in_the_wall_s_language() -> None:
    """A 中文 wall says 高 where an English one says HIGH; an unknown word stays as sent."""
    from dashboard.components import alarm_banner

    alarm = {"priority": "high", "subject": "FA", "message": "above limit", "since": "08:00"}
    alarm["acknowledged"] = False
    assert alarm_banner([alarm], "en")[0].children[0].children == "HIGH"
    chip = alarm_banner([alarm], "zh")[0]
    assert chip.children[0].children == "高" and "above limit" in chip.children[1]
    assert chip.className == "alarm-chip p-high blink"
    odd = {**alarm, "priority": "urgent", "acknowledged": True}
    assert alarm_banner([odd], "zh")[0].children[0].children == "URGENT"


def test_alarm_rows_sort_by_priority_and_know_unacknowledged() -> None:
    rows = data.alarm_rows(
        [
            {
                "id": 1,
                "priority": "low",
                "state": "active_acknowledged",
                "meter": "A",
                "message": "m1",
                "raised_at": "2026-01-01T00:00:00Z",
            },
            {
                "id": 2,
                "priority": "critical",
                "state": "active_unacknowledged",
                "meter": "B",
                "message": "m2",
                "raised_at": "2026-01-01T01:00:00Z",
            },
            {"id": 3, "priority": "high", "acknowledged": True, "site": "S", "rule_name": "r3"},
        ]
    )
    assert [r["id"] for r in rows] == ["2", "3", "1"]
    assert [r["acknowledged"] for r in rows] == [False, True, True]
    assert rows[1]["subject"] == "S" and rows[1]["message"] == "r3"
    assert data.alarm_rows({"items": [{"id": 9, "priority": "bogus"}]})[0]["priority"] == "low"


@pytest.mark.parametrize(
    "answer",
    [
        {
            "points": [
                {"ts": "2026-01-01T01:00:00Z", "value": 5, "lower": 4, "upper": 6},
                {"ts": "2026-01-01T00:00:00Z", "value": 3, "lower": 2, "upper": 4},
            ]
        },
        [
            {
                "points": [
                    {"ts": "2026-01-01T00:00:00Z", "yhat": 3, "yhat_lower": 2, "yhat_upper": 4},
                    {"ts": "2026-01-01T01:00:00Z", "yhat": 5, "yhat_lower": 4, "yhat_upper": 6},
                ]
            }
        ],
        {
            "site": "P",
            "target": "load",
            "unit": "kW",
            "points": [  # the forecasting service's shape
                {
                    "ts": "2026-01-01T00:00:00Z",
                    "actual": 2.5,
                    "forecast": 3,
                    "lower": 2,
                    "upper": 4,
                    "lower_50": 2.5,
                    "upper_50": 3.5,
                },
                {
                    "ts": "2026-01-01T01:00:00Z",
                    "actual": None,
                    "forecast": 5,
                    "lower": 4,
                    "upper": 6,
                    "lower_50": 4.5,
                    "upper_50": 5.5,
                },
            ],
        },
        {
            "forecast": [
                {"time": "2026-01-01T00:00:00+00:00", "p50": 3, "p05": 2, "p95": 4},
                {"time": "2026-01-01T01:00:00+00:00", "p50": 5, "p05": 4, "p95": 6},
            ]
        },
    ],
)
def test_forecast_frame_reads_the_common_shapes(answer: object) -> None:
    df = data.forecast_frame(answer)
    assert list(df["value"]) == [3, 5] and list(df["lower"]) == [2, 4]
    assert list(df["upper"]) == [4, 6] and str(df["ts"].dt.tz) == "UTC"
    assert data.forecast_frame({"points": []}) is None


def test_period_bounds_follow_the_site_calendar() -> None:
    start, end, bucket = snapshots.period_bounds("week", date(2026, 11, 19), "Asia/Shanghai")
    assert (start, end, bucket) == (
        datetime(2026, 11, 15, 16, tzinfo=UTC),
        datetime(2026, 11, 22, 16, tzinfo=UTC),
        "1d",
    )
    assert snapshots.period_bounds("year", date(2026, 3, 1), "UTC")[2] == "month"
    assert (
        snapshots.auto_resolution(
            datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
        )
        == "1m"
    )
    assert (
        snapshots.auto_resolution(
            datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
        )
        == "1h"
    )


# -- figures ------------------------------------------------------------------------------


def test_sankey_builder_marks_losses_and_puts_units_in_labels(sc: data.Scope) -> None:
    flows = data.energy_flows(sc, TOTALS, None, "en")
    fig = go.Figure(sankey(flows, 2.0))  # a plain dict that Plotly accepts
    (trace,) = fig.data
    assert isinstance(trace, go.Sankey)
    assert len(trace.link.value) == len(flows.links)
    loss_colours = {
        c for c, k in zip(trace.link.color, flows.links["kind"], strict=True) if k == "loss"
    }
    assert loss_colours == {theme.rgba(theme.LOSS, 0.55)}
    labels = list(trace.node.label)
    assert "Workshop A  600 kWh" in labels and "Grid  1,000 kWh" in labels
    assert all(0 < y < 1 for y in trace.node.y) and trace.textfont.size == 30  # scaled ×2


def test_sankey_without_flows_says_so() -> None:
    empty = data.Flows(
        links=pd.DataFrame(columns=["source", "target", "value", "carrier", "kind"]),
        labels={},
        unit="kWh",
    )
    fig = go.Figure(sankey(empty))
    assert not fig.data and fig.layout.annotations[0].text == t("no_reading", "en")


def test_load_trend_draws_band_contract_and_pv() -> None:
    ts = pd.date_range("2026-01-05", periods=4, freq="15min", tz="UTC")
    load = pd.DataFrame({"ts": ts, "load_kw": [100.0, 120, 130, 90], "gen_kw": [0, 10, 20, 0.0]})
    fc = pd.DataFrame({"ts": ts, "value": [100.0] * 4, "lower": [90.0] * 4, "upper": [110.0] * 4})
    fig = go.Figure(load_trend(load, fc, 150.0, "Asia/Shanghai", lang="zh"))
    names = [tr.name for tr in fig.data]
    assert names == [None, "预测区间", "预测", "光伏", "负荷"]
    assert fig.layout.shapes[0].y0 == 150.0
    assert "150 kW" in fig.layout.annotations[0].text
    assert pd.Timestamp(fig.data[-1].x[0]).hour == 8  # 00:00 UTC in the plant's local time
    bare = go.Figure(load_trend(load, None, None, "UTC"))
    assert [tr.name for tr in bare.data] == ["PV", "Load"] and not bare.layout.shapes


def test_meter_and_manager_builders() -> None:
    ts = pd.date_range("2026-01-05", periods=3, freq="1h", tz="UTC")
    roll = pd.DataFrame({"ts": ts, "value": [1.0, 2.0, 3.0]})
    raw = pd.DataFrame({"ts": ts, "value": [5.0, 6, 7], "energy": [1.0, 1, 1]})
    fig = meter_series(roll, raw, "kWh", "counter", "1h", "UTC")
    assert [type(tr).__name__ for tr in fig.data] == ["Bar", "Scatter"]
    assert list(fig.data[1].y) == [1.0, 1.0, 1.0]  # interval energy, not the register
    gauge = pd.DataFrame({"ts": ts, "value": [1.0, 2, 3], "min": [0.5, 1, 2], "max": [2.0, 3, 4]})
    assert len(meter_series(gauge, None, "kW", "gauge", "1h", "UTC").data) == 3
    frame = pd.DataFrame(
        {
            "ts": ts,
            "electricity_kwh": [10.0, 20, 30],
            "energy_tce": [1.0, 2, 3],
            "co2_t": [2.0, 4, 6],
        }
    )
    assert len(manager_figs.energy_carbon(frame, "UTC", "1h").data) == 3
    assert len(manager_figs.scopes(None).data) == 0
    top = pd.DataFrame({"meter": ["A", "B"], "name": ["a", "b"], "kwh": [5.0, 9.0]})
    assert list(manager_figs.top_consumers(top).data[0].y) == ["b", "a"]


def test_the_bucket_in_progress_is_marked_partial_not_drawn_as_a_cliff() -> None:
    ts = pd.date_range("2026-01-05 08:00", periods=3, freq="15min", tz="UTC")
    roll = pd.DataFrame({"ts": ts, "value": [25.0, 26.0, 3.0], "complete": [True, True, False]})
    fig = meter_series(roll, None, "kWh", "delta", "15m", "UTC")
    bars = {tr.name: tr for tr in fig.data}
    partial = bars["in progress (partial)"]
    assert list(partial.y) == [3.0] and partial.marker.pattern.shape == "/"
    assert list(bars["rolled up (15m)"].y) == [25.0, 26.0]
    assert list(partial.customdata) == [12.0]  # 3 kWh in 15 min: a mean of 12 kW
    assert fig.layout.yaxis.title.text == "kWh / 15m"
    lines = meter_series(roll, None, "kWh", "delta", "1m", "UTC")
    dotted = next(tr for tr in lines.data if tr.name == "in progress (partial)")
    assert dotted.line.dash == "dot" and list(dotted.y) == [26.0, 3.0]
    frame = pd.DataFrame(
        {
            "ts": pd.date_range("2026-01-05", periods=2, freq="1D", tz="Asia/Shanghai"),
            "electricity_kwh": [240.0, 10.0],
            "energy_tce": [1.0, 0.1],
            "co2_t": [2.0, 0.2],
            "complete": [True, False],
        }
    )
    fig = manager_figs.energy_carbon(frame, "Asia/Shanghai", "1d", lang="zh")
    names = [tr.name for tr in fig.data]
    assert "电力 kWh · 进行中（不完整）" in names
    dotted = next(tr for tr in fig.data if tr.name == "综合能耗 tce · 进行中（不完整）")
    assert dotted.line.dash == "dot" and list(dotted.y) == [1.0, 0.1]  # joined, not a cliff
    bar = fig.data[0]
    # each bar spans its own local day (start to end), not noon to noon around midnight
    assert bar.xperiod == 86_400_000 and bar.xperiodalignment == "middle"
    assert str(bar.x[0])[:19] == "2026-01-05T00:00:00"  # local midnight, no UTC shift
    assert fig.layout.xaxis.tickformat == "%-m月%-d日"


def test_meter_export_has_local_times_units_and_rounding() -> None:
    ts = pd.date_range("2026-01-05 16:00", periods=2, freq="15min", tz="UTC")
    snap = snapshots.MeterSnapshot(
        reachable=True,
        meter={"kind": "delta", "unit": "kWh", "canonical_unit": "kWh"},
        tz="Asia/Shanghai",
        rollup=pd.DataFrame(
            {"ts": ts, "value": [25.123456789, 3.3], "n": [15, 2], "complete": [True, False]}
        ),
        resolution="15m",
        unit="kWh",
    )
    out = snapshots.meter_table(snap)
    assert list(out.columns) == [
        "period_start (Asia/Shanghai)",
        "energy_kWh_per_bucket",
        "mean_power_kW",
        "readings",
        "complete",
    ]
    row = out.iloc[0]
    assert row["period_start (Asia/Shanghai)"] == "2026-01-06 00:00:00 +0800"
    assert row["energy_kWh_per_bucket"] == 25.1235  # 6 significant digits
    assert row["mean_power_kW"] == 100.494  # 25.123456789 × 4
    assert list(out["complete"]) == [True, False]


# -- formatting ----------------------------------------------------------------------------


def test_numbers_have_thousands_separators_and_units() -> None:
    assert fmt_num(1234567.891, "kWh") == "1,234,568 kWh"
    assert fmt_num(12.3456, "tce") == "12.3 tce"
    assert fmt_num(0.01234, "tCO₂") == "0.012 tCO₂"
    assert fmt_num(-0.0001, "kW", 1) == "0.0 kW"
    assert fmt_num(None, "kW") == "—"
    assert fmt_pct(0.4567) == "45.7 %"
    assert fmt_age(3.2, "en") == "3 s" and fmt_age(7300, "zh") == "2 小时"


# -- the API client's three kinds of failure ----------------------------------------------


def _client(handler) -> ApiClient:  # noqa: ANN001
    return ApiClient("http://api.test", "k", transport=httpx.MockTransport(handler))


def test_client_classifies_answers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        assert request.headers["authorization"] == "Bearer k"
        if path == "/openapi.json":
            return httpx.Response(
                200,
                json={
                    "paths": {
                        "/api/v1/alarms/{alarm_id}/shelve": {
                            "post": {
                                "requestBody": {
                                    "content": {
                                        "application/json": {
                                            "schema": {"$ref": "#/components/schemas/S"}
                                        }
                                    }
                                }
                            }
                        }
                    },
                    "components": {"schemas": {"S": {"properties": {"until": {}, "comment": {}}}}},
                },
            )
        if path == "/api/v1/missing":
            return httpx.Response(404, json={"detail": "Not Found"})
        if path == "/api/v1/meters/X/series":
            return httpx.Response(404, json={"detail": "meter: unknown meter 'X'"})
        if path == "/api/v1/bad":
            return httpx.Response(
                422, json={"detail": [{"loc": ["body", "high"], "msg": "must be above low"}]}
            )
        if path == "/api/v1/alarms/7/shelve":
            return httpx.Response(200, json=dict(__import__("json").loads(request.content)))
        return httpx.Response(503, json={"detail": "busy"})

    api = _client(handler)
    with pytest.raises(NotAvailable):
        api.get("/api/v1/missing")
    with pytest.raises(Rejected, match="unknown meter"):
        api.series("X", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), "1h")
    with pytest.raises(Rejected) as exc:
        api.post("/api/v1/bad", {})
    assert exc.value.detail == "high: must be above low"
    with pytest.raises(Unreachable):
        api.get("/api/v1/other")
    assert api.has("/alarms/{}/shelve", "post") and not api.has("/alarms")
    sent = api.alarm_action("7", "shelve", "c", 3600.0)
    assert set(sent) == {"comment", "until"}  # only the fields the alarm service declares
    assert datetime.fromisoformat(sent["until"]) > datetime.now(UTC) + timedelta(minutes=59)


def test_client_cache_serves_stale_while_refreshing() -> None:
    calls = []

    def fetch() -> int:
        calls.append(1)
        return len(calls)

    api = _client(lambda r: httpx.Response(200, json={}))
    assert api.cached(("k",), 0.0, fetch) == 1  # first call waits
    assert api.cached(("k",), 0.0, fetch) == 1  # expired: the old value, refresh behind
    api.pool.shutdown(wait=True)
    assert api.cached(("k",), 60.0, fetch) == 2


def test_unreachable_api_gives_a_snapshot_not_an_exception() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    snap = snapshots.wall_snapshot(_client(down), None, "en")
    assert snap.reachable is False
    assert snapshots.alarms_snapshot(_client(down), "active").reachable is False
    assert (
        snapshots.manager_snapshot(_client(down), None, "month", date(2026, 1, 1), "en").reachable
        is False
    )


def test_a_refused_key_is_said_not_raised() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": "invalid or revoked API key"})

    snap = snapshots.wall_snapshot(_client(refused), None, "en")
    assert snap.reachable and snap.site is None and snap.error == "invalid or revoked API key"
    assert (
        snapshots.manager_snapshot(_client(refused), None, "day", date(2026, 1, 1), "en").error
        == "invalid or revoked API key"
    )


def test_wall_today_starts_at_the_sites_own_midnight() -> None:
    """The wall's "today" is the site's local day: the zone comes from the API's site, not from
    the dashboard's settings. 05:00 UTC is 10:30 in Kolkata: today began at 18:30 UTC."""
    now = datetime(2026, 3, 11, 5, 0, tzinfo=UTC)
    asked: list[tuple[str, datetime]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/sites":
            site = {"code": "KOL", "name": "Pune", "parent": None, "timezone": "Asia/Kolkata"}
            return httpx.Response(200, json=[{**site, "region": None}])
        if path == "/api/v1/meters":
            return httpx.Response(200, json=[_m("K-GRID", "KOL", "electricity")])
        if path == "/api/v1/sites/KOL/totals":
            start = datetime.fromisoformat(request.url.params["start"])
            asked.append(("totals", start))
            return httpx.Response(200, json={"site": "KOL", "carriers": [], "meters": []})
        if path == "/api/v1/sites/KOL/load":
            start = datetime.fromisoformat(request.url.params["start"])
            asked.append(("load", start))
            return httpx.Response(200, json=_load_answer(start))
        if path.endswith("/series"):
            return httpx.Response(
                200, json={"meter": "K-GRID", "unit": "kWh", "kind": "delta", "points": []}
            )
        return httpx.Response(404, json={"detail": "Not Found"})

    snap = snapshots.wall_snapshot(_client(handler), None, "en", now=now)
    assert snap.reachable and snap.site == "KOL" and snap.tz == "Asia/Kolkata"
    starts = sorted({s for _, s in asked})
    today = datetime(2026, 3, 10, 18, 30, tzinfo=UTC)
    assert today in starts  # energy today: since the site's midnight
    assert today - timedelta(days=1) in starts  # yesterday, for the trend arrows
    assert snapshots.local_midnight(now, "Asia/Seoul") == datetime(2026, 3, 10, 15, tzinfo=UTC)


def test_wall_compares_yesterday_up_to_the_same_time_and_shows_energy_in_tce() -> None:
    """At 00:30 in Shanghai (16:30 UTC the day before) the wall asks for yesterday 00:00–00:30
    (not the whole day), cuts the day's KPIs at the same instant, shows total energy in tce
    with electricity in kWh labelled as such, and the solar share's change in points from the
    KPI answer's same-elapsed comparison (constant share: 0 pp)."""
    now = datetime(2025, 12, 3, 16, 30, tzinfo=UTC)
    midnight = datetime(2025, 12, 3, 16, 0, tzinfo=UTC)
    asked: list[tuple[str, datetime, datetime]] = []

    def window(request: httpx.Request) -> tuple[datetime, datetime]:
        p = request.url.params
        return datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"])

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/openapi.json":
            paths = {f"/api/v1{p}": {"get": {}} for p in ("/carbon/emissions", "/kpis/intensity")}
            return httpx.Response(200, json={"paths": paths})
        if path == "/api/v1/sites":
            site = {"code": "SH", "name": "Plant", "parent": None, "timezone": "Asia/Shanghai"}
            return httpx.Response(200, json=[{**site, "region": None}])
        if path == "/api/v1/meters":
            return httpx.Response(200, json=[_m("IN", "SH", "electricity")])
        if path == "/api/v1/sites/SH/totals":
            return httpx.Response(200, json={"site": "SH", "carriers": [], "meters": []})
        if path == "/api/v1/sites/SH/load":
            asked.append(("load", *window(request)))
            return httpx.Response(200, json=_load_answer(window(request)[0]))
        if path == "/api/v1/carbon/emissions":
            lo, hi = window(request)
            asked.append(("emissions", lo, hi))
            tce = 0.5 if lo == midnight else 0.4
            return httpx.Response(200, json={"energy_tce": tce, "total_location_tco2e": 1.0})
        if path == "/api/v1/kpis/intensity":
            asked.append(("kpi", datetime.fromisoformat(request.url.params["as_of"]), now))
            share = {"previous": 0.2, "change": 0.0, "change_pct": 0.0}
            return httpx.Response(
                200,
                json={
                    "renewable_electricity_share": 0.2,
                    "green_power_share": 0.2,
                    "mom": {"renewable_electricity_share": share, "green_power_share": share},
                    "by_product": [],
                },
            )
        return httpx.Response(404, json={"detail": "Not Found"})

    snap = snapshots.wall_snapshot(_client(handler), None, "en", now=now)
    day = timedelta(days=1)
    assert ("load", midnight - day, now - day) in asked  # yesterday 00:00–00:30 local
    assert ("emissions", midnight - day, now - day) in asked
    assert ("emissions", midnight, now) in asked
    assert ("kpi", now, now) in asked  # the KPI answer is cut at the wall's now
    tiles = {k.key: k for k in snap.kpis}
    energy = tiles["energy_today"]
    assert (energy.value, energy.unit) == (0.5, "tce")
    assert energy.change_pct == pytest.approx(25.0)  # 0.5 tce against 0.4 tce
    assert energy.sub.startswith("Electricity ") and "kWh" in energy.sub
    assert tiles["renewable_share"].change_pct == pytest.approx(0.0)  # points
    assert tiles["renewable_share"].change_text == "vs yesterday"


def test_a_workshops_energy_flow_starts_at_its_own_feeders() -> None:
    """Workshop B's wall: its feeder FB (parent TX is the plant's) is named, not "Grid", and
    with no sub-meter all of it is B's own use, not "Unmetered & losses"; steam bought into
    B likewise. Workshop A: feeder FA (600) → line LA (FA1, 500), its own unmetered 100."""
    b = data.scope(SITES, METERS, "WB")
    flows = data.energy_flows(b, TOTALS, None, "en")
    assert _links(flows) == {("src:FB", "ws:WB"): 400.0}
    assert flows.labels["src:FB"] == "FB meter" and flows.labels["ws:WB"] == "Workshop B"
    assert "Grid" not in flows.labels.values() and "losses" not in flows.labels
    tce = data.energy_flows(b, TOTALS, {"electricity": 0.1229e-3, "steam": 0.1286}, "zh")
    assert _links(tce) == {
        ("src:FB", "ws:WB"): pytest.approx(400 * 0.1229e-3),
        ("src:ST", "ws:WB"): pytest.approx(2 * 0.1286),
    }
    assert tce.labels["ws:WB"] == "B车间"
    a = data.energy_flows(data.scope(SITES, METERS, "WA"), TOTALS, None, "en")
    assert _links(a) == {("src:FA", "ws:LA"): 500.0, ("src:FA", "losses"): pytest.approx(100.0)}
    assert a.labels["src:FA"] == "FA meter"
