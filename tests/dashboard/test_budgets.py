"""The cost and budget pieces of the dashboard: the wall's two tiles from API answers written
out by hand, the traffic lights and the burn-up figure (no server: the browser tests run the
same code against the real API)."""

from __future__ import annotations

from concurrent.futures import Future

from dashboard import service
from dashboard.client import Rejected
from dashboard.figures.budgets import burn_up

STATUS = {
    "budget": 4000,
    "actual": 1728,
    "forecast_rest": 2413.714,
    "projected": 4141.714,
    "actual_pct": 43.2,
    "projected_pct": 103.54,
    "crossing_date": "2026-06-30",
    "unit": "kWh",
    "by_day": [
        {"date": "2026-06-13", "actual": 192, "forecast": 0},
        {"date": "2026-06-14", "actual": 192, "forecast": 0},
        {"date": "2026-06-15", "actual": 0, "forecast": 150.857},
        {"date": "2026-06-16", "actual": 0, "forecast": 150.857},
    ],
}
COST = {
    "total_cny": 1022.4,
    "energy_cny": 1022.4,
    "demand_cny": 0,
    "power_factor_cny": 0,
    "by_period": [
        {"period": "peak", "kwh": 480, "cny": 576.0},
        {"period": "flat", "kwh": 576, "cny": 403.2},
        {"period": "valley", "kwh": 144, "cny": 43.2},
    ],
}


class _Done:
    """A batch whose calls already answered."""

    def __init__(self, answers: dict) -> None:
        self.futures = {}
        for k, v in answers.items():
            f: Future = Future()
            f.set_result(v)
            self.futures[k] = f

    def get(self, name: str):  # noqa: ANN201
        return self.futures[name].result()


def test_cost_and_budget_tiles() -> None:
    cost, budget = service._cost_kpis(
        _Done({"cost": COST, "budget": STATUS}), {"costs": True, "budgets": True}, "en"
    )
    assert (cost.key, cost.value, cost.unit) == ("cost_today", 1022.4, "CNY")
    assert cost.sub == "1,200 kWh · 0.852 CNY/kWh"
    assert (budget.key, budget.value, budget.unit) == ("budget_month", 43.2, "% used")
    assert budget.sub == "projected 104 %" and budget.share == 1.0354
    zh = service._cost_kpis(_Done({"cost": COST, "budget": STATUS}), {"costs": True}, "zh")
    assert zh[1].sub == "预计 104 %"


def test_tiles_say_what_is_missing() -> None:
    refused = Rejected("/costs", 422, "site: no tariff")
    cost, budget = service._cost_kpis(
        _Done({"cost": refused, "budget": None}), {"costs": True, "budgets": True}, "en"
    )
    assert cost.value is None and cost.note == "no tariff assigned"
    assert budget.value is None and budget.note == "no budget this year"
    cost, budget = service._cost_kpis(_Done({}), {"costs": False, "budgets": False}, "en")
    assert cost.note == budget.note == "not available"


def test_traffic_lights() -> None:
    assert [service.traffic_light(p) for p in (None, 50, 89.99, 90, 100, 100.01)] == [
        "grey",
        "green",
        "green",
        "amber",
        "amber",
        "red",
    ]


def test_burn_up_runs_the_actual_then_the_forecast_to_the_budget_line() -> None:
    fig = burn_up(STATUS)
    actual, forecast = fig.data
    assert list(actual.y) == [192, 384]
    assert list(forecast.x) == ["2026-06-14", "2026-06-15", "2026-06-16"]
    assert forecast.y[-1] == 384 + 2 * 150.857
    assert fig.layout.shapes[0].y0 == 4000
    assert burn_up(None).layout.annotations[0].text.startswith("no budget")
