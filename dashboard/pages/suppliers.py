"""Suppliers: each supplier with its data requests by status, every request with its last
change, and the factors on file (supplier-specific and defaults) with their sources."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html, no_update

from dashboard import footprints, ids, runtime
from dashboard.i18n import DASH, current, fmt_num, t

dash.register_page(__name__, path="/suppliers", title="ECC · suppliers", name="Suppliers")

_STATES = ("requested", "received", "verified", "expired")


def layout(**_: str) -> html.Div:
    lang = current()
    return html.Div(
        [
            html.H1(t("suppliers_title", lang)),
            dcc.Interval(id=ids.SUP_TICK, interval=60_000),
            html.Span(id=ids.SUP_STATUS, className="status-bad"),
            html.Section(id=ids.SUP_TABLE, className="card"),
            html.Section(
                [html.H2(t("requests", lang)), html.Div(id=ids.SUP_REQUESTS)], className="card"
            ),
            html.Section(
                [html.H2(t("factors", lang)), html.Div(id=ids.SUP_FACTORS)], className="card"
            ),
        ]
    )


def _table(head: list[str], rows: list[list[str]], table_id: str) -> html.Table:
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in head])),
            html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows]),
        ],
        className="data",
        id=table_id,
    )


@callback(
    Output(ids.SUP_TABLE, "children"),
    Output(ids.SUP_REQUESTS, "children"),
    Output(ids.SUP_FACTORS, "children"),
    Output(ids.SUP_STATUS, "children"),
    Input(ids.SUP_TICK, "n_intervals"),
)
def refresh(_: int | None):
    lang = current()
    view = footprints.suppliers_view(runtime.api())
    if not view.reachable:
        return (*[no_update] * 3, t("reconnecting", lang))
    if not view.available:
        return (*[no_update] * 3, t("not_available", lang))
    suppliers = _table(
        [t("supplier", lang)] + [t(f"req_{s}", lang) for s in _STATES],
        [
            [f"{s['code']} — {s['name']}"] + [str(s["requests"][st]) for st in _STATES]
            for s in view.suppliers
        ],
        "sup-table",
    )
    requests = _table(
        [t("supplier", lang), t("material", lang), t("status", lang), t("due", lang)],
        [
            [r["supplier"], r["material"], t(f"req_{r['status']}", lang), r["due"] or DASH]
            for r in view.requests
        ],
        "sup-requests",
    )
    factors = _table(
        [
            t("material", lang),
            t("supplier", lang),
            "kgCO₂e",
            t("data_type", lang),
            t("source", lang),
        ],
        [
            [
                f["material"],
                f["supplier"] or DASH,
                f"{fmt_num(f['value'], '', 4)} / {f['unit']}",
                t(f"dt_{f['data_type']}", lang),
                f["source"],
            ]
            for f in view.factors
        ],
        "sup-factors",
    )
    return suppliers, requests, factors, ""
