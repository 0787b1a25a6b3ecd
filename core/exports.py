"""Cells of exported spreadsheets and CSV files never execute (OWASP's CSV-injection rule).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as
a formula by Excel, LibreOffice and Sheets; :func:`safe_cell` prefixes it with a single quote
so it is shown, and stays, text. Numbers, dates and every other value pass unchanged. Every
XLSX and CSV export goes through it (``carbon.report``, the dashboard's CSV downloads).

Figures in CSV downloads and on paper (the disclosure PDF) are rounded by one rule,
:func:`round_figure`: money (CNY) to the fen (2 decimals), everything else to 6 significant
digits — finer than any meter's accuracy class (0.2 S … 2 %), so nothing measured is lost and
no 16-digit float tails are shown; :func:`figure_text` writes such a figure for print. Full
precision stays in the API and in the XLSX workbooks.
"""

from __future__ import annotations

import math
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value``, or for a text that a spreadsheet would evaluate, that text as plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


MONEY_UNITS = ("CNY",)
SIGNIFICANT_DIGITS = 6


def round_figure(value: float, unit: str = "") -> float:
    """``value`` rounded for a person: money to 2 decimals, else to 6 significant digits
    (``12345.678901 kWh`` → ``12345.7``, ``0.00123456789 tce`` → ``0.00123457``)."""
    if not math.isfinite(value) or value == 0:
        return value
    if unit in MONEY_UNITS:
        return round(value, 2)
    digits = SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def figure_text(value: float, unit: str = "") -> str:
    """``value`` rounded by :func:`round_figure` as printed text: thousands separators, no
    exponent, no trailing zeros (money keeps its two decimals); the unit is printed beside it
    (``12345.678901 kWh`` → ``12,345.7``, ``1e-7`` → ``0.0000001``)."""
    if not math.isfinite(value):
        return str(value)
    rounded = round_figure(value, unit)
    if unit in MONEY_UNITS:
        return f"{rounded:,.2f}"
    if rounded == 0:
        return "0"
    decimals = max(0, SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(rounded))))
    text = f"{rounded:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
