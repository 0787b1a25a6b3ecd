"""The engineer's console: alarms (acknowledge, shelve with expiry, comment, out of
service), the rule editor with the API's validation messages, and the meter drill-down.

The alarm parts appear when the alarm service is deployed (read from the API's OpenAPI
document) and show only the actions it offers; until then they say "not available".
"""

from __future__ import annotations

from datetime import datetime

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import ids, runtime, snapshots
from dashboard.client import ApiError
from dashboard.components import drilldown
from dashboard.data import local_name
from dashboard.i18n import current, fmt_num, fmt_time, t

dash.register_page(__name__, path="/engineer", title="ECC · engineer", name="Engineer")

STATES = ("active", "unacknowledged", "shelved", "all")
RULE_TYPES = ("threshold", "rate", "stale", "demand", "idle", "forecast_deviation", "budget")
PRIORITIES = ("critical", "high", "medium", "low")
SHELVE_MINUTES = (15, 60, 240, 480, 1440)
ACTION_TEXT = {
    "ack": "ack",
    "shelve": "shelve",
    "unshelve": "unshelve",
    "comment": "add_comment",
    "out-of-service": "out_of_service",
    "return-to-service": "return_to_service",
}
_NUMBER_FIELDS = ("high", "low", "high_high", "low_low", "deadband", "on_delay_s", "off_delay_s")
_HIDDEN = {"display": "none"}


def _meter_options(lang: str) -> list[dict]:
    try:
        meters = runtime.api().meters()
    except ApiError:
        return []
    return [
        {"label": f"{m['code']} — {local_name(m['name'], lang)}", "value": m["code"]}
        for m in sorted(meters, key=lambda m: m["code"])
    ]


def _rule_form(lang: str, meters: list[dict]) -> html.Div:
    names = {
        "name": t("rule_name", lang),
        "type": t("rule_type", lang),
        "priority": t("priority", lang),
        "message": t("message", lang),
        "meter": t("meter", lang),
    }
    controls = {
        "name": dcc.Input(id=ids.rule_field("name"), type="text"),
        "meter": dcc.Dropdown(id=ids.rule_field("meter"), options=meters, clearable=True),
        "type": dcc.Dropdown(
            id=ids.rule_field("type"),
            value="threshold",
            clearable=False,
            options=[{"label": r, "value": r} for r in RULE_TYPES],
        ),
        "priority": dcc.Dropdown(
            id=ids.rule_field("priority"),
            value="medium",
            clearable=False,
            options=[{"label": p, "value": p} for p in PRIORITIES],
        ),
        "message": dcc.Input(id=ids.rule_field("message"), type="text"),
        **{n: dcc.Input(id=ids.rule_field(n), type="number") for n in _NUMBER_FIELDS},
    }

    def row(fields: tuple[str, ...]) -> html.Div:
        return html.Div(
            [html.Label([names.get(n, n), controls[n]]) for n in fields], className="form-row"
        )

    return html.Div(
        [
            row(("name", "meter", "type", "priority", "message")),
            row(_NUMBER_FIELDS),
            html.Button(
                t("create_rule", lang), id=ids.ENG_RULE_CREATE, className="btn btn-primary"
            ),
            html.Div(id=ids.ENG_RULE_MSG, className="note"),
        ]
    )


def _actions(lang: str) -> html.Div:
    return html.Div(
        id=ids.ENG_ACTIONS,
        style=_HIDDEN,
        className="controls",
        children=[
            dcc.Input(
                id=ids.ENG_COMMENT,
                type="text",
                placeholder=t("comment", lang),
                style={"minWidth": "320px"},
            ),
            html.Span(t("shelve_for", lang), className="label"),
            dcc.Dropdown(
                id=ids.ENG_SHELVE_MIN,
                value=60,
                clearable=False,
                style={"width": "140px"},
                options=[
                    {"label": f"{m // 60} h" if m >= 60 else f"{m} min", "value": m}
                    for m in SHELVE_MINUTES
                ],
            ),
            *[
                html.Button(
                    t(text, lang),
                    id=ids.eng_action(a),
                    style=_HIDDEN,
                    className="btn btn-primary" if a == "ack" else "btn",
                )
                for a, text in ACTION_TEXT.items()
            ],
        ],
    )


def layout(meter: str | None = None, **_: str) -> html.Div:
    lang = current()
    meters = _meter_options(lang)
    return html.Div(
        [
            html.H1(t("eng_title", lang)),
            html.Section(
                [
                    html.H2(t("alarms", lang)),
                    html.Div(
                        dcc.RadioItems(
                            id=ids.ENG_ALARM_STATE,
                            value="active",
                            inline=True,
                            className="radio",
                            options=[{"label": t(f"state_{s}", lang), "value": s} for s in STATES],
                        ),
                        className="controls",
                    ),
                    dcc.Interval(id=ids.ENG_ALARM_TICK, interval=10_000),
                    html.Div(id=ids.ENG_ALARM_NOTE, className="note"),
                    dcc.Checklist(
                        id=ids.ENG_ALARM_TABLE, options=[], value=[], className="alarm-list"
                    ),
                    _actions(lang),
                    html.Div(id=ids.ENG_ACTION_MSG, className="note"),
                ],
                className="card",
            ),
            html.Section(
                [
                    html.H2(t("rules", lang)),
                    html.Div(id=ids.ENG_RULES),
                    html.Div(_rule_form(lang, meters), id=ids.ENG_RULE_FORM, style=_HIDDEN),
                ],
                className="card",
            ),
            html.Section(
                [
                    html.H2(t("drilldown", lang)),
                    html.Div(
                        dcc.Dropdown(
                            id=ids.ENG_METER,
                            options=meters,
                            value=meter,
                            placeholder=t("meter", lang),
                            style={"width": "520px"},
                        ),
                        className="controls",
                    ),
                    drilldown("eng", meter, lang),
                ],
                className="card",
            ),
        ]
    )


