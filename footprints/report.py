"""The footprint report in the GB/T 24067 structure (goal and scope, declared unit, system
boundary, data sources and quality, allocation, results by stage, limitations), in English or
简体中文, as XLSX, PDF or JSON."""

from __future__ import annotations

import io
import json
from datetime import datetime

from carbon.derivation import canonical_json

T = {
    "title": (
        "Product carbon footprint report (GB/T 24067-2024)",
        "产品碳足迹报告（GB/T 24067-2024）",
    ),
    "goal": ("1 Goal and scope", "1 目的与范围"),
    "unit": ("2 Declared unit", "2 声明单位"),
    "boundary": ("3 System boundary", "3 系统边界"),
    "data": ("4 Data sources and quality", "4 数据来源与质量"),
    "allocation": ("5 Allocation", "5 分配"),
    "results": ("6 Results by life-cycle stage", "6 分阶段结果"),
    "materials": ("7 Results by material and supplier", "7 分物料与供应商结果"),
    "limits": ("8 Limitations", "8 局限性"),
    "product": ("Product", "产品"),
    "period": ("Reference period", "参考期"),
    "purpose": ("Purpose", "目的"),
    "purpose_text": (
        "Partial PCF (cradle-to-gate) for business-to-business communication",
        "部分产品碳足迹（从摇篮到大门），用于企业间沟通",
    ),
    "declared_unit": ("Declared unit", "声明单位"),
    "stages_in": ("Stages included", "包含阶段"),
    "stages_in_text": (
        "raw materials, inbound transport, manufacturing energy (metered), process "
        "emissions, packaging",
        "原材料获取、入厂运输、生产能耗（计量）、过程排放、包装",
    ),
    "stages_out": ("Stages excluded", "排除阶段"),
    "stages_out_text": ("distribution, use, end of life", "分销、使用、废弃处置"),
    "primary": ("Primary data share", "初级数据占比"),
    "rating": ("Data-quality rating", "数据质量评级"),
    "coverage": ("Factor coverage of BOM lines", "物料清单因子覆盖率"),
    "ef": ("Electricity carbon-footprint factor", "电力碳足迹因子"),
    "bom": ("BOM version", "物料清单版本"),
    "method": ("Allocation method", "分配方法"),
    "method_mass": ("by mass of co-products (physical)", "按联产品质量（物理关系）"),
    "method_economic": ("by output value (economic)", "按产值（经济价值）"),
    "method_none": ("no shared process", "无共用过程"),
    "kwh_unit": ("Allocated electricity per declared unit", "单位产品分摊电量"),
    "stage": ("Stage", "阶段"),
    "kg": ("kgCO2e per declared unit", "kgCO2e/声明单位"),
    "total": ("Total", "合计"),
    "raw_materials": ("Raw materials", "原材料"),
    "transport": ("Inbound transport", "运输"),
    "energy": ("Manufacturing energy", "生产能耗"),
    "process": ("Process emissions", "过程排放"),
    "packaging": ("Packaging", "包装"),
    "material": ("Material", "物料"),
    "supplier": ("Supplier", "供应商"),
    "quantity": ("Quantity", "用量"),
    "factor": ("Factor (kgCO2e/unit)", "因子（kgCO2e/单位）"),
    "source": ("Source", "来源"),
    "type": ("Data type", "数据类型"),
    "hash": ("Derivation (sha256)", "推导哈希（sha256）"),
    "version": ("Footprint version", "足迹版本"),
    "limits_text": (
        "Biogenic carbon, land-use change and removals are not assessed. Factors are taken as "
        "entered or imported with their sources; the national electricity carbon-footprint "
        "factor is the newest published data year. Clause wording to be checked against the "
        "GB/T 24067-2024 text.",
        "未评估生物源碳、土地利用变化与碳移除。因子按录入或导入时的来源使用；电力碳足迹因子"
        "取最新发布年份。条款表述需与 GB/T 24067-2024 原文核对。",
    ),
    "findings": ("Findings", "发现"),
}


def _t(key: str, lang: str) -> str:
    return T[key][1 if lang == "zh" else 0]


