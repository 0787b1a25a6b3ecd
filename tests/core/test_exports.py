"""OWASP's CSV-injection rule: text a spreadsheet would evaluate is written as text."""

from __future__ import annotations

import pandas as pd
import pytest

from core.exports import safe_cell
from dashboard.data import csv_safe


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=x", "\r=x"])
def test_formula_starts_become_text(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["plain", "", "2026-01-01", 5, -5.5, None, "中文"])
def test_everything_else_passes_unchanged(value: object) -> None:
    assert safe_cell(value) == value


def test_dashboard_csv_frames_are_safe() -> None:
    frame = pd.DataFrame({"meter": ["=cmd|' /C calc'!A0", "M1"], "kwh": [-1.5, 2.0]})
    out = csv_safe(frame).to_csv(index=False)
    assert out.splitlines() == ["meter,kwh", "'=cmd|' /C calc'!A0,-1.5", "M1,2.0"]