def _alarm_label(a: dict) -> html.Span:
    value = "" if a["value"] is None else fmt_num(a["value"], a["unit"])
    if a["limit"] is not None:
        value += f" / {fmt_num(a['limit'], a['unit'])}"
    return html.Span(
        [
            html.Span(a["priority"].upper(), className=f"pill p-{a['priority']}"),
            html.Span(f" {a['state']} ", className="note"),
            html.B(a["subject"]),
            f"  {a['message']}  ",
            html.Span(value, className="num"),
            "  ",
            html.Span(_local(a["since"]), className="note"),
            html.Span(f"  “{a['comment']}”", className="note") if a["comment"] else None,
        ],
        className="" if a["acknowledged"] else "blink-soft",
    )


def _local(iso: str) -> str:
    """An API timestamp in the plant's clock."""
    try:
        return fmt_time(datetime.fromisoformat(iso), runtime.settings().timezone, True)
    except ValueError:
        return iso


def _rules_table(rules: list[dict]) -> html.Table:
    cols = ("name", "meter", "type", "priority", "high", "low", "message")

    def cell(r: dict, c: str) -> str:
        v = r.get(c)
        if c == "meter" and v is None:
            v = r.get("site")
        return "" if v is None else str(v)

    return html.Table(
        [
            html.Thead(html.Tr([html.Th(c) for c in cols])),
            html.Tbody([html.Tr([html.Td(cell(r, c)) for c in cols]) for r in rules]),
        ],
        className="data",
    )


@callback(
    Output(ids.ENG_ALARM_TABLE, "options"),
    Output(ids.ENG_ALARM_NOTE, "children"),
    Output(ids.ENG_RULES, "children"),
    Output(ids.ENG_ACTIONS, "style"),
    Output(ids.ENG_RULE_FORM, "style"),
    *[Output(ids.eng_action(a), "style") for a in ACTION_TEXT],
    Input(ids.ENG_ALARM_TICK, "n_intervals"),
    Input(ids.ENG_ALARM_STATE, "value"),
    Input(ids.ENG_ACTION_MSG, "children"),
    Input(ids.ENG_RULE_MSG, "children"),
)
def alarms(_: int, state: str, __: object, ___: object):
    lang = current()
    snap = snapshots.alarms_snapshot(runtime.api(), state)
    if not snap.reachable:
        return (no_update, t("reconnecting", lang), *[no_update] * (3 + len(ACTION_TEXT)))
    rules = _rules_table(snap.rules) if snap.rules_available else t("not_available", lang)
    form = {"display": "block"} if snap.rules_available else _HIDDEN
    buttons = [{} if a in snap.actions else _HIDDEN for a in ACTION_TEXT]
    if not snap.available:
        return ([], t("alarms_na", lang), rules, _HIDDEN, form, *buttons)
    note = t("no_alarms", lang) if not snap.rows else ""
    options = [{"label": _alarm_label(a), "value": a["id"]} for a in snap.rows]
    return (options, note, rules, {"display": "flex"}, form, *buttons)


@callback(
    Output(ids.ENG_ACTION_MSG, "children"),
    *[Input(ids.eng_action(a), "n_clicks") for a in ACTION_TEXT],
    State(ids.ENG_ALARM_TABLE, "value"),
    State(ids.ENG_COMMENT, "value"),
    State(ids.ENG_SHELVE_MIN, "value"),
    prevent_initial_call=True,
)
def act(*args: object):
    selected, comment, minutes = args[-3:]
    action = str(dash.ctx.triggered_id).removeprefix("eng-act-")
    return snapshots.alarm_action(
        runtime.api(), list(selected or []), action, str(comment or ""), minutes, current()
    )


@callback(
    Output(ids.ENG_RULE_MSG, "children"),
    Output(ids.ENG_RULE_MSG, "className"),
    Input(ids.ENG_RULE_CREATE, "n_clicks"),
    *[State(ids.rule_field(n), "value") for n in ids.ENG_RULE_FIELDS],
    prevent_initial_call=True,
)
def create_rule(_: int, *values: object):
    body = dict(zip(ids.ENG_RULE_FIELDS, values, strict=True))
    ok, text = snapshots.create_rule(runtime.api(), body, current())
    return text, "note msg-ok" if ok else "note msg-error"


@callback(Output(ids.dd(ids.DD_CODE, "eng"), "data"), Input(ids.ENG_METER, "value"))
def pick_meter(code: str | None):
    return code
