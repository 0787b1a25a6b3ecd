"""``/forecasts``: per site or meter, the forecast with its 90 % band (day ahead or 7 days),
the model in force with its backtest scores, past forecasts against what happened and the
tracked error per day."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import forecast_view as fv
from dashboard import ids, runtime
from dashboard.client import ApiError
from dashboard.components import page_header, site_selector
from dashboard.data import default_site
from dashboard.figures import theme
from dashboard.figures.forecasts import error_figure, forecast_figure, past_figure
from dashboard.i18n import DASH, current, fmt_time, t

dash.register_page(__name__, path="/forecasts", title="ECC · forecasts", name="Forecasts")

_GRAPH = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def _site_of(meter: str | None) -> str | None:
    """The meter's site, or the site with the most meters when no meter is named."""
    try:
        meters = runtime.api().meters()
        if meter:
            return next((m["site"] for m in meters if m["code"] == meter), None)
        return default_site(runtime.api().sites(), meters)
    except ApiError:
        return None


def layout(
    site: str | None = None, meter: str | None = None, horizon: str = "24h", **_: str
) -> html.Div:
    lang = current()
    site = site or _site_of(meter)
    return html.Div(
        [
            *page_header(
                t("fc_title", lang),
                site_selector(ids.FC_SITE, site, lang, clearable=False),
                dcc.Dropdown(
                    id=ids.FC_METER,
                    value=meter,
                    clearable=True,
                    placeholder=t("fc_site_total", lang),
                    style={"width": "360px"},
                ),
                dcc.RadioItems(
                    id=ids.FC_HORIZON,
                    value=horizon if horizon in fv.HORIZONS else "24h",
                    inline=True,
                    className="radio",
                    options=[
                        {"label": t("fc_day", lang), "value": "24h"},
                        {"label": t("fc_week", lang), "value": "7d"},
                    ],
                ),
                status=ids.FC_STATUS,
            ),
            html.Section(
                [
                    html.H2(id=ids.FC_FORECAST_TITLE),
                    dcc.Graph(
                        id=ids.FC_FORECAST,
                        figure=theme.empty(),
                        className="graph-md",
                        config=_GRAPH,
                    ),
                ],
                className="card",
            ),
            html.Section(
                [html.H2(t("fc_model_title", lang)), html.Div(id=ids.FC_MODEL)],
                className="card",
            ),
            html.Section(
                [
                    html.H2(t("fc_past_title", lang)),
                    dcc.Graph(
                        id=ids.FC_PAST, figure=theme.empty(), className="graph-md", config=_GRAPH
                    ),
                ],
                className="card",
            ),
            html.Section(
                [
                    html.H2(t("fc_error_title", lang)),
                    dcc.Graph(
                        id=ids.FC_ERROR, figure=theme.empty(), className="graph-md", config=_GRAPH
                    ),
                    html.Div(id=ids.FC_TRACKED),
                ],
                className="card",
            ),
        ]
    )


@callback(
    Output(ids.FC_METER, "options"),
    Output(ids.FC_METER, "value"),
    Input(ids.FC_SITE, "value"),
    State(ids.FC_METER, "value"),
)
def meters_of_site(site: str | None, meter: str | None):
    try:
        meters = runtime.api().meters()
    except ApiError:
        return [], None
    options = fv.meter_options(meters, site, current())
    return options, meter if meter in {o["value"] for o in options} else None


def _table(head: list[str], rows: list[list], row_ids: list[str], cls: str) -> html.Table:
    return html.Table(
        [
            html.Thead(
                html.Tr([html.Th(h, className="num" if i else "") for i, h in enumerate(head)])
            ),
            html.Tbody(
                [
                    html.Tr(
                        [html.Td(c, className="num" if i else "") for i, c in enumerate(r)], id=rid
                    )
                    for r, rid in zip(rows, row_ids, strict=True)
                ]
            ),
        ],
        className=f"data {cls}",
    )


