"""XLSX export of the benchmarking, balance and recommendation tables (headers EN / 中文)."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook

ZH = {
    "process": "工序",
    "product": "产品",
    "output": "产量",
    "unit": "单位",
    "energy_tce": "综合能耗 tce",
    "unit_consumption_kgce": "单位产品能耗 kgce",
    "rating": "等级",
    "light": "信号灯",
    "level_1": "1级",
    "level_2": "2级",
    "level_3": "3级",
    "benchmark": "标杆值",
    "baseline": "基准值",
    "source": "来源",
    "verification": "核实状态",
    "single_source": "单一来源",
    "rank": "排名",
    "meter": "计量表",
    "site": "站点",
    "value": "数值",
    "remainder": "差额",
    "loss_rate": "损耗率",
    "remainder_kind": "差额性质",
    "alert": "告警",
    "id": "编号",
    "kind": "类型",
    "title": "标题",
    "title_zh": "标题（中文）",
    "savings_kwh_per_year": "年节电 kWh",
    "savings_cny_per_year": "年节约 元",
    "savings_tco2_per_year": "年减排 tCO2",
    "confidence": "置信度",
    "status": "状态",
    "reason": "原因",
    "item": "项目",
    "parent": "上级表",
}


def _cell(v: object) -> object:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False, default=str)
    return v


def to_xlsx(sheets: dict[str, tuple[list[str], list[dict]]]) -> bytes:
    """``sheets``: name → (columns, rows); row 1 English headers, row 2 Chinese."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, (columns, rows) in sheets.items():
        ws = wb.create_sheet(name[:31])
        ws.append(columns)
        ws.append([ZH.get(c, c) for c in columns])
        for r in rows:
            ws.append([_cell(r.get(c)) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
