"""The benchmarking page: process ratings with traffic lights and each level's source, the
energy balance table with its Sankey, and the recommendations list engineers and managers
work through (status changes, XLSX export of each table)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dash
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import benchmarking as bm
from dashboard import ids, runtime
from dashboard.client import ApiError
from dashboard.components import page_header, site_options, site_selector
from dashboard.figures import theme
from dashboard.figures.benchmarking import balance_sankey, evidence_figure, trend_figure
from dashboard.i18n import current, t

dash.register_page(__name__, path="/benchmarking", title="ECC · benchmarking", name="Benchmarking")

_GRAPH = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
_STATUSES = ("open", "accepted", "done", "dismissed")


def layout(
    site: str | None = None, start: str | None = None, end: str | None = None, **_: str
) -> html.Div:
    lang = current()
    options = site_options(lang)
    site = site or (options[0]["value"] if options else None)
    today = datetime.now(UTC).date()
    return html.Div(
        [
            *page_header(
                t("bm_title", lang),
                site_selector(
                    ids.BM_SITE,
                    site,
                    lang,
                    clearable=False,
                    placeholder="zc_pick_site",
                    options=options,
                ),
                html.Label(t("bm_start", lang)),
                dcc.Input(
                    id=ids.BM_START,
                    type="text",
                    debounce=True,
                    value=start or (today - timedelta(days=30)).isoformat(),
                    style={"width": "120px"},
                ),
                html.Label(t("bm_end", lang)),
                dcc.Input(
                    id=ids.BM_END,
                    type="text",
                    debounce=True,
                    value=end or (today + timedelta(days=1)).isoformat(),
                    style={"width": "120px"},
                ),
                dcc.Dropdown(
                    id=ids.BM_CARRIER,
                    value="electricity",
                    clearable=False,
                    options=["electricity", "natural_gas", "steam", "coal", "water"],
                    style={"width": "160px"},
                ),
                dcc.Download(id=ids.BM_DOWNLOAD),
                status=ids.BM_STATUS,
            ),
            html.Section(
                [
                    html.H2([t("bm_ratings", lang), _xlsx(ids.BM_XLSX_RATINGS, lang)]),
                    html.Div(id=ids.BM_RATINGS),
                    html.H3(t("bm_trend", lang)),
                    dcc.Dropdown(
                        id=ids.BM_PROCESS,
                        options=[],
                        placeholder=t("bm_pick_process", lang),
                        style={"width": "320px"},
                    ),
                    dcc.Graph(
                        id=ids.BM_TREND, figure=theme.empty(), className="graph-md", config=_GRAPH
                    ),
                ],
                className="card",
            ),
            html.Section(
                [
                    html.H2([t("bm_balance", lang), _xlsx(ids.BM_XLSX_BALANCE, lang)]),
                    html.Div(id=ids.BM_BALANCE),
                    dcc.Graph(
                        id=ids.BM_SANKEY, figure=theme.empty(), className="graph-md", config=_GRAPH
                    ),
                ],
                className="card",
            ),
            html.Section(
                [
                    html.H2([t("bm_recs", lang), _xlsx(ids.BM_XLSX_RECS, lang)]),
                    html.Div(
                        [
                            dcc.Input(
                                id=ids.BM_REC_ID,
                                type="number",
                                placeholder="id",
                                style={"width": "80px"},
                            ),
                            dcc.Dropdown(
                                id=ids.BM_REC_STATUS,
                                options=list(_STATUSES),
                                value="accepted",
                                clearable=False,
                                style={"width": "140px"},
                            ),
                            dcc.Input(
                                id=ids.BM_REC_REASON,
                                type="text",
                                placeholder=t("bm_reason", lang),
                                style={"width": "260px"},
                            ),
                            html.Button(t("bm_apply", lang), id=ids.BM_REC_APPLY, className="btn"),
                        ],
                        className="controls",
                    ),
                    html.Div(id=ids.BM_RECS),
                    dcc.Graph(
                        id=ids.BM_EVIDENCE,
                        figure=theme.empty(),
                        className="graph-md",
                        config=_GRAPH,
                    ),
                ],
                className="card",
            ),
        ]
    )


def _xlsx(bid: str, lang: str) -> html.Button:
    return html.Button(t("bm_xlsx", lang), id=bid, className="btn", style={"marginLeft": "12px"})


def _table(head: list[str], rows: list[list]) -> html.Table:
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in head])),
            html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows]),
        ],
        className="data",
    )


def _ratings(rows: list[dict], lang: str) -> html.Div | html.Table:
    if not rows:
        return html.Div(t("bm_no_processes", lang), className="note")
    keys = (
        "bm_process",
        "bm_output",
        "bm_unit_consumption",
        "bm_levels",
        "bm_benchmark",
        "bm_rating",
        "bm_rank",
        "bm_source",
    )
    body = [
        [
            r["process"],
            r["output"],
            r["unit_consumption"],
            r["levels"],
            r["benchmark"],
            html.Span(r["rating"], className=f"zc-light zc-light-{r['light']}"),
            r["rank"],
            r["source"],
        ]
        for r in rows
    ]
    return _table([t(k, lang) for k in keys], body)


def _recs(rows: list[dict], lang: str) -> html.Div | html.Table:
    if not rows:
        return html.Div(t("bm_no_recs", lang), className="note")
    keys = (
        "id",
        "bm_kind",
        "bm_title_col",
        "bm_kwh",
        "bm_cny",
        "bm_tco2",
        "bm_confidence",
        "bm_rec_status",
    )
    cols = ("id", "kind", "title", "kwh", "cny", "tco2", "confidence", "status")
    return _table(
        [k if k == "id" else t(k, lang) for k in keys], [[r[c] for c in cols] for r in rows]
    )


def _period(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    a, b = date.fromisoformat(start or ""), date.fromisoformat(end or "")
    return (
        datetime(a.year, a.month, a.day, tzinfo=UTC),
        datetime(b.year, b.month, b.day, tzinfo=UTC),
    )


@callback(
    Output(ids.BM_RATINGS, "children"),
    Output(ids.BM_BALANCE, "children"),
    Output(ids.BM_SANKEY, "figure"),
    Output(ids.BM_RECS, "children"),
    Output(ids.BM_STATUS, "children"),
    Output(ids.BM_PROCESS, "options"),
    Input(ids.BM_SITE, "value"),
    Input(ids.BM_START, "value"),
    Input(ids.BM_END, "value"),
    Input(ids.BM_CARRIER, "value"),
    Input(ids.BM_REC_APPLY, "n_clicks"),
    State(ids.BM_REC_ID, "value"),
    State(ids.BM_REC_STATUS, "value"),
    State(ids.BM_REC_REASON, "value"),
)
def refresh(site, start, end, carrier, _apply, rec_id, rec_status, reason):  # noqa: ANN001, ANN201
    lang = current()
    if not site:
        return no_update, no_update, no_update, no_update, t("zc_pick_site", lang), no_update
    try:
        a, b = _period(start, end)
    except ValueError:
        return no_update, no_update, no_update, no_update, "start/end: YYYY-MM-DD", no_update
    api = runtime.api()
    note = ""
    if ctx.triggered_id == ids.BM_REC_APPLY and rec_id:
        try:
            api.set_recommendation_status(int(rec_id), rec_status, reason)
        except ApiError as exc:
            note = exc.detail
    try:
        snap = bm.snapshot(api, site, a, b, carrier, lang)
    except ApiError as exc:
        return no_update, no_update, no_update, no_update, exc.detail, no_update
    return (
        _ratings(snap.ratings, lang),
        _table([t("bm_item", lang), t("bm_value", lang)], [list(r) for r in snap.balance]),
        balance_sankey(snap.sankey),
        _recs(snap.recs, lang),
        note,
        [{"label": r["process"], "value": r["code"]} for r in snap.ratings],
    )


@callback(
    Output(ids.BM_DOWNLOAD, "data"),
    Output(ids.BM_STATUS, "children", allow_duplicate=True),
    Input(ids.BM_XLSX_RATINGS, "n_clicks"),
    Input(ids.BM_XLSX_BALANCE, "n_clicks"),
    Input(ids.BM_XLSX_RECS, "n_clicks"),
    State(ids.BM_SITE, "value"),
    State(ids.BM_START, "value"),
    State(ids.BM_END, "value"),
    State(ids.BM_CARRIER, "value"),
    prevent_initial_call=True,
)
def download(_r, _b, _c, site, start, end, carrier):  # noqa: ANN001, ANN201
    if not site:
        return no_update, t("zc_pick_site", current())
    try:
        a, b = _period(start, end)
        api = runtime.api()
        if ctx.triggered_id == ids.BM_XLSX_RATINGS:
            blob = api.get_bytes(
                "/api/v1/benchmarking",
                site=site,
                start=a.isoformat(),
                end=b.isoformat(),
                format="xlsx",
            )
            name = f"benchmarking-{site}.xlsx"
        elif ctx.triggered_id == ids.BM_XLSX_BALANCE:
            blob = api.get_bytes(
                f"/api/v1/sites/{site}/balance",
                start=a.isoformat(),
                end=b.isoformat(),
                carrier=carrier,
                format="xlsx",
            )
            name = f"balance-{site}.xlsx"
        else:
            blob = api.get_bytes("/api/v1/recommendations", site=site, format="xlsx")
            name = f"recommendations-{site}.xlsx"
    except (ApiError, ValueError) as exc:
        return no_update, str(getattr(exc, "detail", exc))
    return dcc.send_bytes(blob, name), ""


@callback(
    Output(ids.BM_EVIDENCE, "figure"),
    Input(ids.BM_REC_ID, "value"),
    State(ids.BM_SITE, "value"),
    prevent_initial_call=True,
)
def evidence(rec_id, site):  # noqa: ANN001, ANN201
    """The evidence window of the recommendation whose id is typed in."""
    if not rec_id or not site:
        return no_update
    api = runtime.api()
    try:
        rec = next((r for r in api.recommendations(site) if r["id"] == int(rec_id)), None)
        if rec is None:
            return theme.empty()
        ts, kw, ref = bm.evidence_series(api, site, rec)
    except ApiError:
        return theme.empty()
    return evidence_figure(ts, kw, rec["title_zh"] if current() == "zh" else rec["title"], ref)


@callback(
    Output(ids.BM_TREND, "figure"),
    Input(ids.BM_PROCESS, "value"),
    State(ids.BM_START, "value"),
    State(ids.BM_END, "value"),
    prevent_initial_call=True,
)
def trend(code, start, end):  # noqa: ANN001, ANN201
    """Daily unit consumption of the picked process and its best-10 %-days target."""
    if not code:
        return no_update
    try:
        a, b = _period(start, end)
        data = runtime.api().process_trend(code, a, b)
    except (ApiError, ValueError):
        return theme.empty()
    return trend_figure(data, t("bm_target", current()))