def _model_card(view: fv.ForecastView, horizon: str, lang: str) -> list:
    run = fv.in_force(view.accuracy, horizon)
    if run is None:
        return [html.Div(view.notes.get("accuracy") or t("forecast_na", lang), className="note")]
    unit = (view.accuracy or {}).get("unit", "")
    facts = [
        (
            t("fc_model_in_force", lang),
            html.B(fv.model_label(run["model"], lang), id="fc-in-force"),
        ),
        (t("fc_made", lang), fmt_time(_dt(run["created_at"]), view.tz, with_date=True)),
        (
            t("fc_trained", lang),
            f"{fmt_time(_dt(run['train_start']), view.tz, with_date=True)} – "
            f"{fmt_time(_dt(run['train_end']), view.tz, with_date=True)}",
        ),
    ]
    rows = fv.backtest_rows(view.accuracy, horizon, lang)
    table = _table(
        [
            t("fc_model", lang),
            t("fc_mase", lang),
            t("fc_wape", lang),
            f"{t('fc_mae', lang)} ({unit})",
            t("fc_cov", lang),
            "",
        ],
        [
            [
                r["label"],
                r["mase"],
                r["wape"],
                r["mae"].removesuffix(f" {unit}"),
                r["coverage"],
                html.Span(
                    "✓ " + t("fc_selected", lang) if r["selected"] else r["note"],
                    className="good" if r["selected"] else "muted",
                ),
            ]
            for r in rows
        ],
        [f"fc-bt-{r['model']}" for r in rows],
        "fc-backtest",
    )
    return [
        html.Dl([x for k, v in facts for x in (html.Dt(k), html.Dd(v))], className="dl"),
        table,
        html.Div(t("fc_backtest_note", lang, unit=unit), className="note"),
    ]


def _tracked(view: fv.ForecastView, horizon: str, lang: str) -> list:
    rows = fv.tracked_rows(view.accuracy, horizon, lang)
    if not rows:
        note = view.notes.get("accuracy") or t("fc_none_tracked", lang)
        return [html.Div(note, className="note")]
    unit = (view.accuracy or {}).get("unit", "")
    table = _table(
        [
            t("fc_model", lang),
            t("fc_days", lang),
            f"{t('fc_mae', lang)} ({unit})",
            f"{t('fc_naive', lang)} ({unit})",
            t("fc_ratio", lang),
            t("fc_wape", lang),
            t("fc_cov", lang),
            t("fc_state", lang),
        ],
        [
            [
                r["label"],
                r["days"],
                r["mae"].removesuffix(f" {unit}"),
                r["naive_mae"].removesuffix(f" {unit}"),
                r["ratio"],
                r["wape"],
                r["coverage"],
                html.Span(
                    t("fc_demoted", lang) if r["demoted"] else t("fc_ok", lang),
                    className="bad" if r["demoted"] else "good",
                ),
            ]
            for r in rows
        ],
        [f"fc-tr-{r['model']}" for r in rows],
        "fc-tracked",
    )
    return [table, html.Div(fv.drift_rule_text(view.accuracy, lang), className="note")]


def _dt(value: str):  # noqa: ANN202 - a datetime
    from datetime import datetime

    return datetime.fromisoformat(value)


@callback(
    Output(ids.FC_FORECAST_TITLE, "children"),
    Output(ids.FC_FORECAST, "figure"),
    Output(ids.FC_MODEL, "children"),
    Output(ids.FC_PAST, "figure"),
    Output(ids.FC_ERROR, "figure"),
    Output(ids.FC_TRACKED, "children"),
    Output(ids.FC_STATUS, "children"),
    Input(ids.FC_SITE, "value"),
    Input(ids.FC_METER, "value"),
    Input(ids.FC_HORIZON, "value"),
)
def refresh(site: str | None, meter: str | None, horizon: str | None):
    lang = current()
    horizon = horizon if horizon in fv.HORIZONS else "24h"
    title = t(f"fc_forecast_{horizon}", lang)
    view = fv.forecast_view(runtime.api(), site, meter, horizon, lang)
    if not view.reachable:
        return title, no_update, no_update, no_update, no_update, no_update, t("reconnecting", lang)
    if not view.subject:
        empty = theme.empty()
        return title, empty, [], empty, empty, [], t("fc_pick", lang)
    labels = {
        r["model"]: fv.model_label(r["model"], lang)
        for r in (view.accuracy or {}).get("scores", [])
    }
    return (
        title,
        forecast_figure(view.forecast, view.tz, lang),
        _model_card(view, horizon, lang),
        past_figure(view.past, view.tz, lang),
        error_figure(view.accuracy, fv.HORIZONS[horizon], labels, lang),
        _tracked(view, horizon, lang),
        view.notes.get("forecast", "") or (DASH if view.forecast is None else ""),
    )
