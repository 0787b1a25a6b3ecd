"""The disclosure on paper: figures rounded for people by the one export rule
(``core.exports.figure_text``: 6 significant digits) beside their units; the dict the API
answers keeps full precision."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest

from assets import disclosure

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftotext) not installed; .ci/run installs them",
)

SCOPE1 = 12345.678901234  # tCO2e
ENERGY = 4321.0987654321  # tce
NET = Decimal("11840.4567891234")  # tCO2, a Decimal as the offsets ledger answers


def _report() -> dict:
    return {
        "title": "Zero-carbon disclosure 2023: Plant (P1)",
        "emissions": {
            "scope1_tco2e": SCOPE1,
            "scope2_location_tco2": 0.000123456789,
            "scope3_tco2e": None,
            "scope3_note": "scope 3 not measured",
            "energy_tce": ENERGY,
            "derivation_hash": "ab" * 32,
        },
        "measures": [{"measure": "LED retrofit", "tco2": 12.3456789}],
        "offsets": [{"kind": "ccer", "registry": "CCER", "tco2e": Decimal("40.000000")}],
        "net": {"gross_tco2": 11880.4567891234, "net_tco2": NET},
        "warnings": [],
        "scorecard": {
            "indicators": [
                {
                    "name": "Green power share",
                    "name_zh": "绿电占比",
                    "value": 33.333333333,
                    "unit": "%",
                    "status": "met",
                }
            ]
        },
    }


def _text(content: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "disclosure.pdf"
        path.write_bytes(content)
        out = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        )
    return " ".join(out.stdout.split())


@needs_poppler
def test_pdf_figures_are_rounded_with_their_units() -> None:
    d = _report()
    text = _text(disclosure.to_pdf(d))
    for shown in (
        "scope1_tco2e 12,345.7 tCO₂e",
        "scope2_location_tco2 0.000123457 tCO₂",
        "energy_tce 4,321.1 tce",
        "LED retrofit 12.3457 tCO₂",
        "ccer CCER 40 tCO₂e",
        "gross_tco2 11,880.5 tCO₂",
        "net_tco2 11,840.5 tCO₂",
        "33.3333 %",
        "scope3_note scope 3 not measured",
    ):
        assert shown in text, (shown, text)
    # never the six-decimal tails of full precision
    for tail in ("12,345.678901", "4,321.098765", "11,840.456789", "40.000000", "33.333333"):
        assert tail not in text, tail
    # the dict (the JSON) is left at full precision
    assert d["emissions"]["scope1_tco2e"] == SCOPE1 and d["net"]["net_tco2"] == NET


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (12345.678901, "tCO₂e", "12,345.7"),
        (Decimal("0.000123456789"), "tCO₂", "0.000123457"),
        (1234567.891, "CNY", "1,234,567.89"),
        (None, "t", "—"),
        ("scope 3 not measured", "", "scope 3 not measured"),
    ],
)
def test_a_figure_on_paper(value: object, unit: str, text: str) -> None:
    assert disclosure.figure(value, unit) == text


def test_units_follow_the_names() -> None:
    assert [disclosure.unit_of(k) for k in ("scope1_tco2e", "net_tco2", "energy_tce")] == [
        "tCO₂e",
        "tCO₂",
        "tce",
    ]
    assert disclosure.unit_of("derivation_hash") == ""
