"""The annual zero-carbon / carbon-information disclosure (零碳工厂建设报告, 000 L59; 003 L159,
L176): emissions by scope, own reductions (measures), offsets by source and quantity, net
emissions and the scorecard; as a dict, XLSX and PDF, headings in English and Chinese.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy.orm import Session

from assets import offsets as offsets_mod
from assets import scorecard as scorecard_mod
from carbon import report
from metering import registry

HEADINGS = {
    "title": ("Zero-carbon disclosure", "零碳信息披露报告"),
    "emissions": ("Emissions by scope", "分范围温室气体排放"),
    "measures": ("Own reductions and measures", "自主减排措施"),
    "offsets": ("Offsets by source", "碳抵消（按来源）"),
    "net": ("Net emissions", "净排放"),
    "scorecard": ("Zero-carbon scorecard", "零碳指标"),
}


def _h(key: str) -> str:
    en, zh = HEADINGS[key]
    return f"{en} · {zh}"


def disclosure(session: Session, site: str, year: int, served_paths: Iterable[str]) -> dict:
    """Everything the report shows, each figure with the derivation it comes from."""
    inv = report.inventory(session, site, year)
    off = offsets_mod.offsets(session, site, year)
    card = scorecard_mod.scorecard(session, site, year, served_paths)
    site_row = registry.get_site(session, site)
    by_source: dict[tuple[str, str], Decimal] = {}
    for o in off["offsets"]:
        key = (o["kind"], o["registry"] or "")
        by_source[key] = by_source.get(key, Decimal(0)) + o["quantity"]
    r = inv["results"]
    return {
        "title": f"{_h('title')} {year}: {site_row.name} ({site})",
        "site": site,
        "year": year,
        "period": inv["period"],
        "emissions": {
            "scope1_tco2e": r["scope1_tco2e"],
            "scope2_location_tco2": r["scope2_location_tco2"],
            "scope2_market_tco2": r["scope2_market_tco2"],
            "scope3_tco2e": None,
            "scope3_note": "scope 3 not measured",
            "energy_tce": r["energy_tce"],
            "derivation_hash": inv["derivation_hash"],
        },
        "measures": off["reductions"],
        "offsets": [
            {"kind": k, "registry": reg, "tco2e": q} for (k, reg), q in sorted(by_source.items())
        ],
        "net": {
            k: off[k]
            for k in ("gross_tco2", "reductions_tco2", "residual_tco2", "offsets_tco2", "net_tco2")
        },
        "warnings": off["warnings"],
        "scorecard": card,
        "monthly": inv["monthly"],
    }


def _cell(v: object) -> object:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dict | list):
        return str(v)
    return v


def to_xlsx(d: dict) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws.append([d["title"]])
    ws.append([_h("emissions")])
    for k, v in d["emissions"].items():
        ws.append([k, _cell(v)])
    ws.append([_h("net")])
    for k, v in d["net"].items():
        ws.append([k, _cell(v)])
    for w in d["warnings"]:
        ws.append(["warning", w["message"]])
    m = wb.create_sheet("Measures")
    m.append(["measure · 措施", "baseline year · 基准年", "tCO2", "evidence · 证据"])
    for r in d["measures"]:
        m.append([r["measure"], r["baseline_year"], _cell(r["tco2"]), r["evidence"]])
    o = wb.create_sheet("Offsets")
    o.append(["kind · 类型", "registry · 登记系统", "tCO2e"])
    for r in d["offsets"]:
        o.append([r["kind"], r["registry"], _cell(r["tco2e"])])
    s = wb.create_sheet("Scorecard")
    s.append(["code", "indicator · 指标", "value", "unit", "threshold", "status · 状态"])
    for i in d["scorecard"]["indicators"]:
        t = i["threshold"]
        s.append(
            [
                i["code"],
                f"{i['name']} · {i['name_zh']}",
                i["value"],
                i["unit"],
                None if t is None else f"{t['comparison']} {t['value']} ({t['set']})",
                i["status"],
            ]
        )
    for sheet in wb.worksheets:  # user text never runs as a formula
        for row in sheet.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    c.value = "'" + c.value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_pdf(d: dict) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table

    from core import pdf_fonts

    st = pdf_fonts.styles()
    body, head = st["body"], st["head"]

    def Paragraph(text: object, style: object) -> object:  # noqa: N802
        return pdf_fonts.paragraph(text, style)

    def p(text: object) -> object:
        return Paragraph(report.number_text(_cell(text)) if text is not None else "—", body)

    def table(rows: list[list]) -> Table:
        return pdf_fonts.table(
            [[report.number_text(_cell(c)) if c is not None else "—" for c in r] for r in rows],
            body,
        )

    story: list = [Paragraph(d["title"], st["title"]), Spacer(0, 6)]
    story += [Paragraph(_h("emissions"), head), table([["", "t"], *d["emissions"].items()])]
    story += [Paragraph(_h("measures"), head)]
    story += [
        table([["measure · 措施", "tCO2"]] + [[r["measure"], r["tco2"]] for r in d["measures"]])
    ]
    story += [Paragraph(_h("offsets"), head)]
    story += [
        table(
            [["kind · 类型", "registry · 登记系统", "tCO2e"]]
            + [[r["kind"], r["registry"], r["tco2e"]] for r in d["offsets"]]
        )
    ]
    story += [Paragraph(_h("net"), head), table([["", "t"], *d["net"].items()])]
    for w in d["warnings"]:
        story.append(Paragraph(f"Warning / 警告: {w['message']}", st["warn"]))
    story += [Paragraph(_h("scorecard"), head)]
    story += [
        table(
            [["indicator · 指标", "value", "unit", "status · 状态"]]
            + [
                [f"{i['name']} · {i['name_zh']}", i["value"], i["unit"], i["status"]]
                for i in d["scorecard"]["indicators"]
            ]
        )
    ]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=d["title"], **pdf_fonts.document_options()).build(
        story
    )
    return buf.getvalue()
