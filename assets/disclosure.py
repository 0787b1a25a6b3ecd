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
from core.exports import figure_text
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


# the unit of a disclosure figure, from its name's suffix (units in names)
UNIT_SUFFIXES = (("_tco2e", "tCO₂e"), ("_tco2", "tCO₂"), ("_tce", "tce"))
VALUE_UNIT = ["value · 数值", "unit · 单位"]


def unit_of(key: str) -> str:
    return next((unit for suffix, unit in UNIT_SUFFIXES if key.endswith(suffix)), "")


def figure(v: object, unit: str = "") -> str:
    """A figure on paper, rounded for people by the one export rule
    (:func:`core.exports.figure_text`); text as it is, nothing as a dash."""
    if v is None:
        return "—"
    if isinstance(v, Decimal | float | int) and not isinstance(v, bool):
        return figure_text(float(v), unit)
    return str(v)


def _figure_rows(items: dict) -> list[list[str]]:
    """[name, figure, unit] of each item of a dict named with its unit suffix."""
    return [[k, figure(v, unit_of(k)), unit_of(k)] for k, v in items.items()]


def to_pdf(d: dict) -> bytes:
    """The disclosure on paper: every figure rounded (6 significant digits) with its unit; the
    JSON and the XLSX keep full precision."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer

    from core import pdf_fonts

    st = pdf_fonts.styles()
    body, head = st["body"], st["head"]

    def paragraph(text: str, style: object) -> object:
        return pdf_fonts.paragraph(text, style)

    def table(rows: list[list], widths_mm: list[int]) -> object:
        cells = [["—" if c is None else c for c in r] for r in rows]
        return pdf_fonts.table(cells, body, [w * mm for w in widths_mm])

    three = [75, 45, 30]  # name, value, unit

    t_co2, t_co2e = "tCO₂", "tCO₂e"
    story: list = [paragraph(d["title"], st["title"]), Spacer(0, 6)]
    story += [
        paragraph(_h("emissions"), head),
        table([["", *VALUE_UNIT], *_figure_rows(d["emissions"])], three),
    ]
    story += [paragraph(_h("measures"), head)]
    story += [
        table(
            [["measure · 措施", *VALUE_UNIT]]
            + [[r["measure"], figure(r["tco2"], t_co2), t_co2] for r in d["measures"]],
            three,
        )
    ]
    story += [paragraph(_h("offsets"), head)]
    story += [
        table(
            [["kind · 类型", "registry · 登记系统", *VALUE_UNIT]]
            + [
                [r["kind"], r["registry"], figure(r["tco2e"], t_co2e), t_co2e] for r in d["offsets"]
            ],
            [30, 45, 45, 30],
        )
    ]
    story += [
        paragraph(_h("net"), head),
        table([["", *VALUE_UNIT], *_figure_rows(d["net"])], three),
    ]
    for w in d["warnings"]:
        story.append(paragraph(f"Warning / 警告: {w['message']}", st["warn"]))
    story += [paragraph(_h("scorecard"), head)]
    story += [
        table(
            [["indicator · 指标", *VALUE_UNIT, "status · 状态"]]
            + [
                [
                    f"{i['name']} · {i['name_zh']}",
                    figure(i["value"], i["unit"] or ""),
                    i["unit"],
                    i["status"],
                ]
                for i in d["scorecard"]["indicators"]
            ],
            [75, 35, 25, 25],
        )
    ]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=d["title"], **pdf_fonts.document_options()).build(
        story
    )
    return buf.getvalue()
