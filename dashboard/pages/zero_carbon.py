"""The zero-carbon page: the scorecard with traffic lights, thresholds and their sources, the
net-emissions waterfall (gross → reductions → residual → offsets → net), the carbon-asset
ledger, and downloads of the disclosure report and the verifier's package."""

from __future__ import annotations

from datetime import UTC, datetime

import dash
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import ids, runtime
from dashboard import zero_carbon as zc
from dashboard.client import ApiError
from dashboard.components import page_header, site_options, site_selector
from dashboard.figures import theme
from dashboard.figures.zero_carbon import net_waterfall
from dashboard.i18n import current, t

dash.register_page(__name__, path="/zero-carbon", title="ECC · zero carbon", name="Zero carbon")

_GRAPH = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
_FILES = {
    ids.ZC_REPORT_PDF: (
        "/api/v1/reports/zero-carbon",
        {"format": "pdf"},
        "zero-carbon-{s}-{y}.pdf",
    ),
    ids.ZC_REPORT_XLSX: (
        "/api/v1/reports/zero-carbon",
        {"format": "xlsx"},
        "zero-carbon-{s}-{y}.xlsx",
    ),
    ids.ZC_PACKAGE: ("/api/v1/reports/verification-package", {}, "verification-{s}-{y}.zip"),
}


def layout(site: str | None = None, year: str | None = None, **_: str) -> html.Div:
    lang = current()
    options = site_options(lang)
    site = site or (options[0]["value"] if options else None)
    this_year = datetime.now(UTC).year
    return html.Div(
        [
            *page_header(
                t("zc_title", lang),
                site_selector(
                    ids.ZC_SITE,
                    site,
                    lang,
                    clearable=False,
                    placeholder="zc_pick_site",
                    options=options,
                ),
                html.Label(t("zc_year", lang)),
                dcc.Input(
                    id=ids.ZC_YEAR,
                    type="number",
                    min=2000,
                    max=2100,
                    step=1,
                    value=int(year) if year and year.isdigit() else this_year,
                    debounce=True,
                    style={"width": "90px"},
                ),
                *[
                    html.Button(t(key, lang), id=bid, className="btn")
                    for bid, key in (
                        (ids.ZC_REPORT_PDF, "zc_report_pdf"),
                        (ids.ZC_REPORT_XLSX, "zc_report_xlsx"),
                        (ids.ZC_PACKAGE, "zc_package"),
                    )
                ],
                dcc.Download(id=ids.ZC_DOWNLOAD),
                status=ids.ZC_STATUS,
            ),
            html.Div(id=ids.ZC_WARNINGS, className="note"),
            html.Section(
                [html.H2(t("zc_scorecard", lang)), html.Div(id=ids.ZC_CARD)], className="card"
            ),
            html.Section(
                [
                    html.H2(t("zc_net", lang)),
                    dcc.Graph(
                        id=ids.ZC_WATERFALL,
                        figure=theme.empty(),
                        className="graph-md",
                        config=_GRAPH,
                    ),
                ],
                className="card",
            ),
            html.Section(
                [html.H2(t("zc_ledger", lang)), html.Div(id=ids.ZC_LEDGER)], className="card"
            ),
        ]
    )


def _table(head: list[str], rows: list[list], classes: list[str] | None = None) -> html.Table:
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in head])),
            html.Tbody(
                [
                    html.Tr([html.Td(c) for c in r], className=classes[i] if classes else None)
                    for i, r in enumerate(rows)
                ]
            ),
        ],
        className="data",
    )


def _card(rows: list[dict], lang: str) -> html.Table:
    head = [t(k, lang) for k in ("zc_indicator", "zc_value", "zc_threshold", "zc_status")]
    body = [
        [
            r["indicator"],
            r["value"],
            r["threshold"],
            html.Span(r["status"], className=f"zc-light zc-light-{r['light']}", title=r["source"]),
        ]
        for r in rows
    ]
    return _table(
        head + [t("zc_source", lang)], [b + [r["source"]] for b, r in zip(body, rows, strict=True)]
    )


def _ledger(rows: list[dict], lang: str) -> html.Div | html.Table:
    if not rows:
        return html.Div(t("zc_no_assets", lang), className="note")
    keys = ("zc_kind", "zc_serial", "zc_quantity", "zc_available", "zc_vintage", "zc_asset_status")
    cols = ("kind", "serial", "quantity", "available", "vintage", "status")
    return _table([t(k, lang) for k in keys], [[r[c] for c in cols] for r in rows])


@callback(
    Output(ids.ZC_CARD, "children"),
    Output(ids.ZC_WATERFALL, "figure"),
    Output(ids.ZC_LEDGER, "children"),
    Output(ids.ZC_WARNINGS, "children"),
    Output(ids.ZC_STATUS, "children"),
    Input(ids.ZC_SITE, "value"),
    Input(ids.ZC_YEAR, "value"),
)
def refresh(site: str | None, year: int | None):
    lang = current()
    if not site or not year:
        return no_update, no_update, no_update, "", t("zc_pick_site", lang)
    try:
        snap = zc.snapshot(runtime.api(), site, int(year), lang)
    except ApiError as exc:
        return no_update, no_update, no_update, "", exc.detail
    return (
        _card(snap.rows, lang),
        net_waterfall(snap.steps),
        _ledger(snap.ledger, lang),
        [html.Div(f"⚠ {w}") for w in snap.warnings],
        "",
    )


@callback(
    Output(ids.ZC_DOWNLOAD, "data"),
    Output(ids.ZC_STATUS, "children", allow_duplicate=True),
    Input(ids.ZC_REPORT_PDF, "n_clicks"),
    Input(ids.ZC_REPORT_XLSX, "n_clicks"),
    Input(ids.ZC_PACKAGE, "n_clicks"),
    State(ids.ZC_SITE, "value"),
    State(ids.ZC_YEAR, "value"),
    prevent_initial_call=True,
)
def download(_pdf: int, _xlsx: int, _zip: int, site: str | None, year: int | None):
    if not site or not year or ctx.triggered_id not in _FILES:
        return no_update, t("zc_pick_site", current())
    path, extra, name = _FILES[ctx.triggered_id]
    try:
        blob = runtime.api().get_bytes(path, site=site, year=int(year), **extra)
    except ApiError as exc:
        return no_update, exc.detail
    return dcc.send_bytes(blob, name.format(s=site, y=year)), ""
