"""``/sites``: the site tree (park → enterprise → plant → workshops → lines) with the
meters installed at each site, each a link to its meter page."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import ids, runtime
from dashboard.client import ApiError, Unreachable
from dashboard.data import local_name, site_children
from dashboard.i18n import current, t

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
                [
                    dcc.Link(t("nav_wall", lang), href=f"/wall?site={code}"),
                    " · ",
                    dcc.Link(t("nav_manager", lang), href=f"/manager?site={code}"),
                ],
                className="code",
            ),
        ]
    )
    return html.Li(
        html.Details([summary, html.Ul([_meter_item(m, lang) for m in own] + below)], open=True),
        id=code,
    )


def layout(**_: str) -> html.Div:
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
        return html.Div([html.H1(t("sites_title", lang)), html.Div(exc.detail, className="note")])
    by_site: dict[str, list[dict]] = {}
    for m in sorted(meters, key=lambda m: m["code"]):
        by_site.setdefault(m["site"], []).append(m)
    kids = site_children(sites)
    index = {s["code"]: s for s in sites}
    roots = sorted(kids.get(None, []))
    return html.Div(
        [
            html.H1(t("sites_title", lang)),
            html.Div(
                html.Ul([_node(r, index, kids, by_site, lang) for r in roots]),
                className="tree card",
                id=ids.SITES_TREE,
            ),
        ]
    )
