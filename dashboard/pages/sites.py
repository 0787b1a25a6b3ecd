"""``/sites``: the site tree (park → enterprise → plant → workshops → lines) with the
meters installed at each site, each a link to its meter page; and each site's own settings
(contracted demand, the wall's tiles), saved through ``PATCH /api/v1/sites/{code}`` as the
signed-in person: editable for whoever ``/auth/me`` says may ``configure`` (engineers, admins),
read-only and saying so for the rest (the API refuses their save anyway)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from core import wall
from dashboard import auth, console, ids, runtime
from dashboard.client import ApiError, Unreachable
from dashboard.components import site_options
from dashboard.data import local_name, site_children
from dashboard.i18n import current, fmt_num, t

dash.register_page(__name__, path="/sites", title="ECC · sites", name="Sites")


def _meter_item(m: dict, lang: str) -> html.Li:
    return html.Li(
        [
            dcc.Link(m["code"], href=f"/meters/{m['code']}"),
            html.Span(f" {local_name(m['name'], lang)}", className="note"),
            html.Span(f" · {m['carrier']} · {m['kind']} · {m['canonical_unit']}", className="code"),
        ],
        className="meter",
    )


def _node(code: str, sites: dict, kids: dict, meters: dict, lang: str) -> html.Li:
    own = meters.get(code, [])
    below = [_node(c, sites, kids, meters, lang) for c in sorted(kids.get(code, []))]
    summary = html.Summary(
        [
            html.B(local_name(sites[code]["name"], lang)),
            html.Span(code, className="code"),
            html.Span(
                t("meters_n" if len(own) != 1 else "meter_1", lang, n=len(own)), className="code"
            ),
            html.Span(
                t("site_contract_v", lang, v=fmt_num(sites[code]["contracted_demand_kw"], "kW", 0))
                if sites[code].get("contracted_demand_kw")
                else "",
                className="code",
            ),
            html.Span(
                [
                    dcc.Link(t("nav_wall", lang), href=f"/wall?site={code}"),
                    " · ",
                    dcc.Link(t("nav_manager", lang), href=f"/manager?site={code}"),
                    " · ",
                    dcc.Link(t("site_settings", lang), href=f"/sites?site={code}"),
                ],
                className="code",
            ),
        ]
    )
    return html.Li(
        html.Details([summary, html.Ul([_meter_item(m, lang) for m in own] + below)], open=True),
        id=code,
    )


def layout(site: str | None = None, **_: str) -> html.Div:
    """``?site=CODE`` opens that site's settings in the form."""
    lang = current()
    try:
        sites = runtime.api().sites()
        meters = runtime.api().meters()
    except Unreachable:
        return html.Div(
            [
                html.H1(t("sites_title", lang)),
                html.Div(t("reconnecting", lang), className="status-bad"),
            ]
        )
    except ApiError as exc:
        refused = html.Div(console.refusal(exc, lang), className="note msg-error")
        return html.Div([html.H1(t("sites_title", lang)), refused])
    by_site: dict[str, list[dict]] = {}
    for m in sorted(meters, key=lambda m: m["code"]):
        by_site.setdefault(m["site"], []).append(m)
    kids = site_children(sites)
    index = {s["code"]: s for s in sites}
    roots = sorted(kids.get(None, []))
    return html.Div(
        [
            html.H1(t("sites_title", lang)),
            _settings_form(
                lang,
                site if site in index else roots[0] if roots else None,
                auth.may_configure(runtime.person()),
            ),
            html.Div(
                html.Ul([_node(r, index, kids, by_site, lang) for r in roots]),
                className="tree card",
                id=ids.SITES_TREE,
            ),
        ]
    )


def _settings_form(lang: str, first: str | None, editable: bool) -> html.Div:
    """A site's own settings: its contracted demand and its wall's tiles; not ``editable``
    (the person may not configure): shown, with a note saying so, but neither typed in nor
    saved (the site may still be picked)."""
    read_only = not editable
    note = html.Div(t("site_read_only", lang), id=ids.SITES_READONLY, className="note read-only")
    return html.Div(
        [
            html.H2(t("site_settings", lang)),
            *([note] if read_only else []),
            html.Div(
                [
                    html.Label(
                        [
                            t("site_pick", lang),
                            dcc.Dropdown(
                                id=ids.SITES_PICK,
                                options=site_options(lang),
                                value=first,
                                clearable=False,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            t("site_contract", lang),
                            dcc.Input(
                                id=ids.SITES_CONTRACT,
                                type="number",
                                min=0,
                                step="any",
                                disabled=read_only,
                            ),
                            html.Div(t("site_contract_help", lang), className="note"),
                        ]
                    ),
                    html.Label(
                        [
                            t("site_tiles", lang),
                            dcc.Dropdown(
                                id=ids.SITES_TILES,
                                options=[{"label": t(k, lang), "value": k} for k in wall.TILES],
                                multi=True,
                                disabled=read_only,
                            ),
                            html.Div(t("site_tiles_help", lang), className="note"),
                        ]
                    ),
                ],
                className="form-row site-settings",
            ),
            html.Button(
                t("site_save", lang), id=ids.SITES_SAVE, className="btn", disabled=read_only
            ),
            html.Div(id=ids.SITES_MSG, className="note"),
        ],
        className="card form",
    )


@callback(
    Output(ids.SITES_CONTRACT, "value"),
    Output(ids.SITES_TILES, "value"),
    Input(ids.SITES_PICK, "value"),
)
def show_settings(code: str | None):  # noqa: ANN201
    """The chosen site's settings as the API has them."""
    try:
        site = next((s for s in runtime.api().sites() if s["code"] == code), None)
    except ApiError:
        site = None
    if site is None:
        return None, []
    return site.get("contracted_demand_kw"), site.get("wall_tiles") or []


@callback(
    Output(ids.SITES_MSG, "children"),
    Output(ids.SITES_MSG, "className"),
    Input(ids.SITES_SAVE, "n_clicks"),
    State(ids.SITES_PICK, "value"),
    State(ids.SITES_CONTRACT, "value"),
    State(ids.SITES_TILES, "value"),
    prevent_initial_call=True,
)
def save_settings(_: int, code: str | None, contract: float | None, tiles: list | None):  # noqa: ANN201
    """Save through the API as the signed-in person; its refusal is shown as it says it."""
    if not code:
        return dash.no_update, dash.no_update
    body = {"contracted_demand_kw": contract if contract not in ("", None) else None}
    body["wall_tiles"] = list(tiles) if tiles else None
    try:
        runtime.api().update_site(code, body)
    except ApiError as exc:  # a viewer, manager or auditor reads the settings, may not save
        return console.refusal(exc, current()), "note msg-error"
    return t("site_saved", current(), site=code), "note msg-ok"
