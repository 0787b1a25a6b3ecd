"""``/meters/<code>``: what the meter is, where it sits in the tree, and its series."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import runtime
from dashboard.client import ApiError, Unreachable
from dashboard.components import drilldown
from dashboard.data import local_name, unit_text
from dashboard.i18n import current, t

dash.register_page(__name__, path_template="/meters/<code>", title="ECC · meter", name="Meter")


def _link(code: str | None) -> object:
    return dcc.Link(code, href=f"/meters/{code}") if code else "—"


def layout(code: str | None = None, **_: str) -> html.Div:
    lang = current()
    try:
        meters = runtime.api().meters()
        sites = {s["code"]: s for s in runtime.api().sites()}
    except Unreachable:
        return html.Div(
            [
                html.H1(t("meter_title", lang, code=code)),
                html.Div(t("reconnecting", lang), className="status-bad"),
            ]
        )
    except ApiError as exc:
        return html.Div(
            [
                html.H1(t("meter_title", lang, code=code)),
                html.Div(exc.detail, className="note error"),
            ]
        )
    meter = next((m for m in meters if m["code"] == code), None)
    if meter is None:
        return html.Div(
            [
                html.H1(t("meter_title", lang, code=code)),
                html.Div(t("unknown_meter", lang, code=code), className="note error"),
                dcc.Link(t("nav_sites", lang), href="/sites"),
            ]
        )
    children = [m for m in meters if m["parent"] == code]
    site = sites.get(meter["site"], {})
    info = [
        (
            t("site", lang),
            dcc.Link(
                local_name(site.get("name", meter["site"]), lang), href=f"/sites#{meter['site']}"
            ),
        ),
        (t("carrier", lang), meter["carrier"]),
        (t("kind", lang), meter["kind"]),
        (t("unit", lang), unit_text(meter, lang)),
        (t("interval", lang), f"{meter['interval_s']:,} s"),
        (t("parent", lang), _link(meter["parent"])),
        (
            t("children", lang),
            html.Span([html.Span([_link(c["code"]), " "]) for c in children]) if children else "—",
        ),
    ]
    return html.Div(
        [
            html.H1(
                [
                    t("meter_title", lang, code=code),
                    " ",
                    html.Span(local_name(meter["name"], lang), className="note"),
                ]
            ),
            html.Section(
                html.Dl([x for k, v in info for x in (html.Dt(k), html.Dd(v))], className="dl"),
                className="card",
            ),
            html.Section(drilldown("meter", code, lang), className="card"),
        ]
    )
