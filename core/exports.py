"""Cells of exported spreadsheets and CSV files never execute (OWASP's CSV-injection rule).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as
a formula by Excel, LibreOffice and Sheets; :func:`safe_cell` prefixes it with a single quote
so it is shown, and stays, text. Numbers, dates and every other value pass unchanged. Every
XLSX and CSV export goes through it (``carbon.report``, the dashboard's CSV downloads).
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value``, or for a text that a spreadsheet would evaluate, that text as plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
