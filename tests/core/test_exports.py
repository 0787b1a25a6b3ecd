"""OWASP's CSV-injection rule: text a spreadsheet would evaluate is written as text."""

from __future__ import annotations

import pandas as pd
import pytest

from core.exports import figure_text, round_figure, safe_cell
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


def test_round_figure_keeps_six_significant_digits_and_money_to_the_fen() -> None:
    assert round_figure(12345.678901, "kWh") == 12345.7
    assert round_figure(0.00123456789, "tce") == 0.00123457
    assert round_figure(1234567.891, "CNY") == 1234567.89
    assert round_figure(0.0, "kWh") == 0.0
    assert round_figure(-2.0 / 3.0, "%") == -0.666667


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (12345.678901, "kWh", "12,345.7"),
        (0.00123456789, "tce", "0.00123457"),
        (1e-7, "t", "0.0000001"),  # never an exponent on paper
        (1234567.891, "CNY", "1,234,567.89"),
        (40.0, "CNY", "40.00"),
        (5.0, "t", "5"),
        (0.0, "t", "0"),
        (-2.0 / 3.0, "%", "-0.666667"),
    ],
)
def test_figure_text_prints_the_rounded_figure(value: float, unit: str, text: str) -> None:
    assert figure_text(value, unit) == text
