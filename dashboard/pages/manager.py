"""The manager's view: energy and carbon by day / week / month / year, key figures with
month-on-month and year-on-year changes, scope 1 / scope 2 (location and market), top
consumers, the 12-month intensity trend; CSV export of the figures (charts export as PNG
from their toolbar)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import ids, runtime, snapshots
from dashboard.components import page_header, site_selector
from dashboard.data import csv_safe
from dashboard.figures import theme
from dashboard.figures.manager import energy_carbon, intensity_trend, scopes, top_consumers
from dashboard.i18n import DASH, current, date_picker, fmt_change, fmt_num, t

dash.register_page(__name__, path="/manager", title="ECC · manager", name="Manager")

BOM = "\ufeff"  # UTF-8 with a byte-order mark: spreadsheets read the Chinese text right
_GRAPH = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def layout(site: str | None = None, period: str = "month", **_: str) -> html.Div:
    lang = current()
    today = datetime.now(UTC).astimezone(ZoneInfo(runtime.settings().timezone)).date()
    return html.Div(
        [
            *page_header(
                t("mgr_title", lang),
                site_selector(ids.MGR_SITE, site, lang),
                dcc.RadioItems(
                    id=ids.MGR_PERIOD,
                    value=period if period in snapshots.PERIODS else "month",
                    inline=True,
                    className="radio",
                    options=[{"label": t(p, lang), "value": p} for p in snapshots.PERIODS],
                ),
                html.Div(
                    dcc.DatePickerSingle(
                        id=ids.MGR_DATE, date=today.isoformat(), **date_picker(lang)
                    ),
                    style={"width": "170px"},
                ),
                html.Button(t("export_csv", lang), id=ids.MGR_CSV, className="btn"),
                dcc.Download(id=ids.MGR_DOWNLOAD),
                status=ids.MGR_STATUS,
            ),
            html.Div(id=ids.MGR_NOTE, className="note"),
            html.Div(id=ids.MGR_COMPARED, className="note"),
            html.Section(
                [
                    dcc.Graph(
                        id=ids.MGR_ENERGY, figure=theme.empty(), className="graph-md", config=_GRAPH
                    )
                ],
                className="card",
            ),
            html.Div(
                [
                    html.Section(
                        [html.H2(t("kpi_table", lang)), html.Div(id=ids.MGR_KPIS)], className="card"
                    ),
                    html.Section(
                        [
                            html.H2(t("scopes", lang)),
                            dcc.Graph(
                                id=ids.MGR_SCOPES,
                                figure=theme.empty(),
                                className="graph-sm",
                                config=_GRAPH,
                            ),
                        ],
                        className="card",
                    ),
                ],
                className="grid-2",
            ),
            html.Div(
                [
                    html.Section(
                        [
                            html.H2(t("top_consumers", lang)),
                            dcc.Graph(
                                id=ids.MGR_TOP,
                                figure=theme.empty(),
                                className="graph-sm",
                                config=_GRAPH,
                            ),
                        ],
                        className="card",
                    ),
                    html.Section(
                        [
                            html.H2(t("intensity_trend", lang)),
                            dcc.Graph(
                                id=ids.MGR_TREND,
                                figure=theme.empty(),
                                className="graph-sm",
                                config=_GRAPH,
                            ),
                        ],
                        className="card",
                    ),
                ],
                className="grid-2",
            ),
        ]
    )


def _kpi_table(df: pd.DataFrame, lang: str) -> html.Table:
    head = html.Tr(
        [
            html.Th(t("metric", lang)),
            html.Th(t("value", lang), className="num"),
            html.Th(t("mom", lang), className="num"),
            html.Th(t("yoy", lang), className="num"),
        ]
    )
    rows = [
        html.Tr(
            [
                html.Td(r.metric),
                html.Td(
                    fmt_num(r.value, r.unit, 1 if r.unit == "%" else None)
                    if pd.notna(r.value)
                    else DASH,
                    className="num",
                ),
                html.Td(fmt_change(r.mom_pct) if pd.notna(r.mom_pct) else DASH, className="num"),
                html.Td(fmt_change(r.yoy_pct) if pd.notna(r.yoy_pct) else DASH, className="num"),
            ]
        )
        for r in df.itertuples(index=False)
    ]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="data", id="mgr-kpi-table")


def _day(value: str | None) -> date:
    return date.fromisoformat(value[:10]) if value else date.today()


@callback(
    Output(ids.MGR_ENERGY, "figure"),
    Output(ids.MGR_KPIS, "children"),
    Output(ids.MGR_SCOPES, "figure"),
    Output(ids.MGR_TOP, "figure"),
    Output(ids.MGR_TREND, "figure"),
    Output(ids.MGR_NOTE, "children"),
    Output(ids.MGR_STATUS, "children"),
    Output(ids.MGR_COMPARED, "children"),
    Output(ids.MGR_SITE, "value"),
    Input(ids.MGR_SITE, "value"),
    Input(ids.MGR_PERIOD, "value"),
    Input(ids.MGR_DATE, "date"),
)
def refresh(site: str | None, period: str, day: str | None):
    lang = current()
    snap = snapshots.manager_snapshot(runtime.api(), site, period, _day(day), lang)
    if not snap.reachable:
        return (*[no_update] * 6, t("reconnecting", lang), no_update, no_update)
    if snap.site is None:
        return (*[no_update] * 5, snap.error or t("no_site", lang), "", "", no_update)
    bucket = "1h" if period == "day" else "month" if period == "year" else "1d"
    return (
        energy_carbon(snap.by_bucket, snap.tz, bucket, lang=lang),
        _kpi_table(snap.kpis, lang),
        scopes(snap.scopes, lang=lang),
        top_consumers(snap.top, lang=lang),
        intensity_trend(snap.trend, lang=lang),
        snap.carbon_note,
        "",
        snap.compared,
        snap.site if site != snap.site else no_update,  # the selector shows the site shown
    )


@callback(
    Output(ids.MGR_DOWNLOAD, "data"),
    Input(ids.MGR_CSV, "n_clicks"),
    State(ids.MGR_SITE, "value"),
    State(ids.MGR_PERIOD, "value"),
    State(ids.MGR_DATE, "date"),
    prevent_initial_call=True,
)
def export(_: int, site: str | None, period: str, day: str | None):
    lang = current()
    snap = snapshots.manager_snapshot(runtime.api(), site, period, _day(day), lang)
    if not snap.reachable or snap.by_bucket is None:
        return no_update
    name = f"{snap.site}_{period}_{_day(day).isoformat()}.csv"
    table = csv_safe(snapshots.manager_table(snap, lang))
    return dcc.send_string(BOM + table.to_csv(index=False), name)
