"""The steel plant's own CO2 column (UCI "Steel Industry Energy Consumption", ../shared/data).

`date` is the END of each 15-minute interval in KST (UTC+9); the midnight row carries the
previous day's date (one day is added where NSM == 0). With the plant's electricity factor of
0.459 tCO2/MWh entered as a site-specific factor, the engine's interval emissions rounded to
0.01 t must equal the `CO2(tCO2)` column on at least 99.5 % of the intervals; the
data-quality check lists the others.
"""

from __future__ import annotations

import csv
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from tests.support.paths import SHARED_DATA

pytestmark = pytest.mark.shared_data
STEEL_CSV = SHARED_DATA / "steel_industry_energy" / "Steel_industry_data.csv"
KST = timezone(timedelta(hours=9))
FACTOR = 0.459  # tCO2/MWh
BATCH = 10_000


def _rows() -> list[tuple[datetime, float, float]]:
    out = []
    with open(STEEL_CSV, encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            ts = datetime.strptime(r["date"], "%d/%m/%Y %H:%M").replace(tzinfo=KST)
            if r["NSM"] == "0":  # 00:00 closes the previous day: it is the next day's 00:00
                ts += timedelta(days=1)
            out.append((ts, float(r["Usage_kWh"]), float(r["CO2(tCO2)"])))
    return out


@pytest.fixture(scope="module")
def steel(client: TestClient, admin_headers: dict) -> dict:
    if not STEEL_CSV.is_file():
        pytest.skip(f"{STEEL_CSV} not present (../shared/data is absent)")
    rows = _rows()
    uid = uuid.uuid4().hex[:8]
    site, kwh, co2 = f"STEEL-{uid}", f"STEEL-KWH-{uid}", f"STEEL-CO2-{uid}"
    h = admin_headers
    r = client.post(
        "/api/v1/sites",
        headers=h,
        json={"code": site, "name": "DAEWOO Steel", "timezone": "Asia/Seoul"},
    )
    assert r.status_code == 201, r.text
    for code, carrier, unit in ((kwh, "electricity", "kWh"), (co2, "other", "t")):
        r = client.post(
            "/api/v1/meters",
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
    ts = [t.isoformat() for t, _, _ in rows]
    accepted = 0
    for lo in range(0, len(rows), BATCH):  # the columnar form, ~10k readings per request
        for code, col in ((kwh, 1), (co2, 2)):
            body = {
                "series": [
                    {
                        "meter": code,
                        "ts": ts[lo : lo + BATCH],
                        "value": [row[col] for row in rows[lo : lo + BATCH]],
                    }
                ]
            }
            r = client.post("/api/v1/readings", json=body, headers=h)
            assert r.status_code == 200 and not r.json()["rejected"], r.text[:500]
            accepted += r.json()["accepted"]
    assert accepted == 2 * len(rows) == 70_080
    r = client.post(
        "/api/v1/factors",
        headers=h,
        json={
            "carrier": "electricity",
            "value": FACTOR,
            "unit": "tCO2/MWh",
            "site": site,
            "valid_from": "2018-01-01",
            "source": "plant's own electricity factor (KEPCO portal, UCI dataset 851 CO2 column)",
        },
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/carbon/recalculations",
        headers=h,
        json={"reason": f"site-specific electricity factor for {site}"},
    )
    assert r.status_code == 201, r.text
    return {"site": site, "kwh": kwh, "co2": co2, "rows": rows, "h": h}


def test_interval_emissions_agree_with_the_plant_column(client: TestClient, steel: dict) -> None:
    rows = steel["rows"]
    start, end = rows[0][0] - timedelta(minutes=15), rows[-1][0]
    assert (start.isoformat(), end.isoformat()) == (
        "2018-01-01T00:00:00+09:00",
        "2019-01-01T00:00:00+09:00",
    )
    r = client.get(
        "/api/v1/carbon/quality/reported-co2",
        headers=steel["h"],
        params={
            "meter": steel["kwh"],
            "reported": steel["co2"],
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
    )
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["intervals"] == len(rows) == 35_040
    print(
        f"steel: {q['agree']} of {q['intervals']} intervals agree "
        f"({100 * q['agreement']:.2f} %); {len(q['findings'])} listed"
    )
    assert q["agreement"] >= 0.995
    assert len(q["findings"]) == q["intervals"] - q["agree"]
    by_ts = {t: (kwh, co2) for t, kwh, co2 in rows}
    for f in q["findings"]:  # each listed interval really disagrees, with the plant's figure
        t = datetime.fromisoformat(f["ts"])
        kwh, theirs = by_ts[t]
        assert f["reported_tco2"] == theirs and f["activity"] == pytest.approx(kwh)
        assert f["computed_tco2"] == pytest.approx(kwh * FACTOR / 1000, rel=1e-12)
        assert abs(f["computed_rounded_tco2"] - theirs) >= 0.005
    # the known gap: 2018-11-08 00:00 KST is stored as all zeros, so it agrees (0 = 0)
    zero = datetime(2018, 11, 8, tzinfo=KST)
    assert by_ts[zero] == (0.0, 0.0)


def test_year_total_and_derivation(client: TestClient, steel: dict) -> None:
    rows = steel["rows"]
    r = client.get(
        "/api/v1/carbon/emissions",
        headers=steel["h"],
        params={
            "site": steel["site"],
            "start": "2018-01-01T00:00:00+09:00",
            "end": "2019-01-01T00:00:00+09:00",
        },
    )
    assert r.status_code == 200, r.text
    e = r.json()
    mwh = sum(kwh for _, kwh, _ in rows) / 1000
    assert mwh == pytest.approx(959.64, abs=0.01)
    assert e["scope2_location_tco2"] == pytest.approx(mwh * FACTOR, rel=1e-9)  # ≈ 440.5 t
    assert e["scope2_location_tco2"] == pytest.approx(440.5, abs=0.1)
    assert sum(co2 for *_, co2 in rows) == pytest.approx(403.81, abs=0.005)  # rounding losses
    (row,) = e["by_source"]  # the reported-CO2 meter is non-emitting
    assert (row["meter"], row["factor"]) == (steel["kwh"], FACTOR)
    d = client.get(e["derivation_url"], headers=steel["h"]).json()
    assert d["hash"] == e["derivation_hash"]
    (f,) = [f for f in d["inputs"]["factors"] if f["id"] == row["factor_id"]]
    assert f["site"] == steel["site"] and "UCI" in f["source_document"]
    assert sum(x["n"] for x in d["inputs"]["readings"] if x["meter"] == steel["kwh"]) == 35_040
