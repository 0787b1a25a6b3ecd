"""The GHG inventory fit to sign: completeness per month with a warning, tonnes to two
decimals on paper (every decimal in the XLSX), local dates, embedded fonts, headings in
English / 中文. A plant metered only from September: an "annual" 2025 inventory."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from carbon import report
from core import pdf_fonts
from tests.support.pdf import HOUSE_FONTS, embedded_fonts

CST = timezone(timedelta(hours=8))
HOURLY_KWH = 1000.0
# hourly readings (interval end) from 1 Sep 01:00 to 16 Dec 00:00, China time
FIRST, LAST = datetime(2025, 9, 1, 1, tzinfo=CST), datetime(2025, 12, 16, tzinfo=CST)
BY_MONTH = {9: 720, 10: 744, 11: 720, 12: 360}  # readings per month (30, 31, 30, 15 days × 24)
HOURS_2025 = 8760  # expected: one reading an hour over the year


@pytest.fixture(scope="module")
def partial_year(client: TestClient, admin_headers: dict[str, str], engine) -> dict:  # noqa: ANN001
    uid = uuid.uuid4().hex[:8]
    site, meter = f"PY-{uid}", f"IN-{uid}"
    r = client.post(
        "/api/v1/sites",
        json={"code": site, "name": "Partial-year plant 部分年度工厂", "region": "江苏"},
        headers=admin_headers,
    )
    assert r.status_code == 201, r.text
    body = {
        "code": meter,
        "name": "Grid incomer",
        "site": site,
        "carrier": "electricity",
        "unit": "kWh",
        "kind": "delta",
        "interval_s": 3600,
    }
    assert client.post("/api/v1/meters", json=body, headers=admin_headers).status_code == 201
    ts, t = [], FIRST
    while t <= LAST:
        ts.append(t.isoformat())
        t += timedelta(hours=1)
    assert len(ts) == sum(BY_MONTH.values())
    r = client.post(
        "/api/v1/readings",
        json={"series": [{"meter": meter, "ts": ts, "value": [HOURLY_KWH] * len(ts)}]},
        headers=admin_headers,
    )
    assert r.status_code == 200 and r.json()["accepted"] == len(ts), r.text
    with Session(engine) as session:
        inv = report.inventory(session, site, 2025)
        session.commit()
    return {"site": site, "inv": inv}


def test_completeness_per_month_and_warning(partial_year: dict) -> None:
    inv = partial_year["inv"]
    months = {int(m["month"][5:]): m for m in inv["monthly"]}
    for m in range(1, 13):
        assert months[m]["readings"] == BY_MONTH.get(m, 0), m
    assert months[9]["expected_readings"] == 720 and months[12]["expected_readings"] == 744
    assert months[12]["completeness"] == pytest.approx(360 / 744)
    assert months[10]["completeness"] == 1.0 and months[1]["completeness"] == 0.0
    c = inv["completeness"]
    assert c["months_with_data"] == 4
    assert (c["readings"], c["expected_readings"]) == (2544, HOURS_2025)
    assert c["share"] == pytest.approx(2544 / 8760)
    assert c["incomplete_months"] == [f"2025-{m:02d}" for m in (1, 2, 3, 4, 5, 6, 7, 8, 12)]
    assert c["warning"].startswith(
        "Incomplete: data cover 4 of 12 months; no readings in Jan–Aug 2025; below 95% of "
        "the expected readings in Dec 2025."
    )
    assert (
        "数据不完整：12 个月中 4 个月有数据；2025 年 1–8 月无读数；2025 年 12 月读数不足"
        in c["warning"]
    )


def test_a_complete_month_set_has_no_warning() -> None:
    months = [
        {"month": f"2025-{m:02d}", "readings": 10, "expected_readings": 10, "completeness": 1.0}
        for m in range(1, 13)
    ]
    months[3]["readings"], months[3]["completeness"] = 9, 0.96  # above 95 %: complete
    c = report.completeness(2025, months)
    assert c["warning"] is None and c["incomplete_months"] == [] and c["months_with_data"] == 12


def test_xlsx_keeps_every_decimal(partial_year: dict) -> None:
    from openpyxl import load_workbook

    inv = partial_year["inv"]
    wb = load_workbook(io.BytesIO(report.to_xlsx(inv)))
    rows = list(wb["Monthly"].iter_rows(values_only=True))
    assert rows[0][5:] == ("Readings", "Expected readings", "Completeness")
    sep = next(r for r in rows if r[0] == "2025-09")
    assert sep[2] == inv["monthly"][8]["scope2_location_tco2"]  # full precision
    assert sep[5:7] == (720, 720)
    summary = [r for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]]
    assert any(r[0] == "Completeness" and r[1].startswith("Incomplete") for r in summary)


needs_poppler = pytest.mark.skipif(
    shutil.which("pdffonts") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdffonts, pdftotext) not installed; .ci/run installs them",
)


@pytest.fixture(scope="module")
def pdf(partial_year: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ghg") / "inventory.pdf"
    path.write_bytes(report.to_pdf(partial_year["inv"]))
    return path


def _text(pdf: Path) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return out.stdout


def test_pdf_every_font_embedded_as_a_subset(pdf: Path) -> None:
    # the Latin faces and the CJK face (first font of the collection), nothing else
    assert embedded_fonts(pdf.read_bytes()) == HOUSE_FONTS


@needs_poppler
def test_pdf_amounts_dates_warning_and_bilingual_headings(pdf: Path, partial_year: dict) -> None:
    inv = partial_year["inv"]
    text = " ".join(_text(pdf).split())
    for heading in (
        "GHG inventory 2025 / 温室气体排放清单 2025",
        "1. Results by scope / 按范围汇总",
        "2. Data completeness / 数据完整性",
        "3. Monthly emissions / 月度排放",
        "6. Emission factors and sources / 排放因子及来源",
    ):
        assert heading in text, heading
    assert "Reporting period / 报告期: 2025-01-01 – 2025-12-31 (Asia/Shanghai)" in text
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", text)  # no ISO timestamps on paper
    assert "Incomplete: data cover 4 of 12 months" in text and "数据不完整" in text
    assert "Months with data / 有数据的月份: 4 of 12" in text
    assert "2,544 of 8,760 expected" in text
    # 2,544 MWh at the 2025 grid factor, to two decimals and never more
    s2 = inv["results"]["scope2_location_tco2"]
    assert f"{s2:,.2f}" in text
    assert f"{s2:,.3f}" not in text and f"{s2:,.6f}".rstrip("0") not in text
    assert "48.4% incomplete / 不完整" in text  # December: 360 of 744
    assert text.count("no data / 无数据") == 8  # January to August


def test_markup_gives_cjk_runs_the_cjk_face_and_escapes() -> None:
    assert pdf_fonts.markup("Scope 2 / 范围二 <b>") == (
        'Scope 2 / <font name="EccCJK">范围二</font> &lt;b&gt;'
    )
    assert pdf_fonts.markup("tCO₂e") == 'tCO<font name="EccCJK">₂</font>e'