def _n(x: float | None, digits: int = 6) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def sections(fp: dict, lang: str) -> list[tuple[str, list[list[str]]]]:
    """The report as (heading, rows) in the GB/T 24067 order."""
    t = lambda k: _t(k, lang)  # noqa: E731
    ef = fp.get("electricity_factor")
    alloc = fp["energy"]["allocation"]
    stages = fp["by_stage"]
    return [
        (
            t("goal"),
            [
                [t("product"), f"{fp['product']} — {fp['name']}"],
                [t("period"), f"{_iso(fp['start'])} – {_iso(fp['end'])}"],
                [t("purpose"), t("purpose_text")],
            ],
        ),
        (t("unit"), [[t("declared_unit"), f"1 {fp['declared_unit']}"]]),
        (
            t("boundary"),
            [[t("stages_in"), t("stages_in_text")], [t("stages_out"), t("stages_out_text")]],
        ),
        (
            t("data"),
            [
                [t("primary"), f"{fp['primary_data_share'] * 100:.1f} %"],
                [t("rating"), fp["data_quality"]["rating"]],
                [t("coverage"), f"{float(fp['data_quality']['factor_coverage']) * 100:.1f} %"],
                [
                    t("ef"),
                    f"{ef['value']} kgCO2e/kWh — {ef['source']}" if ef else "—",
                ],
                [t("bom"), str(fp["bom_version"])],
                [t("version"), str(fp["version"])],
                [t("hash"), fp["derivation_hash"]],
            ],
        ),
        (
            t("allocation"),
            [
                [t("method"), t(f"method_{alloc}") if alloc else t("method_none")],
                [t("kwh_unit"), f"{_n(fp['energy']['kwh_per_unit'])} kWh"],
            ],
        ),
        (
            t("results"),
            [[t("stage"), t("kg")]]
            + [[t(k), _n(v)] for k, v in stages.items()]
            + [[t("total"), _n(fp["kgco2e_per_unit"])]],
        ),
        (
            t("materials"),
            [
                [
                    t("material"),
                    t("supplier"),
                    t("quantity"),
                    t("factor"),
                    t("kg"),
                    t("type"),
                    t("source"),
                ]
            ]
            + [
                [
                    m["material"],
                    m["supplier"] or "—",
                    f"{_n(m['quantity'], 3)} {m['unit']}",
                    _n(m["factor_kgco2e_per_unit"]),
                    _n(m["kgco2e_per_unit"]),
                    m["data_type"] or "—",
                    m["factor_source"] or "—",
                ]
                for m in fp["by_material"]
            ],
        ),
        (
            t("limits"),
            [[t("limits_text")]]
            + [[t("findings"), f"{f['code']}: {f['subject']}"] for f in fp["findings"]],
        ),
    ]


def _iso(t: object) -> str:
    return t.isoformat() if isinstance(t, datetime) else str(t)


def render(fp: dict, fmt: str, lang: str) -> tuple[bytes, str, str]:
    base = f"footprint-{fp['product']}-{_iso(fp['start'])[:10]}-v{fp['version']}"
    if fmt == "json":
        return canonical_json(fp).encode(), "application/json", f"{base}.json"
    if fmt == "pdf":
        return to_pdf(fp, lang), "application/pdf", f"{base}.pdf"
    return (
        to_xlsx(fp, lang),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{base}.xlsx",
    )


def to_xlsx(fp: dict, lang: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "PCF"
    ws.append([_t("title", lang)])
    ws["A1"].font = Font(bold=True, size=14)
    for heading, rows in sections(fp, lang):
        ws.append([])
        ws.append([heading])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        for r in rows:
            ws.append(r)
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 60
    raw = wb.create_sheet("derivation")
    raw.append(["json"])
    raw.append([json.dumps(fp, ensure_ascii=False, default=str)[:32000]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_pdf(fp: dict, lang: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer

    from core import pdf_fonts

    st = pdf_fonts.styles()
    story: list = [pdf_fonts.paragraph(_t("title", lang), st["title"])]
    for heading, rows in sections(fp, lang):
        story.append(pdf_fonts.paragraph(heading, st["head"]))
        story += [pdf_fonts.table(rows, st["body"], header=False, hAlign="LEFT"), Spacer(1, 3 * mm)]
    buf = io.BytesIO()
    SimpleDocTemplate(
        buf, pagesize=A4, title=_t("title", lang), **pdf_fonts.document_options()
    ).build(story)
    return buf.getvalue()
