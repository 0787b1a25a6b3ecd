"""Pieces more than one page shows: KPI tiles, the alarm banner, the meter drill-down.

The drill-down's callbacks use pattern-matching ids (``{"type": …, "page": …}``), so the
engineer's console and the meter page share one set of callbacks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dash import MATCH, Input, Output, State, callback, dcc, html, no_update

from dashboard import console, ids, runtime, snapshots
from dashboard.client import ApiError
from dashboard.data import csv_safe, local_name, unit_text
from dashboard.figures import theme
from dashboard.figures.meter import meter_series
from dashboard.i18n import DASH, current, fmt_num, t

# -- KPI tiles -----------------------------------------------------------------------------


def _arrow(k: snapshots.Kpi) -> html.Span:
    if k.change_pct is None:
        return html.Span()
    up = k.change_pct > 0.05
    down = k.change_pct < -0.05
    sign = "▲" if up else "▼" if down else "►"
    good = (up and k.good_when == "up") or (down and k.good_when == "down")
    cls = "flat" if not (up or down) else "good" if good else "bad"
    unit = "pp" if k.unit == "%" else "%"
    return html.Span(
        [html.Span(sign, className="arrow"), f" {k.change_pct:+,.1f} {unit} {k.change_text}"],
        className=f"tile-trend {cls}",
    )


def _length_class(number: str, unit: str) -> str:
    """Long numbers get a smaller font so number and unit always fit their tile."""
    width = len(number) + 0.45 * len(unit)  # the unit is set at 40 % of the number's size
    return "" if width <= 7.6 else " long" if width <= 10 else " longer"


def kpi_tile(k: snapshots.Kpi, lang: str) -> html.Div:
    value = DASH if k.value is None else fmt_num(k.value, "", k.digits)
    children = [
        html.Div(t(k.key, lang), className="tile-title"),
        html.Div(
            [
                html.Span(value, className="tile-num" + _length_class(value, k.unit)),
                html.Span(k.unit, className="tile-unit"),
            ],
            className="tile-value",
        ),
        _arrow(k),
    ]
    if k.sub:
        children.append(html.Div(k.sub, className="tile-sub"))
    if k.share is not None:
        pct = max(0.0, min(1.0, k.share))
        level = "bad" if k.share >= 0.9 else "warn" if k.share >= 0.75 else "good"
        children.append(
            html.Div(
                html.Div(className=f"bar-fill {level}", style={"width": f"{pct * 100:.1f}%"}),
                className="bar",
                title=f"{k.share * 100:.1f} %",
            )
        )
    if k.note:
        children.append(html.Div(k.note, className="tile-note"))
    return html.Div(children, className="tile", id=f"tile-{k.key}")


def alarm_banner(alarms: list[dict] | None, lang: str, limit: int = 4) -> list:
    if alarms is None:
        return [html.Span(t("alarms_na", lang), className="alarm-na")]
    if not alarms:
        return [html.Span("✓ " + t("no_alarms", lang), className="alarm-ok")]
    items = [
        html.Span(
            [
                html.B(console.word("ap", a["priority"], lang).upper()),
                f"  {a['subject']}  {a['message']}",
            ],
            className=f"alarm-chip p-{a['priority']}" + ("" if a["acknowledged"] else " blink"),
            title=a["since"],
        )
        for a in alarms[:limit]
    ]
    if len(alarms) > limit:
        items.append(
            html.Span(t("alarms_more", lang, n=len(alarms) - limit), className="alarm-more")
        )
    return items


# -- meter drill-down ----------------------------------------------------------------------

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
RESOLUTIONS = ("auto", "raw", "1m", "15m", "1h", "1d")


def drilldown(page: str, code: str | None, lang: str) -> html.Div:
    range_labels = {
        "24h": t("last_24h", lang),
        "7d": t("last_7d", lang),
        "30d": t("last_30d", lang),
    }
    return html.Div(
        [
            dcc.Store(id=ids.dd(ids.DD_CODE, page), data=code),
            dcc.Store(id=ids.dd(ids.DD_ZOOM, page)),
            html.Div(
                [
                    dcc.RadioItems(
                        id=ids.dd(ids.DD_RANGE, page),
                        value="24h",
                        inline=True,
                        options=[{"label": v, "value": k} for k, v in range_labels.items()],
                        className="radio",
                    ),
                    html.Span(t("resolution", lang) + ":", className="label"),
                    dcc.RadioItems(
                        id=ids.dd(ids.DD_RES, page),
                        value="auto",
                        inline=True,
                        options=[
                            {"label": t("auto", lang) if r == "auto" else r, "value": r}
                            for r in RESOLUTIONS
                        ],
                        className="radio",
                    ),
                    dcc.Checklist(
                        id=ids.dd(ids.DD_RAW, page),
                        value=[],
                        inline=True,
                        options=[{"label": t("overlay_raw", lang), "value": "raw"}],
                        className="radio",
                    ),
                    html.Button(
                        t("export_csv", lang), id=ids.dd(ids.DD_CSV, page), className="btn"
                    ),
                    dcc.Download(id=ids.dd(ids.DD_DOWNLOAD, page)),
                ],
                className="controls",
            ),
            html.Div(id=ids.dd(ids.DD_NOTE, page), className="note"),
            dcc.Graph(
                id=ids.dd(ids.DD_GRAPH, page),
                figure=theme.empty(),
                className="graph-md",
                config={
                    "displaylogo": False,
                    "scrollZoom": True,
                    "toImageButtonOptions": {"format": "png", "filename": code or "meter"},
                },
            ),
        ],
        className="drilldown",
    )


def _window(
    range_key: str, relayout: dict | None, tz: str, zoomed: bool
) -> tuple[datetime, datetime]:
    """The zoomed x-range (local wall times) after a zoom, else the chosen range."""
    end = datetime.now(UTC)
    start = end - RANGES.get(range_key, RANGES["24h"])
    if zoomed and relayout and "xaxis.range[0]" in relayout:
        zone = ZoneInfo(tz)
        lo, hi = (
            datetime.fromisoformat(str(relayout[f"xaxis.range[{i}]"])[:19])
            .replace(tzinfo=zone)
            .astimezone(UTC)
            for i in (0, 1)
        )
        if hi > lo:
            start, end = lo, hi
    return start, end


def _render(
    code: str, range_key: str, res: str, raw: list | None, relayout: dict | None, zoomed: bool
) -> tuple:
    lang = current()
    snap = _snapshot(code, range_key, res, "raw" in (raw or []), relayout, zoomed)
    if not snap.reachable:
        return no_update, t("reconnecting", lang), no_update
    if snap.meter is None or snap.rollup is None:
        return no_update, snap.error or t("unknown_meter", lang, code=code), no_update
    note = (
        t("points", lang, n=f"{len(snap.rollup):,}")
        + f" · {snap.resolution} · "
        + unit_text(snap.meter, lang)
    )
    if "raw" in (raw or []) and snap.raw is None:
        note += " · " + t("raw_too_long", lang)
    fig = meter_series(
        snap.rollup,
        snap.raw,
        snap.unit,
        snap.meter["kind"],
        snap.resolution,
        snap.tz,
        lang=lang,
        uirevision=f"{code}|{range_key}|{res}",
    )
    return fig, note, {}


@callback(
    Output(ids.dd(ids.DD_GRAPH, MATCH), "figure"),
    Output(ids.dd(ids.DD_NOTE, MATCH), "children"),
    Output(ids.dd(ids.DD_GRAPH, MATCH), "style"),
    Output(ids.dd(ids.DD_ZOOM, MATCH), "data"),
    Input(ids.dd(ids.DD_CODE, MATCH), "data"),
    Input(ids.dd(ids.DD_RANGE, MATCH), "value"),
    Input(ids.dd(ids.DD_RES, MATCH), "value"),
    Input(ids.dd(ids.DD_RAW, MATCH), "value"),
)
def _drill(code: str | None, range_key: str, res: str, raw: list):
    """Refetch whenever the meter or a control changes (which also ends a zoom)."""
    if not code:
        return no_update, t("pick_meter", current()), {"display": "none"}, None
    return (*_render(code, range_key, res, raw, None, zoomed=False), None)


@callback(
    Output(ids.dd(ids.DD_GRAPH, MATCH), "figure", allow_duplicate=True),
    Output(ids.dd(ids.DD_NOTE, MATCH), "children", allow_duplicate=True),
    Output(ids.dd(ids.DD_GRAPH, MATCH), "style", allow_duplicate=True),
    Output(ids.dd(ids.DD_ZOOM, MATCH), "data", allow_duplicate=True),
    Input(ids.dd(ids.DD_GRAPH, MATCH), "relayoutData"),
    State(ids.dd(ids.DD_CODE, MATCH), "data"),
    State(ids.dd(ids.DD_RANGE, MATCH), "value"),
    State(ids.dd(ids.DD_RES, MATCH), "value"),
    State(ids.dd(ids.DD_RAW, MATCH), "value"),
    prevent_initial_call=True,
)
def _zoom(relayout: dict | None, code: str | None, range_key: str, res: str, raw: list):
    """A zoom refetches the visible range (finer buckets). Its own callback, so the resize
    events Plotly sends after every draw never supersede the main render."""
    if (
        not code
        or not relayout
        or not ("xaxis.range[0]" in relayout or "xaxis.autorange" in relayout)
    ):
        return no_update, no_update, no_update, no_update
    zoom = relayout if "xaxis.range[0]" in relayout else None
    return (*_render(code, range_key, res, raw, zoom, zoomed=zoom is not None), zoom)


def _snapshot(
    code: str, range_key: str, res: str, with_raw: bool, relayout: dict | None, zoomed: bool
) -> snapshots.MeterSnapshot:
    api = runtime.api()
    start, end = _window(range_key, relayout, snapshots.meter_timezone(api, code), zoomed)
    return snapshots.meter_snapshot(api, code, start, end, res, with_raw)


@callback(
    Output(ids.dd(ids.DD_DOWNLOAD, MATCH), "data"),
    Input(ids.dd(ids.DD_CSV, MATCH), "n_clicks"),
    State(ids.dd(ids.DD_CODE, MATCH), "data"),
    State(ids.dd(ids.DD_RANGE, MATCH), "value"),
    State(ids.dd(ids.DD_RES, MATCH), "value"),
    State(ids.dd(ids.DD_ZOOM, MATCH), "data"),
    prevent_initial_call=True,
)
def _export(_: int, code: str | None, range_key: str, res: str, zoom: dict | None):
    """The series as shown (the zoomed range, if zoomed) as CSV."""
    if not code:
        return no_update
    snap = _snapshot(code, range_key, res, False, zoom, zoomed=zoom is not None)
    if snap.rollup is None:
        return no_update
    name = f"{code}_{snap.resolution}_{datetime.now(ZoneInfo(snap.tz)):%Y%m%dT%H%M%z}.csv"
    table = csv_safe(snapshots.meter_table(snap))
    return dcc.send_string("\ufeff" + table.to_csv(index=False), name)  # BOM: Excel reads UTF-8


def site_options(lang: str) -> list[dict]:
    """The sites the signed-in person may see, as dropdown options named in their language."""
    try:
        sites = runtime.api().sites()
    except ApiError:
        return []
    return [{"label": local_name(s["name"], lang), "value": s["code"]} for s in sites]


def site_selector(
    cid: str,
    value: str | None,
    lang: str,
    *,
    clearable: bool = True,
    placeholder: str = "site",
    options: list[dict] | None = None,
) -> dcc.Dropdown:
    """The site dropdown heading a page (``placeholder``: an i18n key)."""
    return dcc.Dropdown(
        id=cid,
        options=site_options(lang) if options is None else options,
        value=value,
        clearable=clearable,
        placeholder=t(placeholder, lang),
        style={"width": "320px"},
    )


def page_header(title: str, *controls: object, status: str | None = None) -> list:
    """The head the analysis pages share: the title, then one row of controls (the site or
    product selector, the period …) ending in the status line whose id is ``status``.
    Spread it into the page's children."""
    row = list(controls)
    if status is not None:
        row.append(html.Span(id=status, className="status-bad"))
    return [html.H1(title), html.Div(row, className="controls")]
