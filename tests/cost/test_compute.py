"""Hand-worked bills through the API on the real PostgreSQL: a day under a three-period tariff,
a Jiangsu month (verified hours and ratios) with its demand charge and power-factor adjustment,
a maximum demand above the contracted value, and the derivation that reproduces the figures.

The readings are 15-minute interval energy stamped at the END of their interval, with
``kWh = 1 + local hour of the interval`` so that a reading on a period boundary (08:00 closes
07:45-08:00) is priced in the period before it, and a mistake there changes the sums."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cost import derivation

API = "/api/v1"
SH = ZoneInfo("Asia/Shanghai")
STEP = timedelta(minutes=15)


def _plant(client, h, uid: str, reactive: bool = False, tz: str = "Asia/Shanghai") -> dict:  # noqa: ANN001
    site = f"CP-{uid}"
    r = client.post(f"{API}/sites", json={"code": site, "name": site, "timezone": tz}, headers=h)
    assert r.status_code == 201, r.text
    out = {"site": site, "kwh": f"CP-KWH-{uid}"}
    meters = [(out["kwh"], "electricity", "kWh")]
    if reactive:
        out["kvarh"] = f"CP-KVARH-{uid}"
        meters.append((out["kvarh"], "reactive_energy", "kvarh"))
    for code, carrier, unit in meters:
        r = client.post(
            f"{API}/meters",
            headers=h,
            json={
                "code": code,
                "name": code,
                "site": site,
                "carrier": carrier,
                "unit": unit,
                "kind": "delta",
                "interval_s": 900,
            },
        )
        assert r.status_code == 201, r.text
    return out


def _readings(start: datetime, days: int) -> tuple[list[str], list[float]]:
    """Interval ends from start + 15 min to start + days; kWh = 1 + local hour of the interval
    (local to ``start``'s zone)."""
    ts, values = [], []
    for i in range(1, days * 96 + 1):
        end = start + i * STEP
        begin = (end - STEP).astimezone(start.tzinfo)
        ts.append(end.isoformat())
        values.append(float(1 + begin.hour))
    return ts, values


def _post(client, h, series: list[dict]) -> None:  # noqa: ANN001
    r = client.post(f"{API}/readings", headers=h, json={"series": series})
    assert r.status_code == 200 and not r.json()["rejected"], r.text


def _tariff(client, h, body: dict) -> dict:  # noqa: ANN001
    r = client.post(f"{API}/tariffs", headers=h, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _assign(client, h, site: str, code: str, start: str) -> None:  # noqa: ANN001
    r = client.put(f"{API}/sites/{site}/tariff", headers=h, json={"tariff": code, "from": start})
    assert r.status_code == 200, r.text


def _cost(client, h, site: str, start: datetime, end: datetime) -> dict:  # noqa: ANN001
    r = client.get(
        f"{API}/costs",
        headers=h,
        params={"site": site, "start": start.isoformat(), "end": end.isoformat()},
    )
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "Asia/Kolkata", "America/New_York"])
def test_a_day_under_a_three_period_tariff(client, admin_headers, uid, tz) -> None:  # noqa: ANN001
    """The same local day in three zones (UTC+8, +5:30, −4 in June): the periods follow the
    site's own clock, so the hand-worked bill is the same."""
    h = admin_headers
    p = _plant(client, h, uid, tz=tz)
    day = datetime(2026, 6, 10, tzinfo=ZoneInfo(tz))
    ts, values = _readings(day, 1)
    # neighbours that belong to the day before (stamped 00:00) and after (00:15 next day)
    ts = [day.isoformat(), *ts, (day + timedelta(days=1) + STEP).isoformat()]
    values = [1000.0, *values, 1000.0]
    _post(client, h, [{"meter": p["kwh"], "ts": ts, "value": values}])
    code = f"T3-{uid}"
    _tariff(
        client,
        h,
        {
            "code": code,
            "name": "three periods",
            "valid_from": "2026-01-01",
            "energy_prices": [
                {"period": "valley", "hours": ["00:00-08:00"], "price_cny_per_kwh": 0.30},
                {
                    "period": "peak",
                    "hours": ["08:00-12:00", "17:00-21:00"],
                    "price_cny_per_kwh": 1.20,
                },
                {
                    "period": "flat",
                    "hours": ["12:00-17:00", "21:00-24:00"],
                    "price_cny_per_kwh": 0.70,
                },
            ],
        },
    )
    _assign(client, h, p["site"], code, "2026-01-01")
    got = _cost(client, h, p["site"], day, day + timedelta(days=1))
    # valley h0-7: 4·(1+…+8) = 144 kWh; peak h8-11, h17-20: 4·(42+78) = 480; flat: 4·(75+69) = 576
    by = {x["period"]: (x["kwh"], x["cny"]) for x in got["by_period"]}
    assert by == {"valley": (144, 43.2), "peak": (480, 576.0), "flat": (576, 403.2)}
    assert got["energy_cny"] == 1022.4 and got["total_cny"] == 1022.4
    assert got["demand_cny"] == 0 and got["power_factor_cny"] == 0
    assert got["by_carrier"] == [
        {"carrier": "electricity", "quantity": 1200, "unit": "kWh", "cny": 1022.4}
    ]
    assert got["tariff"] == code
    # the derivation reproduces the figures and its own hash
    r = client.get(f"{API}/costs/derivations/{got['derivation_hash']}", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert derivation.content_hash(body["inputs"], body["formulas"]) == got["derivation_hash"]
    lines = body["inputs"]["energy_lines"]
    assert sum(Decimal(x["cny"]) for x in lines) == Decimal("1022.40")
    assert all(
        Decimal(x["kwh"]) * Decimal(x["price_cny_per_kwh"]) == Decimal(x["cny"]) for x in lines
    )
    # the same figures again: the same hash
    assert (
        _cost(client, h, p["site"], day, day + timedelta(days=1))["derivation_hash"]
        == (got["derivation_hash"])
    )


# Jiangsu 2025 (苏发改价格发〔2025〕426号), June: peak 14-22 ×1.80, flat 06-11, 13-14, 22-24 ×1.00,
# valley 00-06, 11-13 ×0.35 (hours and ratios verified by two copies); flat price 0.60 CNY/kWh.
# A day: valley 4·(21+12+13) = 184 kWh, flat 4·(45+14+23+24) = 424, peak 4·(15+…+22) = 592.
# June (30 days): valley 5,520 × 0.21 = 1,159.20; flat 12,720 × 0.60 = 7,632.00;
# peak 17,760 × 1.08 = 19,180.80; energy 27,972.00 CNY. Maximum demand 24 kWh/15 min = 96 kW.
ENERGY = Decimal("27972.00")


@pytest.mark.parametrize(
    ("contracted_kw", "demand_cny"),
    [
        (None, Decimal("3840.00")),  # 96 kW × 40
        (Decimal(100), Decimal("4000.00")),  # 96 <= 105 % of 100: the contract is billed
        (Decimal(80), Decimal("4160.00")),  # 80 × 40 + (96 − 84) × 2 × 40
    ],
)
def test_jiangsu_month_demand_charge(client, admin_headers, uid, contracted_kw, demand_cny) -> None:  # noqa: ANN001
    h = admin_headers
    p = _plant(client, h, uid)
    start = datetime(2026, 6, 1, tzinfo=SH)
    ts, values = _readings(start, 30)
    _post(client, h, [{"meter": p["kwh"], "ts": ts, "value": values}])
    demand = {"basis": "max_demand", "price_cny_per_kw_month": 40.0}
    if contracted_kw is not None:
        demand["contracted_kw"] = float(contracted_kw)
    code = f"JS-{uid}"
    t = _tariff(
        client,
        h,
        {
            "code": code,
            "name": "Jiangsu two-part",
            "valid_from": "2026-06-01",
            "template": "jiangsu-2025-two-part",
            "flat_price_cny_per_kwh": 0.60,
            "demand_charge": demand,
        },
    )
    assert t["source"] == "苏发改价格发〔2025〕426号"
    june = [x for x in t["energy_prices"] if 6 in x["months"]]
    assert {x["period"]: x["verification"] for x in june} == {
        "peak": "verified_2_sources",
        "flat": "verified_2_sources",
        "valley": "verified_2_sources",
    }
    _assign(client, h, p["site"], code, "2026-06-01")
    got = _cost(client, h, p["site"], start, datetime(2026, 7, 1, tzinfo=SH))
    by = {x["period"]: (x["kwh"], x["cny"]) for x in got["by_period"]}
    assert by == {
        "peak": (17760, 19180.8),
        "flat": (12720, 7632.0),
        "valley": (5520, 1159.2),
    }
    assert Decimal(str(got["energy_cny"])) == ENERGY
    assert got["months"][0]["max_demand_kw"] == 96
    assert Decimal(str(got["demand_cny"])) == demand_cny
    assert Decimal(str(got["total_cny"])) == ENERGY + demand_cny


@pytest.mark.parametrize(
    ("kvarh_per_kwh", "pf", "pct", "pf_cny"),
    [
        # standard 0.90: 0.80 → +5.0 % (0.5 % per 0.01 below 0.90); 0.95 → −0.75 % (table rows
        # single_source: (83)水电财字第215号 via one code copy). Base 27,972.00 + 3,840.00.
        (0.75, 0.80, 5.0, Decimal("1590.60")),
        (0.33, 0.95, -0.75, Decimal("-238.59")),
    ],
)
def test_power_factor_adjustment(
    client, admin_headers, uid, kvarh_per_kwh, pf, pct, pf_cny
) -> None:  # noqa: ANN001
    h = admin_headers
    p = _plant(client, h, uid, reactive=True)
    start = datetime(2026, 6, 1, tzinfo=SH)
    ts, values = _readings(start, 30)
    _post(
        client,
        h,
        [
            {"meter": p["kwh"], "ts": ts, "value": values},
            {"meter": p["kvarh"], "ts": ts, "value": [v * kvarh_per_kwh for v in values]},
        ],
    )
    code = f"JSPF-{uid}"
    _tariff(
        client,
        h,
        {
            "code": code,
            "name": "Jiangsu two-part",
            "valid_from": "2026-01-01",
            "template": "jiangsu-2025-two-part",
            "flat_price_cny_per_kwh": 0.60,
            "demand_charge": {"basis": "max_demand", "price_cny_per_kw_month": 40.0},
            "power_factor_standard": 0.9,
        },
    )
    _assign(client, h, p["site"], code, "2026-01-01")
    got = _cost(client, h, p["site"], start, datetime(2026, 7, 1, tzinfo=SH))
    month = got["months"][0]
    assert month["kvarh"] == pytest.approx(36000 * kvarh_per_kwh)
    assert month["power_factor"] == pf
    assert month["power_factor_adjustment_pct"] == pct
    assert Decimal(str(got["power_factor_cny"])) == pf_cny
    assert Decimal(str(got["total_cny"])) == ENERGY + Decimal("3840.00") + pf_cny
    # the reactive meter is not energy: electricity carries the whole bill
    assert [c["carrier"] for c in got["by_carrier"]] == ["electricity"]


@pytest.mark.parametrize(
    ("prices", "field", "words"),
    [
        (
            [
                {"period": "valley", "hours": ["00:00-08:00"], "price_cny_per_kwh": 0.3},
                {"period": "peak", "hours": ["08:00-22:00"], "price_cny_per_kwh": 1.0},
            ],
            "energy_prices",
            "gap: no period covers 22:00-24:00",
        ),
        (
            [
                {"period": "valley", "hours": ["22:00-08:00"], "price_cny_per_kwh": 0.3},
                {"period": "peak", "hours": ["08:00-23:00"], "price_cny_per_kwh": 1.0},
            ],
            "energy_prices[1].hours",
            "overlap",
        ),
        (
            [{"period": "noon", "hours": ["00:00-24:00"], "price_cny_per_kwh": 1.0}],
            "energy_prices[0].period",
            "must be one of",
        ),
        (
            [{"period": "flat", "hours": ["00:00-25:00"], "price_cny_per_kwh": 1.0}],
            "energy_prices[0].hours",
            "time of day",
        ),
        (
            [
                {
                    "period": "flat",
                    "hours": ["00:00-24:00"],
                    "months": [1, 2, 3],
                    "price_cny_per_kwh": 1.0,
                },
            ],
            "energy_prices",
            "in month 4",
        ),
    ],
)
def test_periods_must_cover_each_day_exactly_once(
    client, admin_headers, uid, prices, field, words
) -> None:  # noqa: ANN001
    r = client.post(
        f"{API}/tariffs",
        headers=admin_headers,
        json={
            "code": f"BAD-{uid}",
            "name": "bad",
            "valid_from": "2026-01-01",
            "energy_prices": prices,
        },
    )
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"] == [field] and words in detail["msg"], detail


def test_template_needs_the_flat_price_and_a_known_name(client, admin_headers, uid) -> None:  # noqa: ANN001
    base = {"code": f"TPL-{uid}", "name": "t", "valid_from": "2026-01-01"}
    r = client.post(
        f"{API}/tariffs", headers=admin_headers, json={**base, "template": "jiangsu-2025-two-part"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["flat_price_cny_per_kwh"]
    r = client.post(
        f"{API}/tariffs",
        headers=admin_headers,
        json={**base, "template": "atlantis", "flat_price_cny_per_kwh": 0.6},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["template"]
    # a second version of a code: kept beside the first
    body = {**base, "template": "guangdong-2021", "flat_price_cny_per_kwh": 0.6}
    assert client.post(f"{API}/tariffs", headers=admin_headers, json=body).json()["version"] == 1
    assert client.post(f"{API}/tariffs", headers=admin_headers, json=body).json()["version"] == 2
    listed = client.get(
        f"{API}/tariffs", headers=admin_headers, params={"code": base["code"]}
    ).json()
    assert [t["version"] for t in listed] == [1, 2]


def test_a_cost_without_a_tariff_names_the_site(client, admin_headers, uid) -> None:  # noqa: ANN001
    p = _plant(client, admin_headers, uid)
    day = datetime(2026, 6, 10, tzinfo=SH)
    ts, values = _readings(day, 1)
    _post(client, admin_headers, [{"meter": p["kwh"], "ts": ts, "value": values}])
    r = client.get(
        f"{API}/costs",
        headers=admin_headers,
        params={
            "site": p["site"],
            "start": day.isoformat(),
            "end": (day + timedelta(days=1)).isoformat(),
        },
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["site"], r.text
    r = client.get(
        f"{API}/costs",
        headers=admin_headers,
        params={
            "site": p["site"],
            "start": (day + timedelta(minutes=5)).isoformat(),
            "end": (day + timedelta(days=1)).isoformat(),
        },
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["start"], r.text


def test_guangdong_heat_day_prices_its_sharp_hours(client, admin_headers, uid) -> None:  # noqa: ANN001
    """Guangdong template, flat 1.00 CNY/kWh (peak 1.70, valley 0.38, sharp 2.125), June:
    kWh per hour h = 4 × (1 + h). An ordinary day: valley 0-8 h 144 kWh = 54.72, flat 624 kWh
    = 624.00, peak 432 kWh = 734.40, total 1,413.12 CNY. Declared a heat day (Guangzhou daily
    max ≥ 35 °C): hours 11, 15, 16 (4 × (12 + 16 + 17) = 180 kWh) are sharp: peak 252 kWh =
    428.40, sharp 180 kWh = 382.50, total 1,489.62 CNY (+ 180 × 0.425 = 76.50)."""
    h = admin_headers
    p = _plant(client, h, uid)
    day = datetime(2026, 6, 10, tzinfo=SH)
    ts, values = _readings(day, 2)
    _post(client, h, [{"meter": p["kwh"], "ts": ts, "value": values}])
    code = f"GD-{uid}"
    _tariff(
        client,
        h,
        {
            "code": code,
            "name": "Guangdong",
            "valid_from": "2026-01-01",
            "template": "guangdong-2021",
            "flat_price_cny_per_kwh": 1.00,
        },
    )
    _assign(client, h, p["site"], code, "2026-01-01")
    nxt = day + timedelta(days=1)
    plain = _cost(client, h, p["site"], day, nxt)
    assert plain["total_cny"] == pytest.approx(1413.12)
    url = f"{API}/tariffs/{code}/event-days"
    heat = {"days": ["2026-06-10"], "kind": "heat", "reason": "Guangzhou daily max 36.1 °C"}
    r = client.post(url, headers=h, json=heat)
    assert r.status_code == 201, r.text
    assert r.json()[0]["day"] == "2026-06-10" and r.json()[0]["kind"] == "heat"
    assert client.post(url, headers=h, json=heat).status_code == 409
    assert client.post(url, headers=h, json={**heat, "kind": "hot"}).status_code == 422
    missing = client.post(f"{API}/tariffs/NO-{uid}/event-days", headers=h, json=heat)
    assert missing.status_code == 404

    hot = _cost(client, h, p["site"], day, nxt)
    periods = {x["period"]: x for x in hot["by_period"]}
    assert (periods["sharp"]["kwh"], periods["sharp"]["cny"]) == (180, pytest.approx(382.50))
    assert (periods["peak"]["kwh"], periods["peak"]["cny"]) == (252, pytest.approx(428.40))
    assert hot["total_cny"] == pytest.approx(1489.62)
    assert hot["derivation_hash"] != plain["derivation_hash"]
    d = client.get(f"{API}/costs/derivations/{hot['derivation_hash']}", headers=h).json()
    assert d["inputs"]["event_days"] == {code: ["2026-06-10"]}
    # the next day is an ordinary one; removing the event day restores the figure and its hash
    assert _cost(client, h, p["site"], nxt, nxt + timedelta(days=1))["total_cny"] == pytest.approx(
        1413.12
    )
    listed = client.get(url, headers=h, params={"start": "2026-06-01", "end": "2026-07-01"})
    assert [x["day"] for x in listed.json()] == ["2026-06-10"]
    assert client.delete(f"{url}/2026-06-10", headers=h).status_code == 204
    again = _cost(client, h, p["site"], day, nxt)
    assert again["derivation_hash"] == plain["derivation_hash"]
