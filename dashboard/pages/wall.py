"""The wall screen: KPI tiles, active alarms, energy flow and the 24-hour load.

``/wall?site=CODE`` picks the site (default: the root site with the most meters);
``/wall?kiosk=1`` hides the menus and rotates overview → energy flow → load every 30 s
(``&rotate=SECONDS`` to change); ``&tiles=cost_today,budget_month,…`` picks this screen's
KPI tiles (default: the site's own ``wall_tiles``, else ``ECC_WALL_TILES``). The contracted
demand drawn is the site's own ``contracted_demand_kw``.
Refreshes every 5 s through one server callback; the clock and the data-freshness line
tick in the browser, so they keep moving (and turn red) while the API is away.
"""

from __future__ import annotations

import json

import dash
from dash import Input, Output, State, callback, clientside_callback, dcc, html, no_update
from dash.development.base_component import Component

from dashboard import auth, ids, runtime, snapshots
from dashboard.components import alarm_banner, kpi_tile
from dashboard.figures.wall import load_trend, sankey
from dashboard.i18n import current, t

dash.register_page(__name__, path="/wall", title="ECC · wall", name="Wall")

REFRESH_MS = 5_000
ROTATE_MS = 30_000
VIEWS = ("overview", "flow", "load")
_GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}
# The wall's own menu: the pages an engineer at the screen goes on to, each shown only to
# whoever may open it (``auth.may_open``, the gate's rule); to nobody signed in, sign-in.
MENU = (("/engineer", "nav_engineer"), ("/manager", "nav_manager"), ("/sites", "nav_sites"))


def _keys(text: str | None) -> list[str]:
    return [k.strip() for k in (text or "").split(",") if k.strip()]


def _tiles(raw: str | None = None) -> list[str]:
    """The KPI tiles drawn before the first refresh: ``?tiles=`` of this screen, else
    ``ECC_WALL_TILES`` (the refresh then draws the site's own, see ``wall_snapshot``)."""
    return _keys(raw) or _keys(runtime.settings().wall_tiles)


def _kpi_style(n: int) -> dict:
    return {"--tiles": n, "--num-scale": 1.0 if n <= 6 else 5.6 / n}


def layout(
    site: str | None = None,
    kiosk: str | None = None,
    rotate: str | None = None,
    tiles: str | None = None,
    **_: str,
) -> html.Div:
    """``rotate``: seconds between kiosk views (default 30); ``tiles``: comma-separated tile
    keys for this screen (default ``ECC_WALL_TILES``)."""
    chosen = _tiles(tiles)
    lang = current()
    kiosk_on = (kiosk or "").lower() in ("1", "true", "yes", "on")
    rotate_ms = (
        int(float(rotate) * 1000) if (rotate or "").replace(".", "", 1).isdigit() else ROTATE_MS
    )
    texts = {
        "last": t("last_reading", lang, age="{age}"),
        "none": t("no_reading", lang),
        "units": ["天", "小时", "分钟", "秒"] if lang == "zh" else ["d", "h", "min", "s"],
    }
    views = html.Div(
        [
            html.Button(t(f"view_{v}", lang), id=f"wall-view-{v}", className="wall-view-btn")
            for v in VIEWS
        ],
        className="wall-views",
    )
    person = runtime.person()
    links: list[Component] = [
        dcc.Link(t(key, lang), href=href) for href, key in MENU if auth.may_open(person, href)
    ]
    if person is None:
        links.append(html.A(t("sign_in", lang), href="/login", id=ids.WALL_SIGN_IN))
    nav = html.Nav(
        [*links, html.Button(t("language", lang), id=ids.WALL_LANG, className="linklike")],
        className="wall-nav",
    )
    return html.Div(
        id=ids.WALL,
        className="wall kiosk" if kiosk_on else "wall",
        children=[
            dcc.Store(id=ids.WALL_SITE, data=site),
            dcc.Store(id=ids.WALL_VIEWPORT),
            dcc.Store(id=ids.WALL_FIGURES),
            dcc.Store(id=ids.WALL_VIEW, data="overview"),
            dcc.Store(
                id=ids.WALL_STATE,
                data={
                    "reachable": True,
                    "last_ms": None,
                    "stale_s": 120,
                    "tz": runtime.settings().timezone,
                    "texts": texts,
                    "tiles": _keys(tiles),  # this screen's own choice (overrides the site's)
                },
            ),
            dcc.Interval(id=ids.WALL_TICK, interval=REFRESH_MS),
            dcc.Interval(id=ids.WALL_SECOND, interval=1_000),
            dcc.Interval(id=ids.WALL_ROTATE, interval=max(1000, rotate_ms), disabled=not kiosk_on),
            html.Header(
                [
                    html.Div(
                        [
                            html.Span(t("wall_title", lang)),
                            html.Span(id=ids.WALL_SITE_NAME, className="wall-site"),
                        ],
                        className="wall-title",
                    ),
                    html.Div(id=ids.WALL_STATUS, className="wall-status"),
                    html.Div(id=ids.WALL_FRESHNESS, className="wall-fresh"),
                    html.Div(
                        [
                            html.Span(id=ids.WALL_DATE, className="wall-date"),
                            html.Span(id=ids.WALL_CLOCK),
                        ],
                        className="wall-clock",
                    ),
                    html.Div([views, nav], className="wall-menu"),
                ],
                className="wall-head",
            ),
            html.Div(id=ids.WALL_ALARMS, className="wall-alarms"),
            html.Div(
                id=ids.WALL_KPIS,
                className="wall-kpis",
                style=_kpi_style(len(chosen)),
                children=[html.Div(className="tile") for _ in chosen],
            ),
            html.Div(
                id=ids.WALL_MAIN,
                className="wall-main view-overview",
                children=[
                    html.Div(
                        [
                            html.Div(
                                [
                                    t("energy_flow", lang),
                                    html.Span(id=ids.WALL_SANKEY_NOTE, className="panel-note"),
                                ],
                                className="panel-title",
                            ),
                            html.Div(id=ids.WALL_SANKEY_BOX, className="panel-graph"),
                        ],
                        className="panel panel-flow",
                    ),
                    html.Div(
                        [
                            html.Div(
                                [
                                    t("load_24h", lang),
                                    html.Span(id=ids.WALL_TREND_NOTE, className="panel-note"),
                                ],
                                className="panel-title",
                            ),
                            html.Div(id=ids.WALL_TREND_BOX, className="panel-graph"),
                        ],
                        className="panel panel-load",
                    ),
                ],
            ),
        ],
    )


