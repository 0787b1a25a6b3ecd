"""The verifier's package recomputes offline to the API's figures; the disclosure report
downloads in every format."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.api.test_carbon import GAS_T, GRID_MWH, RESIDUAL_2023, STEAM_T
from tests.assets.test_ledger import _get, _post, _retire, plant  # noqa: F401  (fixture)
from tests.support.pdf import HOUSE_FONTS, embedded_fonts


def _package(client: TestClient, p: dict, tmp_path) -> tuple[zipfile.ZipFile, object]:  # noqa: ANN001
    r = client.get(
        "/api/v1/reports/verification-package",
        params={"site": p["site"], "year": 2023},
        headers=p["viewer"],
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    path = tmp_path / "package.zip"
    path.write_bytes(r.content)
    return zipfile.ZipFile(io.BytesIO(r.content)), path


def _verify(path, cwd) -> subprocess.CompletedProcess:  # noqa: ANN001
    """Run the shipped script, extracted from the zip, in a folder with nothing else."""
    with zipfile.ZipFile(path) as z:
        (cwd / "verify.py").write_bytes(z.read("verify.py"))
    return subprocess.run(
        [sys.executable, "-I", "verify.py", str(path)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_package_recomputes_offline(client: TestClient, plant: dict, tmp_path) -> None:  # noqa: F811, ANN001
    p = plant
    credit = {
        "kind": "ccer",
        "serial": f"CCER-PKG-{p['uid']}",
        "quantity": 100,
        "unit": "tCO2e",
        "vintage": "2023-01-01",
        "site": p["site"],
        "registry": '=HYPERLINK("http://x")',
    }
    c = _post(client, p["engineer"], "/api/v1/carbon-assets", credit)
    _retire(client, p, c["id"], 40, "offset")
    z, path = _package(client, p, tmp_path)
    names = set(z.namelist())
    assert {"manifest.json", "verify.py", "readings_monthly.csv", "factors.csv"} <= names
    assert sum(n.startswith("derivations/") for n in names) == 13  # the year and its months
    work = tmp_path / "offline"
    work.mkdir()
    out = _verify(path, work)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["failures"] == [] and report["checks"] > 40
    gross = GAS_T + GRID_MWH * RESIDUAL_2023 + STEAM_T
    o = _get(client, p["viewer"], "/api/v1/offsets", site=p["site"], year=2023)
    assert report["figures"]["net_tco2"] == o["net_tco2"]
    assert float(report["figures"]["net_tco2"]) == pytest.approx(gross - 40, abs=1e-5)
    e = _get(
        client,
        p["viewer"],
        "/api/v1/carbon/emissions",
        site=p["site"],
        start="2023-01-01T00:00:00+08:00",
        end="2024-01-01T00:00:00+08:00",
    )
    for k in ("scope1_tco2e", "scope2_location_tco2", "scope2_market_tco2", "energy_tce"):
        assert report["figures"][k] == pytest.approx(e[k], rel=1e-12)

    # a tampered file is found
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "offsets.json":
                data = data.replace(b'"offsets_tco2":"40', b'"offsets_tco2":"30')
            dst.writestr(item, data)
    bad = _verify(tampered, work)
    assert bad.returncode == 1
    assert any("offsets.json" in f for f in json.loads(bad.stdout)["failures"])


def test_disclosure_report_formats(client: TestClient, plant: dict) -> None:  # noqa: F811
    p = plant
    c = _post(
        client,
        p["engineer"],
        "/api/v1/carbon-assets",
        {
            "kind": "chs",
            "serial": f"CHS-{p['uid']}",
            "quantity": 5,
            "unit": "tCO2e",
            "vintage": "2023-01-01",
            "site": p["site"],
            "registry": "=cmd|' /C calc'!A0",
        },
    )
    _retire(client, p, c["id"], 5, "offset")
    d = _get(client, p["viewer"], "/api/v1/reports/zero-carbon", site=p["site"], year=2023)
    assert [(o["kind"], o["registry"], float(o["tco2e"])) for o in d["offsets"]] == [
        ("chs", "=cmd|' /C calc'!A0", 5.0)
    ]
    assert {i["code"] for i in d["scorecard"]["indicators"]} >= {
        "co2_per_tce",
        "non_fossil_share_physical",
        "non_fossil_share_certificates",
        "green_power_share",
        "auto_collection_rate",
        "platform_functions",
    }
    x = client.get(
        "/api/v1/reports/zero-carbon",
        params={"site": p["site"], "year": 2023, "format": "xlsx"},
        headers=p["viewer"],
    )
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.content))
    cells = [c.value for row in wb["Offsets"].iter_rows() for c in row]
    assert "'=cmd|' /C calc'!A0" in cells  # written as text, never a formula
    assert "Emissions by scope · 分范围温室气体排放" in [
        c.value for row in wb["Summary"].iter_rows() for c in row
    ]
    pdf = client.get(
        "/api/v1/reports/zero-carbon",
        params={"site": p["site"], "year": 2023, "format": "pdf"},
        headers=p["viewer"],
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert embedded_fonts(pdf.content) <= HOUSE_FONTS  # one font setup: core.pdf_fonts
    bad = client.get(
        "/api/v1/reports/zero-carbon",
        params={"site": p["site"], "year": 2023, "format": "doc"},
        headers=p["viewer"],
    )
    assert bad.status_code == 422
