"""Import material and transport factors from CSV or XLSX (all rows or none).

Columns (header row, any order): ``material, value, unit, source`` required; ``supplier,
data_type, boundary, standard, verification, evidence, primary_data_share, valid_from,
valid_to`` optional. ``value`` is kgCO₂e per ``unit``. A rejected row names its number and
column (``rows[3].value``).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from core.errors import DomainError, Invalid
from footprints import suppliers
from models.footprints import MaterialFactor

REQUIRED = ("material", "value", "unit", "source")
OPTIONAL = (
    "supplier",
    "data_type",
    "boundary",
    "standard",
    "verification",
    "evidence",
    "primary_data_share",
    "valid_from",
    "valid_to",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rows_from(content: bytes, content_type: str) -> list[dict[str, str]]:
    if content_type.startswith(XLSX) or content[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            ws = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
            it = ws.iter_rows(values_only=True)
            header = [str(h).strip() if h is not None else "" for h in next(it, [])]
            rows = [
                {h: ("" if v is None else str(v)) for h, v in zip(header, r, strict=False) if h}
                for r in it
                if any(v is not None for v in r)
            ]
        except Exception as exc:  # noqa: BLE001  (any unreadable workbook is the sender's fault)
            raise Invalid("body", f"not a readable XLSX workbook ({type(exc).__name__})") from None
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("body", "CSV must be UTF-8") from None
        try:
            rows = [
                {k.strip(): (v if isinstance(v, str) else "").strip() for k, v in r.items() if k}
                for r in csv.DictReader(io.StringIO(text, newline=""))
            ]
        except csv.Error as exc:
            raise Invalid("body", f"not a readable CSV: {exc}") from None
    for i, r in enumerate(rows, start=1):
        for k, v in r.items():
            if "\x00" in k or "\x00" in v or any(0xD800 <= ord(c) <= 0xDFFF for c in k + v):
                raise Invalid(f"rows[{i}].{k!r}", "NUL or a lone surrogate is not text")
    return rows


def import_factors(
    session: Session, content: bytes, content_type: str, actor: str
) -> list[MaterialFactor]:
    rows = rows_from(content, content_type)
    if not rows:
        raise Invalid("body", "no factor rows (header: material,value,unit,source,…)")
    missing = [c for c in REQUIRED if c not in rows[0]]
    if missing:
        raise Invalid("header", f"missing column(s): {', '.join(missing)}")
    out = []
    for i, r in enumerate(rows, start=1):
        try:
            out.append(suppliers.add_factor(session, _factor(r, i), actor))
        except DomainError as e:
            if e.field.startswith("rows["):
                raise
            raise type(e)(f"rows[{i}].{e.field}", e.reason) from None
    return out


def _factor(r: dict[str, str], i: int) -> suppliers.FactorIn:
    def dec(name: str) -> Decimal | None:
        if not r.get(name):
            return None
        try:
            return Decimal(r[name])
        except InvalidOperation:
            raise Invalid(f"rows[{i}].{name}", f"not a number: {r[name]!r}") from None

    def day(name: str) -> date | None:
        if not r.get(name):
            return None
        try:
            return date.fromisoformat(r[name][:10])
        except ValueError:
            raise Invalid(f"rows[{i}].{name}", "a date YYYY-MM-DD") from None

    for name in REQUIRED:
        if not r.get(name):
            raise Invalid(f"rows[{i}].{name}", "required")
    return suppliers.FactorIn(
        material=r["material"],
        value=dec("value") or Decimal(0),
        unit=r["unit"],
        source=r["source"],
        supplier=r.get("supplier") or None,
        data_type=r.get("data_type") or None,
        boundary=r.get("boundary") or "cradle-to-gate",
        standard=r.get("standard") or None,
        verification=r.get("verification") or None,
        evidence=r.get("evidence") or None,
        primary_data_share=dec("primary_data_share"),
        valid_from=day("valid_from"),
        valid_to=day("valid_to"),
    )
