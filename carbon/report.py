"""The annual GHG inventory in the GB/T 32150 structure: reporting entity and period, boundary,
emission sources, activity data, factors, results by scope and gas, data-quality notes; as a
dict (the figures of ``GET /api/v1/carbon/emissions`` for the year), XLSX and PDF with charts.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from carbon import derivation, engine, factors
from core.errors import Invalid
from core.exports import safe_cell
from metering import clock, registry
from metering.coverage import coverage

COMPLETE_SHARE = 0.95  # a month with fewer of its expected readings is incomplete
UNCONFIRMED = ("single_source", "single_source_secondary", "conflict", "unverified", "user")
NOTES = [
    "Scope 2 is reported both ways: location-based with the average grid factor of the site's "
    "region and data year; market-based with certificates (GEC) and green-power contracts at "
    "zero, never beyond the grid consumption of their period, and the rest at the national "
    "residual factor (excluding market-traded non-fossil power).",
    "Offsets (CCER) do not reduce scope 1 or scope 2; they are reported separately.",
    "Sub-meters whose parent meter is inside the boundary are not added again.",
    "Where a data year's grid factor is not published yet, the latest published year is used "
    "(listed below as factor_period_fallback).",
]


def _year_bounds(session: Session, site: str, year: int) -> tuple[datetime, datetime]:
    if not 1990 <= year <= 2200:
        raise Invalid("year", "a four-digit year")
    return clock.period_bounds("year", date(year, 1, 1), clock.site_zone(session, site))


def inventory(
    session: Session,
    site: str,
    year: int,
    *,
    version: int | None = None,
    gwp_set: str = factors.DEFAULT_GWP_SET,
    tce_convention: str = "equivalent",
) -> dict:
    start, end = _year_bounds(session, site, year)
    tz = clock.site_zone(session, site)
    year_calc = engine.calculate(
        session, site, start, end, version=version, gwp_set=gwp_set, tce_convention=tce_convention
    )
    year_em = year_calc.result(session)
    months = []
    counted = [m.id for m in year_calc.calc.boundary.counted]
    for m in range(1, 13):
        lo, hi = clock.period_bounds("month", date(year, m, 1), tz)
        cov = coverage(session, counted, lo, hi)
        em = engine.emissions(
            session,
            site,
            lo,
            hi,
            version=year_em["version"],
            gwp_set=gwp_set,
            tce_convention=tce_convention,
        )
        months.append(
            {
                "month": f"{year}-{m:02d}",
                "scope1_tco2e": em["scope1_tco2e"],
                "scope2_location_tco2": em["scope2_location_tco2"],
                "scope2_market_tco2": em["scope2_market_tco2"],
                "energy_tce": em["energy_tce"],
                "derivation_hash": em["derivation_hash"],
                "readings": cov.readings,
                "expected_readings": cov.expected,
                "completeness": cov.share,
            }
        )
    body = year_calc.derivation
    assert body is not None
    used = body["inputs"]["factors"]
    quality = list(year_em["data_quality"])
    for f in used:
        if f["verification"] in UNCONFIRMED or (f["verification"] or "").startswith("single"):
            quality.append(
                {
                    "code": "factor_confirmation",
                    "subject": f"factor {f['id']}",
                    "detail": f"{f['key']}: verification {f['verification']!r}",
                }
            )
    site_row = registry.get_site(session, site)
    return {
        "title": f"GHG inventory {year}: {site_row.name} ({site})",
        "standard": "GB/T 32150 (ISO 14064-1, GHG Protocol scope 2 guidance)",
        "entity": {
            "site": site,
            "name": site_row.name,
            "region": site_row.region,
            "timezone": site_row.timezone,
        },
        "period": {"year": year, "start": start.astimezone(tz), "end": end.astimezone(tz)},
        "boundary": {
            "sites": [
                registry.site_codes(session)[i] for i in registry.site_subtree_ids(session, site)
            ],
            "meters": body["inputs"]["boundary"],
            "submeters_not_counted": body["inputs"]["submeters_not_counted"],
        },
        "sources": year_em["by_source"],
        "activity_data": body["inputs"]["activity"],
        "factors": used,
        "results": {
            k: year_em[k]
            for k in (
                "scope1_tco2",
                "scope1_tco2e",
                "scope2_location_tco2",
                "scope2_market_tco2",
                "total_location_tco2e",
                "total_market_tco2e",
                "energy_tce",
                "by_gas",
                "by_carrier",
                "electricity",
                "certificates",
            )
        },
        "monthly": months,
        "completeness": completeness(year, months),
        "data_quality": quality,
        "notes": NOTES,
        "version": year_em["version"],
        "gwp_set": gwp_set,
        "tce_convention": tce_convention,
        "derivation_hash": year_em["derivation_hash"],
    }


def _month_span(year: int, ms: list[int]) -> str:
    """Consecutive months as ranges: ``Jan–Aug 2026, Nov 2026``."""
    names = [date(year, m, 1).strftime("%b") for m in range(1, 13)]
    spans: list[list[int]] = []
    for m in ms:
        if spans and m == spans[-1][-1] + 1:
            spans[-1].append(m)
        else:
            spans.append([m])
    return ", ".join(
        f"{names[s[0] - 1]}–{names[s[-1] - 1]} {year}"
        if len(s) > 1
        else f"{names[s[0] - 1]} {year}"
        for s in spans
    )


def _runs(ms: list[int]) -> list[list[int]]:
    spans: list[list[int]] = []
    for m in ms:
        if spans and m == spans[-1][-1] + 1:
            spans[-1].append(m)
        else:
            spans.append([m])
    return spans


def _month_span_zh(year: int, ms: list[int]) -> str:
    """Consecutive months as ranges: ``2026 年 1–8 月、11 月``."""
    return f"{year} 年 " + "、".join(
        f"{s[0]}–{s[-1]} 月" if len(s) > 1 else f"{s[0]} 月" for s in _runs(ms)
    )


def completeness(year: int, months: list[dict]) -> dict:
    """Months with data and the share of expected readings over the year, with a warning
    (English / 中文) when any month falls short of ``COMPLETE_SHARE``."""
    readings = sum(m["readings"] for m in months)
    expected = sum(m["expected_readings"] for m in months)
    with_data = [int(m["month"][5:]) for m in months if m["readings"]]
    short = [
        int(m["month"][5:])
        for m in months
        if m["completeness"] is None or m["completeness"] < COMPLETE_SHARE
    ]
    warning = None
    if short:
        none = [m for m in short if m not in with_data]
        part = [m for m in short if m in with_data]
        en = [f"Incomplete: data cover {len(with_data)} of 12 months"]
        zh = [f"数据不完整：12 个月中 {len(with_data)} 个月有数据"]
        if none:
            en.append(f"no readings in {_month_span(year, none)}")
            zh.append(f"{_month_span_zh(year, none)}无读数")
        if part:
            en.append(
                f"below {COMPLETE_SHARE:.0%} of the expected readings in {_month_span(year, part)}"
            )
            zh.append(f"{_month_span_zh(year, part)}读数不足应有的 {COMPLETE_SHARE:.0%}")
        warning = (
            "; ".join(en) + ". The annual totals cover only the data present and understate "
            "the year. / " + "；".join(zh) + "。年度合计仅含已有数据，低于全年实际。"
        )
    return {
        "months_with_data": len(with_data),
        "readings": readings,
        "expected_readings": expected,
        "share": min(1.0, readings / expected) if expected else None,
        "incomplete_months": [f"{year}-{m:02d}" for m in short],
        "warning": warning,
    }


def _fmt(v: object) -> object:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, dict | list):
        return str(v)
    return v


XLSX_NUMBER = "#,##0.0#####"  # thousands separators, every stored decimal up to six


def number_text(v: object) -> str:
    """A cell of the PDF: floats with thousands separators and up to six decimals (the
    figures stay exact enough to recompute), everything else as stored."""
    if isinstance(v, float):
        text = f"{v:,.6f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    return str(_fmt(v))


def to_xlsx(inv: dict) -> bytes:
    """One sheet per part of the inventory; monthly bar chart and scope pie chart."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, PieChart, Reference

    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws.append([inv["title"]])
    ws.append(["Standard", inv["standard"]])
    ws.append(["Period", _fmt(inv["period"]["start"]), _fmt(inv["period"]["end"])])
    ws.append(
        [
            "Calculation version",
            inv["version"],
            "GWP set",
            inv["gwp_set"],
            "tce convention",
            inv["tce_convention"],
        ]
    )
    ws.append(["Derivation sha256", inv["derivation_hash"]])
    ws.append([])
    ws.append(["Result", "Value", "Unit"])
    r = inv["results"]
    first = ws.max_row + 1
    for label, key, unit in (
        ("Scope 1 (CO2)", "scope1_tco2", "tCO2"),
        ("Scope 1 (all gases)", "scope1_tco2e", "tCO2e"),
        ("Scope 2 location-based", "scope2_location_tco2", "tCO2"),
        ("Scope 2 market-based", "scope2_market_tco2", "tCO2"),
        ("Total, location-based", "total_location_tco2e", "tCO2e"),
        ("Total, market-based", "total_market_tco2e", "tCO2e"),
        ("Comprehensive energy consumption", "energy_tce", "tce"),
    ):
        ws.append([label, r[key], unit])
    pie = PieChart()
    pie.title = "Scope 1 vs scope 2 (location-based)"
    # rows: scope 1 (all gases) and scope 2 location-based
    pie.add_data(Reference(ws, min_col=2, min_row=first + 1, max_row=first + 2))
    pie.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=first + 2))
    ws.add_chart(pie, "E8")
    ws.append([])
    ws.append(["By gas", "t", "tCO2e"])
    for g in r["by_gas"]:
        ws.append([g["gas"], g["t"], g["tco2e"]])

    if inv["completeness"]["warning"]:
        ws.append([])
        ws.append(["Completeness", inv["completeness"]["warning"]])

    ws = wb.create_sheet("Monthly")
    ws.append(
        [
            "Month",
            "Scope 1 tCO2e",
            "Scope 2 location tCO2",
            "Scope 2 market tCO2",
            "Energy tce",
            "Readings",
            "Expected readings",
            "Completeness",
        ]
    )
    for m in inv["monthly"]:
        ws.append(
            [
                m["month"],
                m["scope1_tco2e"],
                m["scope2_location_tco2"],
                m["scope2_market_tco2"],
                m["energy_tce"],
                m["readings"],
                m["expected_readings"],
                m["completeness"],
            ]
        )
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
    chart.title, chart.y_axis.title = "Monthly emissions", "tCO2e"
    chart.add_data(
        Reference(ws, min_col=2, max_col=3, min_row=1, max_row=13), titles_from_data=True
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=13))
    ws.add_chart(chart, "G2")

    for title, rows in (
        ("Boundary", inv["boundary"]["meters"]),
        ("Sources", inv["sources"]),
        ("Activity data", inv["activity_data"]),
        ("Factors", inv["factors"]),
        ("Data quality", inv["data_quality"]),
    ):
        ws = wb.create_sheet(title)
        keys = list(rows[0]) if rows else ["(none)"]
        ws.append(keys)
        for row in rows:
            ws.append([_fmt(row.get(k)) for k in keys])
    ws = wb["Data quality"]
    ws.append([])
    for note in inv["notes"]:
        ws.append([note])
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, float):
                    cell.number_format = XLSX_NUMBER
                elif isinstance(cell.value, str):  # user text never becomes a formula
                    cell.value = safe_cell(cell.value)
                    cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def amount_text(v: object) -> str:
    """An amount on paper (t, tce, activity): thousands separators and two decimals (the
    XLSX keeps every decimal)."""
    if isinstance(v, float | int) and not isinstance(v, bool):
        return f"{v:,.2f}"
    return "" if v is None else str(v)


