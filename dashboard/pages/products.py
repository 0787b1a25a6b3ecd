"""Products: each product's cradle-to-gate footprint per declared unit with the stage
waterfall, its material hotspots, the supplier hotspots and scope 3 totals of all products,
the suppliers with the status of their data requests, and the GB/T 24067 report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import footprints, ids, runtime
from dashboard.client import ApiError
from dashboard.components import page_header
from dashboard.figures import theme
from dashboard.figures.products import hotspots, stage_waterfall
from dashboard.i18n import DASH, current, date_picker, fmt_num, fmt_pct, t

dash.register_page(__name__, path="/products", title="ECC · products", name="Products")

_GRAPH = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def _last_month() -> tuple[date, date]:
    tz = ZoneInfo(runtime.settings().timezone)
    first = datetime.now(UTC).astimezone(tz).date().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1), first


def _bounds(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    tz = ZoneInfo(runtime.settings().timezone)
    lo, hi = _last_month()
    s = date.fromisoformat(start[:10]) if start else lo
    e = date.fromisoformat(end[:10]) if end else hi
    return datetime(s.year, s.month, s.day, tzinfo=tz), datetime(e.year, e.month, e.day, tzinfo=tz)


def _options(lang: str) -> list[dict]:
    try:
        rows = runtime.api().get("/api/v1/products")
    except ApiError:
        return []
    return [{"label": f"{p['code']} — {p['name']}", "value": p["code"]} for p in rows]


def layout(
    product: str | None = None, start: str | None = None, end: str | None = None, **_: str
) -> html.Div:
    """``?product=CODE&start=YYYY-MM-DD&end=YYYY-MM-DD``; default: the last full month."""
    lang = current()
    lo, hi = _last_month()
    lo = date.fromisoformat(start[:10]) if start else lo
    hi = date.fromisoformat(end[:10]) if end else hi
    options = _options(lang)
    graph = lambda i: dcc.Graph(id=i, figure=theme.empty(), className="graph-sm", config=_GRAPH)  # noqa: E731
    return html.Div(
        [
            *page_header(
                t("prod_title", lang),
                dcc.Dropdown(
                    id=ids.PROD_SELECT,
                    options=options,
                    value=product or (options[0]["value"] if options else None),
                    clearable=False,
                    placeholder=t("product", lang),
                    style={"width": "360px"},
                ),
                dcc.DatePickerRange(
                    id=ids.PROD_RANGE,
                    start_date=lo.isoformat(),
                    end_date=hi.isoformat(),
                    **date_picker(lang),
                ),
                html.Button(t("report_xlsx", lang), id=ids.PROD_XLSX, className="btn"),
                html.Button(t("report_pdf", lang), id=ids.PROD_PDF, className="btn"),
                dcc.Download(id=ids.PROD_DOWNLOAD),
                status=ids.PROD_STATUS,
            ),
            html.Section(id=ids.PROD_HEADLINE, className="card"),
            html.Div(
                [
                    html.Section(
                        [html.H2(t("stages", lang)), graph(ids.PROD_WATERFALL)], className="card"
                    ),
                    html.Section(
                        [html.H2(t("hotspots_materials", lang)), graph(ids.PROD_MATERIALS)],
                        className="card",
                    ),
                ],
                className="grid-2",
            ),
            html.Div(
                [
                    html.Section(
                        [
                            html.H2(t("hotspots_suppliers", lang)),
                            html.Div(id=ids.PROD_SCOPE3, className="note"),
                            graph(ids.PROD_SUPPLIERS),
                        ],
                        className="card",
                    ),
                    html.Section(
                        [html.H2(t("suppliers_title", lang)), html.Div(id=ids.PROD_SUPPLIER_TABLE)],
                        className="card",
                    ),
                ],
                className="grid-2",
            ),
        ]
    )


def headline(fp: dict | None, lang: str) -> html.Div:
    if not fp:
        return html.Div(t("no_products", lang), className="note")
    ef = fp.get("electricity_factor")
    dq = fp["data_quality"]["rating"]
    return html.Div(
        [
            html.Div(f"{t('pcf', lang)} · {fp['product']}", className="note"),
            html.Div(
                fmt_num(fp["kgco2e_per_unit"], "kgCO₂e", 4)
                + " "
                + t("per_unit", lang, unit=fp["declared_unit"]),
                className="num",
                id="prod-kgco2e",
                style={"fontSize": "32px", "fontWeight": 700, "margin": "4px 0 8px"},
            ),
            html.Div(
                [
                    f"{t('primary_share', lang)}: {fmt_pct(fp['primary_data_share'])} · ",
                    f"{t('dq_rating', lang)}: {t(f'dq_{dq}', lang)} · ",
                    f"{t('elec_factor', lang)}: "
                    + (f"{ef['value']} kgCO₂e/kWh ({ef['source']})" if ef else DASH),
                ],
                className="note",
            ),
            html.Div(
                [
                    t("fp_version", lang, v=fp["version"], b=fp["bom_version"]),
                    f" · {t('hash', lang)} {fp['derivation_hash'][:16]}…",
                ],
                className="note",
            ),
        ]
    )


def supplier_table(suppliers: list[dict], lang: str) -> html.Table:
    states = ("requested", "received", "verified", "expired")
    head = html.Tr(
        [html.Th(t("supplier", lang))]
        + [html.Th(t(f"req_{s}", lang), className="num") for s in states]
    )
    rows = [
        html.Tr(
            [html.Td(f"{s['code']} — {s['name']}")]
            + [html.Td(str(s["requests"][st]), className="num") for st in states]
        )
        for s in suppliers
    ]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="data")


@callback(
    Output(ids.PROD_HEADLINE, "children"),
    Output(ids.PROD_WATERFALL, "figure"),
    Output(ids.PROD_MATERIALS, "figure"),
    Output(ids.PROD_SUPPLIERS, "figure"),
    Output(ids.PROD_SCOPE3, "children"),
    Output(ids.PROD_SUPPLIER_TABLE, "children"),
    Output(ids.PROD_STATUS, "children"),
    Input(ids.PROD_SELECT, "value"),
    Input(ids.PROD_RANGE, "start_date"),
    Input(ids.PROD_RANGE, "end_date"),
)
def refresh(product: str | None, start: str | None, end: str | None):
    lang = current()
    view = footprints.products_view(runtime.api(), product, *_bounds(start, end))
    if not view.reachable:
        return (*[no_update] * 6, t("reconnecting", lang))
    if not view.available:
        return (*[no_update] * 6, t("not_available", lang))
    sc = view.supply_chain or {}
    scope3 = t(
        "scope3",
        lang,
        c1=fmt_num(sc.get("category_1_tco2e"), "tCO₂e", 3),
        c4=fmt_num(sc.get("category_4_tco2e"), "tCO₂e", 3),
    )
    return (
        headline(view.footprint, lang),
        stage_waterfall(view.footprint, lang=lang),
        hotspots(footprints.material_rows(view.footprint), "kg", "label", "kgCO₂e"),
        hotspots(sc.get("top_suppliers", []), "tco2e", "supplier", "tCO₂e"),
        scope3,
        supplier_table(view.suppliers, lang),
        view.error or "",
    )


@callback(
    Output(ids.PROD_DOWNLOAD, "data"),
    Input(ids.PROD_XLSX, "n_clicks"),
    Input(ids.PROD_PDF, "n_clicks"),
    State(ids.PROD_SELECT, "value"),
    State(ids.PROD_RANGE, "start_date"),
    State(ids.PROD_RANGE, "end_date"),
    prevent_initial_call=True,
)
def download(_x: int, _p: int, product: str | None, start: str | None, end: str | None):
    if not product:
        return no_update
    fmt = "pdf" if ctx.triggered_id == ids.PROD_PDF else "xlsx"
    lo, hi = _bounds(start, end)
    try:
        content = footprints.report_bytes(runtime.api(), product, lo, hi, fmt, current())
    except ApiError:
        return no_update
    return dcc.send_bytes(content, f"footprint-{product}-{lo.date()}.{fmt}")