@callback(
    Output(ids.WALL_KPIS, "children"),
    Output(ids.WALL_KPIS, "style"),
    Output(ids.WALL_ALARMS, "children"),
    Output(ids.WALL_FIGURES, "data"),
    Output(ids.WALL_SANKEY_NOTE, "children"),
    Output(ids.WALL_TREND_NOTE, "children"),
    Output(ids.WALL_SITE_NAME, "children"),
    Output(ids.WALL_STATUS, "children"),
    Output(ids.WALL_STATE, "data"),
    Input(ids.WALL_TICK, "n_intervals"),
    Input(ids.WALL_VIEWPORT, "data"),
    State(ids.WALL_SITE, "data"),
    State(ids.WALL_STATE, "data"),
    prevent_initial_call=True,
)
def refresh(_: int, viewport: dict | None, site: str | None, state: dict):
    """One complete refresh: one snapshot call, then components and figures. The figures
    go through a store to the graphs (below), so the tiles never wait for plotly.js."""
    lang = current()
    scale = 1.2 * max(0.6, min(3.0, (viewport or {}).get("h", 1080) / 1080))  # 5 m away
    snap = snapshots.wall_snapshot(
        runtime.api(),
        site,
        lang,
        tiles=state.get("tiles") or None,
        default_tiles=_keys(runtime.settings().wall_tiles),
    )
    if not snap.reachable:
        return (*[no_update] * 7, t("reconnecting", lang), {**state, "reachable": False})
    if snap.site is None:
        status = snap.error or t("no_site", lang)
        return (*[no_update] * 6, "", status, {**state, "reachable": True})
    flows_note = t("sankey_tce" if snap.flows.unit == "tce" else "sankey_kwh", lang)
    state = {
        **state,
        "reachable": True,
        "stale_s": snap.stale_after_s,
        "tz": snap.tz,
        "last_ms": None if snap.last_reading is None else snap.last_reading.timestamp() * 1000,
    }
    return (
        [kpi_tile(k, lang) for k in snap.kpis],
        _kpi_style(len(snap.kpis)),
        alarm_banner(snap.alarms, lang),
        {
            "sankey": sankey(snap.flows, scale, lang=lang),
            "trend": load_trend(
                snap.load, snap.forecast, snap.contracted_kw, snap.tz, scale, lang=lang
            ),
        },
        flows_note,
        snap.forecast_note,
        snap.site_name,
        "",
        state,
    )