def share_text(month: dict) -> str:
    """A month's share of its expected readings on paper, flagged when incomplete."""
    share = month["completeness"]
    if share is None:
        return "—"
    if not month["readings"]:
        return "no data / 无数据"
    text = f"{share:.1%}"
    return text if share >= COMPLETE_SHARE else f"{text} incomplete / 不完整"


def local_period(inv: dict) -> str:
    """The reporting period as the site's local dates, the last day inclusive."""
    p = inv["period"]
    last = (p["end"] - timedelta(days=1)).date()
    return f"{p['start'].date().isoformat()} – {last.isoformat()} ({inv['entity']['timezone']})"


_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)")


def local_text(text: str, zone: str) -> str:
    """``text`` with every ISO timestamp in it written as the site's local date (and time
    when not midnight): what a reader of the paper report expects."""
    tz = ZoneInfo(zone)

    def local(m: re.Match) -> str:
        t = datetime.fromisoformat(m.group(0).replace("Z", "+00:00")).astimezone(tz)
        return t.strftime("%Y-%m-%d") if t.time() == time(0) else t.strftime("%Y-%m-%d %H:%M")

    return _ISO.sub(local, text)


def to_pdf(inv: dict) -> bytes:
    """A4 report: completeness, summary table, monthly bar chart, scope pie, sources,
    factors, notes; headings in English / 中文, amounts to two decimals, local dates, every
    font embedded (:mod:`core.pdf_fonts`)."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.piecharts import Pie
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, SimpleDocTemplate, Spacer, Table

    from core import pdf_fonts

    st = pdf_fonts.styles()
    body, head, title = st["body"], st["head"], st["title"]

    Paragraph = pdf_fonts.paragraph  # noqa: N806 (every text escaped: never markup)

    def table(rows: list[list], widths: list[float] | None = None) -> Table:
        return pdf_fonts.table(rows, body, widths)

    r = inv["results"]
    c = inv["completeness"]
    year = inv["period"]["year"]
    zone = inv["entity"]["timezone"]
    story: list = [
        Paragraph(f"GHG inventory {year} / 温室气体排放清单 {year}", title),
        Paragraph(f"{inv['entity']['name']} ({inv['entity']['site']})", head),
        Paragraph(
            f"{inv['standard']}. Reporting period / 报告期: {local_period(inv)}. "
            f"Calculation version {inv['version']}, GWP {inv['gwp_set']}, "
            f"tce {inv['tce_convention']}.",
            body,
        ),
        Paragraph(f"Derivation sha256: {inv['derivation_hash']}", body),
    ]
    if c["warning"]:
        story.append(Paragraph(c["warning"], st["warn"]))
    story += [
        Paragraph("1. Results by scope / 按范围汇总", head),
        table(
            [
                ["Result / 项目", "Value / 数值", "Unit / 单位"],
                ["Scope 1 (CO₂) / 范围一（CO₂）", amount_text(r["scope1_tco2"]), "tCO₂"],
                [
                    "Scope 1 (all gases) / 范围一（全部气体）",
                    amount_text(r["scope1_tco2e"]),
                    "tCO₂e",
                ],
                [
                    "Scope 2 location-based / 范围二（基于位置）",
                    amount_text(r["scope2_location_tco2"]),
                    "tCO₂",
                ],
                [
                    "Scope 2 market-based / 范围二（基于市场）",
                    amount_text(r["scope2_market_tco2"]),
                    "tCO₂",
                ],
                [
                    "Total, location-based / 合计（基于位置）",
                    amount_text(r["total_location_tco2e"]),
                    "tCO₂e",
                ],
                [
                    "Total, market-based / 合计（基于市场）",
                    amount_text(r["total_market_tco2e"]),
                    "tCO₂e",
                ],
                [
                    "Comprehensive energy consumption / 综合能源消费量",
                    amount_text(r["energy_tce"]),
                    "tce",
                ],
            ],
            [95 * mm, 40 * mm, 25 * mm],
        ),
        Spacer(1, 4 * mm),
        table(
            [
                ["Gas / 气体", "Mass / 质量 (t)", "tCO₂e"],
                *[[g["gas"], amount_text(g["t"]), amount_text(g["tco2e"])] for g in r["by_gas"]],
            ],
            [40 * mm, 40 * mm, 40 * mm],
        ),
        Paragraph("2. Data completeness / 数据完整性", head),
        Paragraph(
            f"Months with data / 有数据的月份: {c['months_with_data']} of 12. Readings / 读数: "
            f"{c['readings']:,} of {c['expected_readings']:,} expected / 应有"
            + (f" ({c['share']:.1%})." if c["share"] is not None else "."),
            body,
        ),
        table(
            [
                [
                    "Month / 月份",
                    "Readings / 读数",
                    "Expected / 应有",
                    "Share / 比例",
                    "tCO₂e (location / 基于位置)",
                ],
                *[
                    [
                        m["month"],
                        f"{m['readings']:,}",
                        f"{m['expected_readings']:,}",
                        share_text(m),
                        amount_text(m["scope1_tco2e"] + m["scope2_location_tco2"]),
                    ]
                    for m in inv["monthly"]
                ],
            ],
            [25 * mm, 30 * mm, 30 * mm, 45 * mm, 40 * mm],
        ),
    ]

    d = Drawing(170 * mm, 62 * mm, initialFontName=pdf_fonts.LATIN)
    bc = VerticalBarChart()
    bc.x, bc.y, bc.width, bc.height = 15 * mm, 8 * mm, 100 * mm, 50 * mm
    bc.data = [
        [m["scope1_tco2e"] for m in inv["monthly"]],
        [m["scope2_location_tco2"] for m in inv["monthly"]],
    ]
    bc.categoryAxis.categoryNames = [m["month"][5:] for m in inv["monthly"]]
    bc.categoryAxis.labels.fontName = bc.valueAxis.labels.fontName = pdf_fonts.LATIN
    bc.categoryAxis.labels.fontSize = bc.valueAxis.labels.fontSize = 7
    bc.bars[0].fillColor, bc.bars[1].fillColor = colors.darkorange, colors.steelblue
    bc.valueAxis.valueMin = 0
    d.add(bc)
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 125 * mm, 12 * mm, 40 * mm, 40 * mm
    s1, s2 = max(r["scope1_tco2e"], 0.0), max(r["scope2_location_tco2"], 0.0)
    pie.data = [s1, s2] if s1 + s2 > 0 else [1, 1]
    pie.labels = ["Scope 1", "Scope 2"]
    pie.slices.fontName, pie.slices.fontSize = pdf_fonts.LATIN, 7
    pie.slices[0].fillColor, pie.slices[1].fillColor = colors.darkorange, colors.steelblue
    d.add(pie)
    story.append(
        KeepTogether(
            [
                Paragraph("3. Monthly emissions / 月度排放", head),
                Paragraph(
                    "tCO₂e per month: scope 1 (orange), scope 2 location-based (blue) / "
                    "每月排放：范围一（橙色）、范围二基于位置（蓝色）",
                    body,
                ),
                d,
            ]
        )
    )

    b = inv["boundary"]
    story += [
        Paragraph("4. Boundary / 核算边界", head),
        Paragraph(
            f"Sites / 场所: {', '.join(b['sites'])}. Sub-meters not counted again / "
            f"不重复计入的分表: {', '.join(b['submeters_not_counted']) or 'none / 无'}.",
            body,
        ),
        table(
            [
                [
                    "Meter / 计量表",
                    "Site / 场所",
                    "Carrier / 能源品种",
                    "Scope / 范围",
                    "Source / 排放源",
                    "Fuel / 燃料",
                ],
                *[
                    [m["meter"], m["site"], m["carrier"], m["scope"], m["source"], m["fuel"]]
                    for m in b["meters"]
                ],
            ]
        ),
        Paragraph("5. Emission sources and activity data / 排放源与活动数据", head),
        table(
            [
                [
                    "Meter / source / 排放源",
                    "Scope / 范围",
                    "Activity / 活动数据",
                    "Unit / 单位",
                    "Factor / 因子",
                    "Factor unit / 因子单位",
                    "Factor id",
                    "tCO₂e",
                ],
                *[
                    [
                        s.get("meter") or s.get("source"),
                        s["scope"],
                        amount_text(s["activity"]),
                        s["unit"],
                        number_text(s["factor"]),
                        s["factor_unit"],
                        s["factor_id"],
                        amount_text(s["tco2e"]),
                    ]
                    for s in inv["sources"]
                ],
            ]
        ),
        Paragraph("6. Emission factors and sources / 排放因子及来源", head),
        table(
            [
                [
                    "Id",
                    "Key / 键",
                    "Value / 数值",
                    "Unit / 单位",
                    "Source document / 来源文件",
                    "Verification / 核验",
                ],
                *[
                    [
                        f["id"],
                        f["key"],
                        number_text(f["value"]),
                        f["unit"],
                        f["source_document"],
                        f["verification"],
                    ]
                    for f in inv["factors"]
                ],
            ],
            [10 * mm, 35 * mm, 18 * mm, 20 * mm, 65 * mm, 25 * mm],
        ),
        Paragraph("7. Data quality and notes / 数据质量与说明", head),
        *[
            Paragraph(local_text(f"{q['code']} — {q['subject']}: {q['detail']}", zone), body)
            for q in inv["data_quality"]
        ],
        *[Paragraph(n, body) for n in inv["notes"]],
    ]
    buf = io.BytesIO()
    SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=inv["title"],
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        **pdf_fonts.document_options(),
    ).build(story)
    return buf.getvalue()


FORMATS = ("json", "xlsx", "pdf")


def write_files(
    session: Session, site: str, year: int, formats: list[str], out_dir: Path, **options: object
) -> list[Path]:
    """Write the inventory in each format to ``out_dir``; the paths written."""
    for f in formats:
        if f not in FORMATS:
            raise Invalid("format", f"one of {', '.join(FORMATS)}, not {f!r}")
    inv = inventory(session, site, year, **options)  # type: ignore[arg-type]
    session.commit()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in formats:
        path = out_dir / f"ghg-inventory-{site}-{year}.{f}"
        if f == "json":
            path.write_text(derivation.canonical_json(inv), encoding="utf-8")
        else:
            path.write_bytes(to_xlsx(inv) if f == "xlsx" else to_pdf(inv))
        paths.append(path)
    return paths
