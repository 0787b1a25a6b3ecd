"""``/audit``: the audit trail for admins and auditors — who changed what, when, before and
after — filtered by entity, with a CSV export. Reads only the API (with the person's token)."""

from __future__ import annotations

import json
from typing import NamedTuple

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.development.base_component import Component

from dashboard import console, ids, runtime
from dashboard.client import ApiError
from dashboard.i18n import current, t

dash.register_page(__name__, path="/audit", title="ECC · audit", name="Audit")

SHOWN = 200  # newest entries of the trail on the page (the CSV export holds more)
ENTITIES = (
    "site",
    "meter",
    "alarm",
    "alarm_rule",
    "carbon_factor",
    "carbon_meter_source",
    "carbon_activity",
    "carbon_production",
    "carbon_certificate",
    "carbon_calc_version",
    "app_user",
    "api_key",
    "user_session",
    "request",
)


def _change(row: dict) -> str:
    before, after = row.get("before") or {}, row.get("after") or {}
    keys = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    parts = [f"{k}: {json.dumps(before.get(k))} → {json.dumps(after.get(k))}" for k in keys]
    return "; ".join(parts[:8]) + (" …" if len(parts) > 8 else "")


def _table(rows: list[dict], lang: str) -> html.Table:
    head = [t(k, lang) for k in ("audit_when", "audit_who", "audit_what", "audit_change")]
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in [*head, "request"]])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(str(r["at"])[:19].replace("T", " ")),
                            html.Td(f"{r['actor']} ({r['actor_kind']})"),
                            html.Td(f"{r['action']} {r['entity']} {r.get('entity_id') or ''}"),
                            html.Td(_change(r), className="code"),
                            html.Td(r.get("request_id") or "", className="code"),
                        ]
                    )
                    for r in rows
                ]
            ),
        ],
        className="table",
    )


class Trail(NamedTuple):
    """What the page shows of the trail: the table, or why the person may not read it."""

    shown: Component
    refused: bool


def read_trail(entity: str | None, lang: str) -> Trail:
    """The newest entries of the trail (of ``entity`` when one is chosen) as a table; when the
    API refuses the person (neither an admin nor an auditor) or is away, why, in their language
    (a ``note msg-error``), and ``refused``. The page's one read of the trail: its layout asks
    it (and hides the filters when refused), and so does the filter."""
    try:
        rows = runtime.api().audit(entity=entity or None, limit=SHOWN)
    except ApiError as exc:
        return Trail(html.Div(console.refusal(exc, lang), className="note msg-error"), True)
    return Trail(_table(rows, lang), False)


def layout(entity: str | None = None, **_: str) -> html.Div:
    """The trail and its filters; to whoever the API refuses it (neither an admin nor an
    auditor), only why, in their language."""
    lang = current()
    trail = read_trail(entity, lang)
    if trail.refused:
        return html.Div([html.H1(t("audit_title", lang)), html.Div(trail.shown, className="card")])
    return html.Div(
        [
            html.H1(t("audit_title", lang)),
            html.Div(
                [
                    html.Label(t("audit_entity", lang)),
                    dcc.Dropdown(
                        id=ids.AUDIT_ENTITY,
                        options=[{"label": e, "value": e} for e in ENTITIES],
                        value=entity,
                        clearable=True,
                        style={"minWidth": "16rem"},
                    ),
                    html.Button(t("export_csv", lang), id=ids.AUDIT_CSV, className="btn"),
                    dcc.Download(id=ids.AUDIT_DOWNLOAD),
                ],
                className="controls",
            ),
            html.Div(trail.shown, id=ids.AUDIT_TABLE, className="card"),
        ]
    )


@callback(
    Output(ids.AUDIT_TABLE, "children"),
    Input(ids.AUDIT_ENTITY, "value"),
    prevent_initial_call=True,  # the layout has read the trail for the page's own filter
)
def filter_entity(entity: str | None):
    return read_trail(entity, current()).shown


@callback(
    Output(ids.AUDIT_DOWNLOAD, "data"),
    Input(ids.AUDIT_CSV, "n_clicks"),
    State(ids.AUDIT_ENTITY, "value"),
    prevent_initial_call=True,
)
def export(_: int, entity: str | None):
    try:
        text = runtime.api().audit_csv(entity=entity, limit=100_000)
    except ApiError:
        return dash.no_update
    return {"content": text, "filename": f"audit-{entity or 'all'}.csv"}