# The graphs are mounted with the first figures, not in the layout: plotly.js (4.8 MB) is
# then fetched and run after the tiles are on the screen, instead of holding them back.
clientside_callback(
    """function(f, box) {
        const no = window.dash_clientside.no_update;
        if (!f || box) { return [no, no]; }
        const graph = (id, fig) => ({namespace: 'dash_core_components', type: 'Graph',
            props: {id: id, figure: fig, config: CONFIG, style: {height: '100%', width: '100%'}}});
        return [graph('SANKEY', f.sankey), graph('TREND', f.trend)];
    }""".replace("CONFIG", json.dumps(_GRAPH_CONFIG))
    .replace("SANKEY", ids.WALL_SANKEY)
    .replace("TREND", ids.WALL_TREND),
    Output(ids.WALL_SANKEY_BOX, "children"),
    Output(ids.WALL_TREND_BOX, "children"),
    Input(ids.WALL_FIGURES, "data"),
    State(ids.WALL_SANKEY_BOX, "children"),
)

clientside_callback(
    """function(f) {
        const no = window.dash_clientside.no_update;
        return f ? [f.sankey, f.trend] : [no, no];
    }""",
    Output(ids.WALL_SANKEY, "figure"),
    Output(ids.WALL_TREND, "figure"),
    Input(ids.WALL_FIGURES, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    "function(id) { return {h: window.innerHeight, w: window.innerWidth}; }",
    Output(ids.WALL_VIEWPORT, "data"),
    Input(ids.WALL, "id"),
)

clientside_callback(
    """
    function(tick, state) {
        const s = state || {};
        const tz = s.tz || undefined;  // the site's zone from the API; else the browser's
        const now = new Date();
        const clock = new Intl.DateTimeFormat('en-GB', {timeZone: tz, hour: '2-digit',
            minute: '2-digit', second: '2-digit', hour12: false}).format(now);
        const day = new Intl.DateTimeFormat('sv-SE', {timeZone: tz}).format(now);
        const T = s.texts || {last: '{age}', none: '—', units: ['d', 'h', 'min', 's']};
        if (!s.last_ms) {
            return [day, clock, T.none, 'wall-fresh stale'];
        }
        const age = Math.max(0, (now.getTime() - s.last_ms) / 1000);
        const widths = [86400, 3600, 60, 1];
        let text = '';
        for (let i = 0; i < widths.length; i++) {
            if (age >= widths[i] || i === widths.length - 1) {
                text = Math.floor(age / widths[i]).toLocaleString('en-US') + ' ' + T.units[i];
                break;
            }
        }
        const stale = age > (s.stale_s || 120) || s.reachable === false;
        return [day, clock, T.last.replace('{age}', text),
                'wall-fresh ' + (stale ? 'stale' : 'fresh')];
    }
    """,
    Output(ids.WALL_DATE, "children"),
    Output(ids.WALL_CLOCK, "children"),
    Output(ids.WALL_FRESHNESS, "children"),
    Output(ids.WALL_FRESHNESS, "className"),
    Input(ids.WALL_SECOND, "n_intervals"),
    Input(ids.WALL_STATE, "data"),
)

clientside_callback(
    """
    function(rot, a, b, c, view) {
        const views = ['overview', 'flow', 'load'];
        const trig = (dash_clientside.callback_context.triggered[0] || {}).prop_id || '';
        let next = view || 'overview';
        if (trig.startsWith('wall-rotate')) {
            next = views[(views.indexOf(next) + 1) % views.length];
        } else if (trig.startsWith('wall-view-')) {
            next = trig.split('.')[0].replace('wall-view-', '');
        }
        return [next, 'wall-main view-' + next];
    }
    """,
    Output(ids.WALL_VIEW, "data"),
    Output(ids.WALL_MAIN, "className"),
    Input(ids.WALL_ROTATE, "n_intervals"),
    *[Input(f"wall-view-{v}", "n_clicks") for v in VIEWS],
    State(ids.WALL_VIEW, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    "function(n) { if (n) { window.eccToggleLanguage(); } "
    "return window.dash_clientside.no_update; }",
    Output(ids.WALL_LANG, "className"),
    Input(ids.WALL_LANG, "n_clicks"),
    prevent_initial_call=True,
)
