"""The manager's budget page: a site's month against its budget (cumulative actual, then the
forecast, burn-up against the budget line) and a table of the site and its workshops with
traffic lights (green below 90 % projected, amber to 100 %, red above)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, callback, dcc, html, no_update

from dashboard import ids, runtime, snapshots
from dashboard.components import page_header, site_selector
from dashboard.figures import theme
from dashboard.figures.budgets import burn_up
from dashboard.i18n import DASH, current, fmt_num, t

dash.register_page(__name__, path="/budgets", title="ECC · budgets", name="Budgets")

_GRAPH = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def layout(site: str | None = None, quantity: str = "cost_cny", **_: str) -> html.Div:
    lang = current()
    month = datetime.now(UTC).astimezone(ZoneInfo(runtime.settings().timezone)).strftime("%Y-%m")
    return html.Div(
        [
            *page_header(
                t("bud_title", lang),
                site_selector(ids.BUD_SITE, site, lang),
                dcc.RadioItems(
                    id=ids.BUD_QUANTITY,
                    value=quantity if quantity in snapshots.BUDGET_PAGE_QUANTITIES else "cost_cny",
                    inline=True,
                    className="radio",
                    options=[
                        {"label": t(f"{q}_q", lang), "value": q}
                        for q in snapshots.BUDGET_PAGE_QUANTITIES
                    ],
                ),
                dcc.Input(id=ids.BUD_MONTH, value=month, debounce=True, style={"width": "110px"}),
                status=ids.BUD_STATUS,
            ),
            html.Section(
                [
                    html.H2(t("bud_burn", lang)),
                    dcc.Graph(
                        id=ids.BUD_BURN, figure=theme.empty(), className="graph-md", config=_GRAPH
                    ),
                ],
                className="card",
            ),
            html.Section(
                [html.H2(t("bud_table", lang)), html.Div(id=ids.BUD_TABLE)], className="card"
            ),
        ]
    )


def _table(rows: list[snapshots.BudgetRow], unit: str, lang: str) -> html.Table:
    head = html.Tr(
        [
            html.Th(""),
            html.Th(t("site", lang)),
            *(
                html.Th(f"{t(k, lang)} {unit}", className="num")
                for k in ("bud_budget", "bud_actual", "bud_projected")
            ),
            html.Th(t("bud_pct", lang), className="num"),
            html.Th(t("bud_crossing", lang)),
        ]
    )
    body = [
        html.Tr(
            [
                html.Td(html.Span("●", className=f"light light-{r.light}", title=r.light)),
                html.Td(r.name),
                html.Td(fmt_num(r.budget, "", 0), className="num"),
                html.Td(fmt_num(r.actual, "", 0), className="num"),
                html.Td(fmt_num(r.projected, "", 0), className="num"),
                html.Td(
                    DASH if r.projected_pct is None else fmt_num(r.projected_pct, "%", 1),
                    className="num",
                ),
                html.Td(r.crossing_date or DASH),
            ],
            id=f"bud-row-{r.site}",
        )
        for r in rows
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="data", id="bud-table-rows")


@callback(
    Output(ids.BUD_BURN, "figure"),
    Output(ids.BUD_TABLE, "children"),
    Output(ids.BUD_STATUS, "children"),
    Input(ids.BUD_SITE, "value"),
    Input(ids.BUD_QUANTITY, "value"),
    Input(ids.BUD_MONTH, "value"),
)
def refresh(site: str | None, quantity: str, month: str | None):
    lang = current()
    snap = snapshots.budget_snapshot(runtime.api(), site, quantity, (month or "").strip(), lang)
    if not snap.reachable:
        return no_update, no_update, t("reconnecting", lang)
    if snap.site is None:
        return no_update, no_update, snap.error or t("no_site", lang)
    unit = snap.status["unit"] if snap.status else ""
    note = "" if snap.rows else t("bud_none", lang)
    return burn_up(snap.status, lang=lang), _table(snap.rows, unit, lang), note
