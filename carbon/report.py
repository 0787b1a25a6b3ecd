"""The annual GHG inventory in the GB/T 32150 structure: reporting entity and period, boundary,
emission sources, activity data, factors, results by scope and gas, data-quality notes; as a
dict (the figures of ``GET /api/v1/carbon/emissions`` for the year), XLSX and PDF with charts.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from sqlalchemy.orm import Session

from carbon import derivation, engine, factors
from core.errors import Invalid
from core.exports import safe_cell
from metering import clock, registry

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
    for m in range(1, 13):
        lo, hi = clock.period_bounds("month", date(year, m, 1), tz)
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
        "data_quality": quality,
        "notes": NOTES,
        "version": year_em["version"],
        "gwp_set": gwp_set,
        "tce_convention": tce_convention,
        "derivation_hash": year_em["derivation_hash"],
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

    ws = wb.create_sheet("Monthly")
    ws.append(
        ["Month", "Scope 1 tCO2e", "Scope 2 location tCO2", "Scope 2 market tCO2", "Energy tce"]
    )
    for m in inv["monthly"]:
        ws.append(
            [
                m["month"],
                m["scope1_tco2e"],
                m["scope2_location_tco2"],
                m["scope2_market_tco2"],
                m["energy_tce"],
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


def to_pdf(inv: dict) -> bytes:
    """A4 report: summary table, monthly bar chart, scope pie, sources, factors, notes."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.piecharts import Pie
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph as _Paragraph
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"  # CJK CID font: names of standards and regions are in Chinese
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))

    def Paragraph(text: object, style: ParagraphStyle) -> _Paragraph:  # noqa: N802
        """Every text is escaped: user text (codes, names, evidence) is never markup."""
        return _Paragraph(xml_escape(str(text)), style)

    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=font, fontSize=8, leading=10)
    head = ParagraphStyle("head", parent=styles["Heading2"], fontName=font)
    title = ParagraphStyle("title", parent=styles["Title"], fontName=font)

    def table(rows: list[list], widths: list[float] | None = None) -> Table:
        data = [
            [Paragraph(number_text(c) if c is not None else "", body) for c in row] for row in rows
        ]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return t

    r = inv["results"]
    story = [
        Paragraph(inv["title"], title),
        Paragraph(
            f"{inv['standard']}. Period {_fmt(inv['period']['start'])} – "
            f"{_fmt(inv['period']['end'])}. Calculation version {inv['version']}, "
            f"GWP {inv['gwp_set']}, tce {inv['tce_convention']}.",
            body,
        ),
        Paragraph(f"Derivation sha256: {inv['derivation_hash']}", body),
        Paragraph("1. Results by scope", head),
        table(
            [
                ["Result", "Value", "Unit"],
                ["Scope 1 (CO2)", r["scope1_tco2"], "tCO2"],
                ["Scope 1 (all gases)", r["scope1_tco2e"], "tCO2e"],
                ["Scope 2 location-based", r["scope2_location_tco2"], "tCO2"],
                ["Scope 2 market-based", r["scope2_market_tco2"], "tCO2"],
                ["Total, location-based", r["total_location_tco2e"], "tCO2e"],
                ["Total, market-based", r["total_market_tco2e"], "tCO2e"],
                ["Comprehensive energy consumption", r["energy_tce"], "tce"],
            ],
            [70 * mm, 40 * mm, 20 * mm],
        ),
        Spacer(1, 4 * mm),
        table(
            [["Gas", "t", "tCO2e"], *[[g["gas"], g["t"], g["tco2e"]] for g in r["by_gas"]]],
            [40 * mm, 40 * mm, 40 * mm],
        ),
    ]

    d = Drawing(170 * mm, 70 * mm)
    bc = VerticalBarChart()
    bc.x, bc.y, bc.width, bc.height = 15 * mm, 10 * mm, 100 * mm, 50 * mm
    bc.data = [
        [m["scope1_tco2e"] for m in inv["monthly"]],
        [m["scope2_location_tco2"] for m in inv["monthly"]],
    ]
    bc.categoryAxis.categoryNames = [m["month"][5:] for m in inv["monthly"]]
    bc.bars[0].fillColor, bc.bars[1].fillColor = colors.darkorange, colors.steelblue
    bc.valueAxis.valueMin = 0
    d.add(bc)
    d.add(
        String(
            15 * mm, 63 * mm, "Monthly tCO2e: scope 1 (orange), scope 2 location (blue)", fontSize=8
        )
    )
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 125 * mm, 15 * mm, 40 * mm, 40 * mm
    s1, s2 = max(r["scope1_tco2e"], 0.0), max(r["scope2_location_tco2"], 0.0)
    pie.data = [s1, s2] if s1 + s2 > 0 else [1, 1]
    pie.labels = ["Scope 1", "Scope 2"]
    pie.slices[0].fillColor, pie.slices[1].fillColor = colors.darkorange, colors.steelblue
    d.add(pie)
    story += [Paragraph("2. Monthly emissions", head), d]

    b = inv["boundary"]
    story += [
        Paragraph("3. Boundary", head),
        Paragraph(
            f"Sites: {', '.join(b['sites'])}. Sub-meters not counted again: "
            f"{', '.join(b['submeters_not_counted']) or 'none'}.",
            body,
        ),
        table(
            [
                ["Meter", "Site", "Carrier", "Scope", "Source", "Fuel"],
                *[
                    [m["meter"], m["site"], m["carrier"], m["scope"], m["source"], m["fuel"]]
                    for m in b["meters"]
                ],
            ]
        ),
        Paragraph("4. Emission sources and activity data", head),
        table(
            [
                [
                    "Meter / source",
                    "Scope",
                    "Activity",
                    "Unit",
                    "Factor",
                    "Factor unit",
                    "Factor id",
                    "tCO2e",
                ],
                *[
                    [
                        s.get("meter") or s.get("source"),
                        s["scope"],
                        s["activity"],
                        s["unit"],
                        s["factor"],
                        s["factor_unit"],
                        s["factor_id"],
                        s["tco2e"],
                    ]
                    for s in inv["sources"]
                ],
            ]
        ),
        Paragraph("5. Emission factors and sources", head),
        table(
            [
                ["Id", "Key", "Value", "Unit", "Source document", "Verification"],
                *[
                    [
                        f["id"],
                        f["key"],
                        f["value"],
                        f["unit"],
                        f["source_document"],
                        f["verification"],
                    ]
                    for f in inv["factors"]
                ],
            ],
            [10 * mm, 35 * mm, 18 * mm, 20 * mm, 65 * mm, 25 * mm],
        ),
        Paragraph("6. Data quality", head),
        *[
            Paragraph(f"{q['code']} — {q['subject']}: {q['detail']}", body)
            for q in inv["data_quality"]
        ],
        *[Paragraph(n, body) for n in inv["notes"]],
    ]
    buf = io.BytesIO()
    SimpleDocTemplate(
        buf, pagesize=A4, title=inv["title"], leftMargin=15 * mm, rightMargin=15 * mm
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
