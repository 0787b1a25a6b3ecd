"""`ecc tariffs list|show|load`, `ecc budgets status`, `ecc bills reconcile` on a server: thin
wrappers that print what the services compute (hand-worked values from the service tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.budgets.test_service import _site_with_june
from tests.cost.test_bills import _jiangsu_plant
from tests.cost.test_compute import API
from tests.shell.test_cli_accounts import _ecc

THREE_PERIODS = """\
code: {code}
name: Three-period test tariff
valid_from: 2026-01-01
source: hand-made for the CLI test
energy_prices:
  - {{period: peak, hours: ["08:00-12:00", "17:00-21:00"], price_cny_per_kwh: 1.20}}
  - {{period: flat, hours: ["12:00-17:00", "21:00-24:00"], price_cny_per_kwh: 0.70}}
  - {{period: valley, hours: ["00:00-08:00"], price_cny_per_kwh: 0.30}}
"""


def test_tariffs_load_list_show(tmp_path: Path, db_url: str, uid: str) -> None:
    code = f"CLI-{uid}"
    f = tmp_path / "tariff.yaml"
    f.write_text(THREE_PERIODS.format(code=code), encoding="utf-8")
    for version in (1, 2):  # a code that exists gets its next version
        out = _ecc(["tariffs", "load", str(f)], db_url, tmp_path)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split("\t")[:2] == [code, f"version {version}"]
    out = _ecc(["tariffs", "list", "--code", code], db_url, tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split("\t")[:3] == ["code", "version", "valid_from"]
    assert sorted(x.split("\t")[1] for x in lines[1:]) == ["1", "2"]
    out = _ecc(["tariffs", "show", code], db_url, tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["version"] == 2 and doc["source"] == "hand-made for the CLI test"
    prices = {p["period"]: p["price_cny_per_kwh"] for p in doc["energy_prices"]}
    assert prices == {"peak": "1.200000", "flat": "0.700000", "valley": "0.300000"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            THREE_PERIODS.replace('"00:00-08:00"', '"00:00-07:00"'),
            "gap: no period covers 07:00-08:00",
        ),
        (THREE_PERIODS.replace("valid_from: 2026-01-01", "valid_from: 2026-13-01"), "valid_from"),
        (THREE_PERIODS + "colour: blue\n", "colour: unknown field"),
    ],
)
def test_tariffs_load_names_the_wrong_field(
    tmp_path: Path, db_url: str, uid: str, text: str, message: str
) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text.format(code=f"BAD-{uid}"), encoding="utf-8")
    out = _ecc(["tariffs", "load", str(f)], db_url, tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert message in " ".join(out.stderr.split()), out.stderr
    assert "Traceback" not in out.stderr


def test_budgets_status(
    tmp_path: Path, db_url: str, client: TestClient, admin_headers: dict, uid: str
) -> None:
    """June: 4,000 kWh budget; at 2026-06-14 11:30 +08:00 the run-rate projection is
    100.06 % (``tests/budgets/test_service.py``), the same figure the API gives."""
    site = _site_with_june(client, admin_headers, uid)
    args = ["--site", site, "--quantity", "electricity_kwh", "--period", "2026-06"]
    out = _ecc(
        ["budgets", "status", *args, "--as-of", "2026-06-14T11:30:00+08:00"], db_url, tmp_path
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    api = client.get(
        f"{API}/budgets/status",
        headers=admin_headers,
        params={
            "site": site,
            "quantity": "electricity_kwh",
            "period": "2026-06",
            "as_of": "2026-06-14T11:30:00+08:00",
        },
    ).json()
    assert float(doc["projected_pct"]) == pytest.approx(100.06) == api["projected_pct"]
    assert float(doc["budget"]) == 4000
    bad = _ecc(["budgets", "status", *args[:4], "--period", "2026-6x"], db_url, tmp_path)
    assert bad.returncode == 2 and "period" in bad.stderr


def test_bills_reconcile(
    tmp_path: Path, db_url: str, client: TestClient, admin_headers: dict, uid: str
) -> None:
    """The June bill of ``tests/cost/test_bills.py``: computed peak 17,760 kWh vs 17,800 on the
    bill (−40), total 31,812.00 vs 32,000 CNY (−188)."""
    p = _jiangsu_plant(client, admin_headers, uid)
    r = client.post(
        f"{API}/bills",
        headers=admin_headers,
        json={
            "site": p["site"],
            "month": "2026-06",
            "periods": [{"period": "peak", "kwh": 17800}],
            "total_cny": 32000,
        },
    )
    assert r.status_code == 201, r.text
    out = _ecc(["bills", "reconcile", str(r.json()["id"])], db_url, tmp_path)
    assert out.returncode == 0, out.stderr
    lines = {x["line"]: x for x in json.loads(out.stdout)["lines"]}
    assert float(lines["peak_kwh"]["difference"]) == -40
    assert float(lines["total_cny"]["computed"]) == 31812
    assert float(lines["total_cny"]["difference"]) == -188
    missing = _ecc(["bills", "reconcile", "999999999"], db_url, tmp_path)
    assert missing.returncode == 2 and "unknown bill" in missing.stderr
