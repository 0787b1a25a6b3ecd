"""The engineer's console: the alarm list by filter (active, unacknowledged, shelved with the
time left, out of service, all, and the history over a time range), an alarm's detail with
its full history and comments, the operator actions (run as the signed-in person), the rule
editor generated from the API's rule-type catalog (create, edit, enable/disable, delete, try
on the last 7 days) and the meter drill-down.

The alarm parts appear when the alarm service is deployed (read from the API's OpenAPI
document) and show only the actions it offers; until then they say "not available".
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dash
from dash import ALL, Input, Output, State, callback, clientside_callback, dcc, html, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from plotly.utils import PlotlyJSONEncoder

from dashboard import console, ids, runtime
from dashboard.client import ApiError
from dashboard.components import drilldown, site_options
from dashboard.data import local_name
from dashboard.i18n import DASH, DATE_FORMAT, current, date_picker, fmt_num, t

dash.register_page(__name__, path="/engineer", title="ECC · engineer", name="Engineer")

SHELVE_MINUTES = (15, 60, 240, 480, 1440)
ACTION_TEXT = {
    "ack": "ack",
    "shelve": "shelve",
    "unshelve": "unshelve",
    "comment": "add_comment",
    "out-of-service": "out_of_service",
    "return-to-service": "return_to_service",
}
_HIDDEN = {"display": "none"}
_SHOWN = {"display": "block"}
RF = "eng-rf"  # pattern-matching ids of the type's fields: {"type": RF, "name": field}
RF_UNIT = "eng-rf-unit"
RC = "eng-rc"  # the catalog's further common fields: {"type": RC, "name": field, "kind": kind}
COMMON_BOX = "eng-rule-common"
RULE_BTN = "eng-rule-btn"  # {"type": RULE_BTN, "op": edit|toggle|delete, "id": rule id}
HIST_RANGE = "eng-hist-range"  # its inputs: #eng-hist-range (from), #eng-hist-range-end-date
HIST_BOX = "eng-hist-box"
HIST_TABLE = "eng-hist-table"
HIST_SEEN = "eng-hist-seen"  # what the list or history shows: redrawn only when it changes
DETAIL = "eng-alarm-detail"
EDITING = "eng-rule-editing"
EDIT_TITLE = "eng-rule-edit-title"
CANCEL_EDIT = "eng-rule-cancel"
FIELDS = "eng-rule-fields"
TRY = "eng-rule-try"
TRY_MSG = "eng-rule-try-result"
TRY_GRAPH = "eng-rule-try-graph"
CONFIRM = "eng-rule-confirm"
CONFIRM_YES = "eng-rule-confirm-yes"
CONFIRM_NO = "eng-rule-confirm-no"
PENDING = "eng-rule-pending"  # the rule a delete waits to be confirmed for
RULES_MSG = "eng-rules-msg"
LIST_BOX = "eng-alarm-list-box"
RULES_SEEN = "eng-rules-seen"  # what the rule table shows: redrawn on the tick only when changed
# a windows field (schedule, idle periods) is rows of weekdays ticked, from and to HH:MM; scope
# "rf" for a type's field, "rc" for a common one
WIN = "eng-win"  # {"type": WIN, "scope", "name", "row", "part": days | start | end}
WIN_ROW = "eng-win-row"  # {"type": WIN_ROW, "scope", "name", "row"}: shown when used or next
WIN_BOX = "eng-win-box"  # {"type": WIN_BOX, "scope", "name"}: a field's rows
WIN_SPARE = 4  # rows offered beyond a rule's windows, each shown once the one above is used
_WIN_PARTS = {"type": WIN, "scope": ALL, "name": ALL, "row": ALL, "part": ALL}


def _checklist(options: list[dict], value: list) -> dcc.Checklist:
    """The alarm list, built afresh on each refresh: Dash 4 fails ("reading 'props'") when a
    Checklist's component labels change in number, so the component is replaced, never
    patched; what was selected and is still listed stays selected."""
    listed = {o["value"] for o in options}
    return dcc.Checklist(
        id=ids.ENG_ALARM_TABLE,
        options=options,
        value=[v for v in value if v in listed],
        className="alarm-list",
    )


def _tz() -> str:
    return runtime.settings().timezone


def _meters(fresh: bool = False) -> list[dict]:
    try:
        return sorted(runtime.api().meters(fresh), key=lambda m: m["code"])
    except ApiError:
        return []


def _meter_options(lang: str, meters: list[dict]) -> list[dict]:
    return [
        {"label": f"{m['code']} — {local_name(m['name'], lang)}", "value": m["code"]}
        for m in meters
    ]


def _label(text_by_lang: dict, lang: str) -> str:
    return text_by_lang.get(lang) or text_by_lang.get("en", "")


# -- layout --------------------------------------------------------------------------------


def _field_box(f: dict, control: object, unit: object, lang: str, cls: str) -> Component:
    """A catalog field: its label (* when required), control, unit and help (a box, not a
    label, round the several controls of a windows field)."""
    head = [html.Span(_label(f["label"], lang), className="label")]
    if f["required"]:
        head.append(html.Span(" *", className="req", title=t("required", lang)))
    if f["kind"] == "windows":
        return html.Div(
            [
                html.Span(head),
                html.Div([control, unit], className="field-input"),
                html.Small(_label(f["help"], lang), className="help"),
            ],
            className=f"{cls} win-field",
        )
    return html.Label(
        [
            html.Span(head),
            html.Span([control, unit], className="field-input"),
            html.Small(_label(f["help"], lang), className="help"),
        ],
        className=cls,
    )


def _common_boxes(lang: str, catalog: dict | None) -> list[html.Label]:
    """Schedule, parent rule, webhook …: the common fields every type takes, below its own."""
    return [
        _field_box(
            f,
            _field_control(f, None, lang, [], {"type": RC, "name": f["name"], "kind": f["kind"]}),
            html.Span(f.get("unit") or "", className="unit"),
            lang,
            f"rule-common-field rc-{f['name']}",
        )
        for f in console.extra_common(catalog or {})
    ]


def _rule_form(lang: str, catalog: dict | None) -> html.Div:
    types = (catalog or {}).get("types", [])
    common = {f["name"]: f for f in (catalog or {}).get("common", [])}
    prio = common.get("priority", {})

    def labelled(name: str, control: object) -> html.Label:
        f = common.get(name)
        text = _label(f["label"], lang) if f else t(name, lang)
        return html.Label([html.Span(text, className="label"), control])

    return html.Div(
        [
            html.H3(t("new_rule", lang), id=EDIT_TITLE),
            dcc.Store(id=EDITING, data=None),
            html.Div(
                [
                    labelled("name", dcc.Input(id=ids.rule_field("name"), type="text")),
                    html.Label(
                        [
                            html.Span(t("rule_type", lang), className="label"),
                            dcc.Dropdown(
                                id=ids.rule_field("type"),
                                value="threshold",
                                clearable=False,
                                style={"width": "260px"},
                                options=[
                                    {"label": _label(s["label"], lang), "value": s["type"]}
                                    for s in types
                                ],
                            ),
                        ]
                    ),
                    labelled(
                        "priority",
                        dcc.Dropdown(
                            id=ids.rule_field("priority"),
                            value="medium",
                            clearable=False,
                            style={"width": "160px"},
                            options=[
                                {
                                    "label": _label(prio.get("choice_labels", {}).get(p, {}), lang)
                                    or p,
                                    "value": p,
                                }
                                for p in prio.get("choices", ("critical", "high", "medium", "low"))
                            ],
                        ),
                    ),
                    labelled(
                        "message",
                        dcc.Input(
                            id=ids.rule_field("message"), type="text", style={"minWidth": "320px"}
                        ),
                    ),
                ],
                className="form-row",
            ),
            html.Div(id=FIELDS, className="form-row rule-fields"),
            html.Div(_common_boxes(lang, catalog), id=COMMON_BOX, className="form-row rule-common"),
            html.Div(
                [
                    html.Button(
                        t("create_rule", lang), id=ids.ENG_RULE_CREATE, className="btn btn-primary"
                    ),
                    html.Button(t("try_rule", lang), id=TRY, className="btn"),
                    html.Button(t("cancel", lang), id=CANCEL_EDIT, className="btn", style=_HIDDEN),
                ],
                className="controls",
            ),
            html.Div(id=ids.ENG_RULE_MSG, className="note"),
            html.Div(id=TRY_MSG, className="note"),
            dcc.Graph(
                id=TRY_GRAPH,
                style={**_HIDDEN, "height": "180px"},
                config={"displayModeBar": False, "responsive": True},
            ),
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
                style={"width": "420px"},
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


def _history_box(lang: str) -> html.Div:
    """The history's range: local calendar days, shown and typed as YYYY-MM-DD in either
    language (a browser's date input would show its own locale's order, 11/27/2026)."""
    today = datetime.now(ZoneInfo(_tz())).date()
    return html.Div(
        id=HIST_BOX,
        style=_HIDDEN,
        className="controls",
        children=[
            html.Span(t("hist_range", lang), className="label"),
            html.Div(
                dcc.DatePickerRange(
                    id=HIST_RANGE,
                    start_date=(today - timedelta(days=7)).isoformat(),
                    end_date=today.isoformat(),
                    start_date_placeholder_text=DATE_FORMAT,
                    end_date_placeholder_text=DATE_FORMAT,
                    **date_picker(lang),
                ),
                style={"width": "300px"},
            ),
        ],
    )


def layout(meter: str | None = None, **_: str) -> html.Div:
    lang = current()
    meters = _meter_options(lang, _meters())
    catalog = console.rule_catalog(runtime.api())
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
                            options=[
                                {"label": t(f"state_{s}", lang), "value": s}
                                for s in console.FILTERS
                            ],
                        ),
                        className="controls",
                    ),
                    _history_box(lang),
                    dcc.Interval(
                        id=ids.ENG_ALARM_TICK,
                        interval=int(runtime.settings().console_refresh_s * 1000),
                    ),
                    html.Div(id=ids.ENG_ALARM_NOTE, className="note"),
                    html.Div(_checklist([], []), id=LIST_BOX),
                    html.Div(id=HIST_TABLE),
                    dcc.Store(id=HIST_SEEN, data=None),
                    _actions(lang),
                    html.Div(id=ids.ENG_ACTION_MSG, className="note"),
                    html.Div(id=DETAIL, className="alarm-detail"),
                ],
                className="card",
            ),
            html.Section(
                [
                    html.H2(t("rules", lang)),
                    dcc.Store(id=PENDING, data=None),
                    dcc.Store(id=RULES_SEEN, data=None),
                    html.Div(id=ids.ENG_RULES),
                    html.Div(
                        id=CONFIRM,
                        style=_HIDDEN,
                        className="confirm",
                        children=[
                            html.Span(id=f"{CONFIRM}-text"),
                            html.Button(
                                t("yes_delete", lang), id=CONFIRM_YES, className="btn btn-danger"
                            ),
                            html.Button(t("cancel", lang), id=CONFIRM_NO, className="btn"),
                        ],
                    ),
                    html.Div(id=RULES_MSG, className="note"),
                    html.Div(
                        _rule_form(lang, catalog),
                        id=ids.ENG_RULE_FORM,
                        style=_HIDDEN,
                    ),
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


# -- alarm list ----------------------------------------------------------------------------


def _alarm_label(a: dict, lang: str, now: datetime) -> html.Span:
    tz = _tz()
    state = console.word("as", a["state"], lang)
    if a["state"] == "shelved" and a.get("shelved_until"):
        state = t("shelved_left", lang, left=console.time_left(a["shelved_until"], now, lang))
    parts: list = [
        html.Span(console.word("ap", a["priority"], lang), className=f"pill p-{a['priority']}"),
        html.Span(f" {state} ", className="note alarm-state"),
        html.B(a["subject"]),
        f"  {a['message'] or a.get('rule_name') or ''}  ",
        html.Span(console.value_text(a), className="num"),
        "  ",
        html.Span(console.when(a["since"], tz), className="note"),
    ]
    return html.Span(parts, className="" if a["acknowledged"] else "blink-soft")


def _history_table(events: list[dict], lang: str) -> html.Table:
    tz = _tz()
    cols = ("col_time", "col_alarm", "col_action", "col_change", "col_person", "col_value")
    rows = [
        html.Tr(
            [
                html.Td(console.when(e["at"], tz), className="nowrap"),
                html.Td(
                    [
                        html.Span(
                            console.word("ap", e["priority"], lang),
                            className=f"pill p-{e['priority']}",
                        ),
                        f" {e['meter'] or e['site'] or ''} · {e['message'] or e['rule_name']}",
                    ]
                ),
                html.Td(
                    [
                        console.word("aa", e["action"], lang),
                        html.Span(f" “{e['comment']}”", className="note")
                        if e.get("comment")
                        else "",
                    ]
                ),
                html.Td(
                    f"{console.word('as', e['from_state'], lang)} → "
                    f"{console.word('as', e['to_state'], lang)}"
                ),
                html.Td(t("system_user", lang) if e["user"] == "system" else e["user"]),
                html.Td(
                    DASH
                    if e.get("value") is None
                    else fmt_num(e["value"], e.get("value_unit") or ""),
                    className="num",
                ),
            ]
        )
        for e in events
    ]
    return html.Table(
        [html.Thead(html.Tr([html.Th(t(c, lang)) for c in cols])), html.Tbody(rows)],
        className="data",
    )


def _range(start: str | None, end: str | None) -> tuple[datetime, datetime] | None:
    """Local calendar days [start, end] as UTC instants."""
    try:
        d0, d1 = date.fromisoformat(str(start)[:10]), date.fromisoformat(str(end)[:10])
    except ValueError:
        return None
    tz = ZoneInfo(_tz())
    lo = datetime.combine(d0, datetime.min.time(), tz)
    hi = datetime.combine(d1 + timedelta(days=1), datetime.min.time(), tz)
    return (lo, hi) if hi > lo else None


@callback(
    Output(LIST_BOX, "children"),
    Output(ids.ENG_ALARM_NOTE, "children"),
    Output(ids.ENG_ACTIONS, "style"),
    Output(HIST_BOX, "style"),
    Output(HIST_TABLE, "children"),
    Output(LIST_BOX, "style"),
    *[Output(ids.eng_action(a), "style") for a in ACTION_TEXT],
    Output(HIST_SEEN, "data"),
    Input(ids.ENG_ALARM_TICK, "n_intervals"),
    Input(ids.ENG_ALARM_STATE, "value"),
    Input(ids.ENG_ACTION_MSG, "children"),
    Input(HIST_RANGE, "start_date"),
    Input(HIST_RANGE, "end_date"),
    State(ids.ENG_ALARM_TABLE, "value"),
    State(HIST_SEEN, "data"),
)
def alarms(
    _: int,
    flt: str,
    __: object,
    start: str | None,
    end: str | None,
    selected: list,
    seen: list | None,
):
    """The alarm list of the filter, or the history of the range; on the console's tick either is
    drawn again only when what it shows changed. ``seen`` is what the page shows now (set only
    by a response that drew), so a tick after a dropped response draws it again."""
    lang = current()
    history = flt == "history"
    span = _range(start, end) if history else None
    ticked = dash.ctx.triggered_id == ids.ENG_ALARM_TICK
    found = console.alarm_list(runtime.api(), flt, *(span or (None, None)))
    n_buttons = len(ACTION_TEXT)
    if not found.reachable:
        return (no_update, t("reconnecting", lang), *[no_update] * (5 + n_buttons))
    if not found.available:
        empty = _checklist([], [])
        return (
            empty,
            t("alarms_na", lang),
            _HIDDEN,
            _HIDDEN,
            None,
            _HIDDEN,
            *[_HIDDEN] * n_buttons,
            None,
        )
    hist_style = {"display": "flex"} if history else _HIDDEN
    if history:
        shown = _shown(span, found)
        if ticked and shown == seen:
            raise PreventUpdate
        note = console.history_note(found, lang)
        if found.more_events:  # rows are missing: said so where the eye stops, not in grey
            note = html.Span(note, className="status-bad", id="eng-hist-capped")
        table = _history_table(found.events, lang) if found.events else None
        empty = _checklist([], [])
        return (empty, note, _HIDDEN, hist_style, table, _HIDDEN, *[_HIDDEN] * n_buttons, shown)
    buttons = [{} if a in found.actions else _HIDDEN for a in ACTION_TEXT]
    now = datetime.now(UTC)
    options = [{"label": _alarm_label(a, lang, now), "value": a["id"]} for a in found.rows]
    note = found.error or ("" if found.rows else t("no_alarms_in", lang))
    drawn = _drawn(options, note, buttons)
    if ticked and drawn == seen:
        raise PreventUpdate  # unchanged: a row is not replaced under the engineer's pointer
    box = _checklist(options, list(selected or []))
    return (box, note, {"display": "flex"}, hist_style, None, {}, *buttons, drawn)


def _drawn(*parts: object) -> str:
    """What a refreshed part of the page shows, as a digest of its components as drawn."""
    shown = json.dumps(parts, cls=PlotlyJSONEncoder, sort_keys=True)
    return hashlib.sha256(shown.encode()).hexdigest()


def _shown(span: tuple[datetime, datetime] | None, found: console.AlarmList) -> list:
    """What a history table shows, in brief: its range, its size and its newest event."""
    newest = found.events[0] if found.events else {}
    return [
        [v.isoformat() for v in span] if span else None,
        len(found.events),
        found.more_events,
        found.error,
        newest.get("alarm"),
        newest.get("seq"),
    ]


@callback(
    Output(ids.ENG_ACTION_MSG, "children"),
    Output(ids.ENG_ALARM_TABLE, "value"),
    Output(ids.ENG_COMMENT, "value"),
    *[Input(ids.eng_action(a), "n_clicks") for a in ACTION_TEXT],
    State(ids.ENG_ALARM_TABLE, "value"),
    State(ids.ENG_COMMENT, "value"),
    State(ids.ENG_SHELVE_MIN, "value"),
    prevent_initial_call=True,
)
def act(*args: object):
    selected, comment, minutes = args[-3:]
    action = str(dash.ctx.triggered_id).removeprefix("eng-act-")
    ok, text = console.alarm_action(
        runtime.api(), list(selected or []), action, str(comment or ""), minutes, current()
    )
    if ok:  # done: nothing stays selected or typed for the next action
        return text, [], ""
    return text, no_update, no_update


@callback(
    Output(DETAIL, "children"),
    Input(ids.ENG_ALARM_TABLE, "value"),
    Input(ids.ENG_ACTION_MSG, "children"),
)
def detail(selected: list | None, _: object):
    lang = current()
    if not selected:
        return html.P(t("pick_alarm_detail", lang), className="note")
    found = console.alarm_detail(runtime.api(), str(selected[-1]))
    if found is None:
        return html.P(t("not_available", lang), className="note")
    a, events = found
    tz = _tz()
    facts = [
        html.Span(console.word("ap", a["priority"], lang), className=f"pill p-{a['priority']}"),
        html.B(f" {a['meter'] or a['site']} · {a['rule_name']} "),
        html.Span(
            f"{console.word('cond', a['condition'], lang)} · "
            f"{console.word('as', a['state'], lang)} · {console.value_text(a)}",
            className="note",
        ),
    ]
    if a.get("acked_by"):
        facts.append(
            html.Span(
                " · " + t("acked_by", lang, who=a["acked_by"], at=console.when(a["acked_at"], tz)),
                className="note",
            )
        )
    events = list(reversed(events))
    for e in events:
        e.setdefault("priority", a["priority"])
        e.setdefault("meter", a["meter"])
        e.setdefault("site", a["site"])
        e.setdefault("message", a["message"])
        e.setdefault("rule_name", a["rule_name"])
        e.setdefault("value_unit", a.get("value_unit"))
    return html.Div([html.H3(t("alarm_detail", lang)), html.P(facts), _history_table(events, lang)])


# -- rules ---------------------------------------------------------------------------------


def _rules_table(rules: list[dict], catalog: dict | None, lang: str) -> html.Div | str:
    if not rules:
        return t("no_rules", lang)
    units = {m["code"]: m.get("unit") or m.get("canonical_unit") for m in _meters()}
    cols = ("rule_name", "col_subject", "rule_type", "priority", "col_limits", "col_enabled")
    body = []
    for r in rules:
        spec = console.type_spec(catalog or {}, r["type"])
        enabled = r.get("enabled", True)
        body.append(
            html.Tr(
                [
                    html.Td(r["name"]),
                    html.Td(r.get("meter") or r.get("site") or DASH),
                    html.Td(_label(spec["label"], lang) if spec else r["type"]),
                    html.Td(
                        html.Span(
                            console.word("ap", r["priority"], lang),
                            className=f"pill p-{r['priority']}",
                        )
                    ),
                    html.Td(console.limits_text(r, spec, units.get(r.get("meter")), lang)),
                    html.Td(
                        t("rule_enabled" if enabled else "rule_disabled", lang),
                        className="" if enabled else "muted",
                    ),
                    html.Td(
                        [
                            html.Button(
                                t("edit", lang),
                                id={"type": RULE_BTN, "op": "edit", "id": r["id"]},
                                className="btn btn-small",
                            ),
                            html.Button(
                                t("disable" if enabled else "enable", lang),
                                id={"type": RULE_BTN, "op": "toggle", "id": r["id"]},
                                className="btn btn-small",
                            ),
                            html.Button(
                                t("delete", lang),
                                id={"type": RULE_BTN, "op": "delete", "id": r["id"]},
                                className="btn btn-small btn-danger",
                            ),
                        ],
                        className="rule-ops",
                    ),
                ],
                id=f"eng-rule-row-{r['id']}",
            )
        )
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(t(c, lang)) for c in cols] + [html.Th("")])),
            html.Tbody(body),
        ],
        className="data rules",
    )


@callback(
    Output(ids.ENG_RULES, "children"),
    Output(ids.ENG_RULE_FORM, "style"),
    Output(RULES_SEEN, "data"),
    Input(ids.ENG_ALARM_TICK, "n_intervals"),
    Input(ids.ENG_RULE_MSG, "children"),
    Input(RULES_MSG, "children"),
    State(RULES_SEEN, "data"),
)
def rules_list(_: int, __: object, ___: object, seen: str | None):
    """The rule table; on the console's tick drawn again only when it changed (its buttons are
    not replaced under the engineer's pointer)."""
    lang = current()
    api = runtime.api()
    if not api.has("/alarm-rules"):
        return t("not_available", lang), _HIDDEN, None
    found = console.rules(api)
    if found is None:
        return t("reconnecting", lang), no_update, None
    form = _SHOWN if api.has("/alarm-rules", "post") else _HIDDEN
    table = _rules_table(found, console.rule_catalog(api), lang)
    drawn = _drawn(table, form)
    if dash.ctx.triggered_id == ids.ENG_ALARM_TICK and drawn == seen:
        raise PreventUpdate
    return table, form, drawn


def _time_input(key: dict, value: str, placeholder: str) -> dcc.Input:
    """A window's HH:MM box (empty: ``placeholder``, the whole day's edge)."""
    return dcc.Input(
        id=key, type="text", value=value, placeholder=placeholder, maxLength=5, className="win-time"
    )


def _window_rows(scope: str, name: str, stored: object, lang: str) -> list[html.Div]:
    """A windows field's rows: the stored windows, then empty ones, each shown once the row
    above it is used (the clientside callback below keeps that as the person types)."""
    rows = console.window_rows(stored)
    out = []
    for i in range(len(rows) + WIN_SPARE):
        row = rows[i] if i < len(rows) else {"days": [], "start": "", "end": ""}
        key = {"scope": scope, "name": name, "row": i}
        out.append(
            html.Div(
                [
                    dcc.Checklist(
                        id={"type": WIN, **key, "part": "days"},
                        options=[
                            {"label": t(f"wd_{d}", lang), "value": d} for d in console.WEEKDAYS
                        ],
                        value=row["days"],
                        inline=True,
                        className="win-days",
                    ),
                    html.Span(t("win_from", lang), className="label"),
                    _time_input({"type": WIN, **key, "part": "start"}, row["start"], "00:00"),
                    html.Span(t("win_to", lang), className="label"),
                    _time_input({"type": WIN, **key, "part": "end"}, row["end"], "24:00"),
                ],
                id={"type": WIN_ROW, **key},
                className="win-row",
                style={} if i <= len(rows) else _HIDDEN,
            )
        )
    return out


clientside_callback(
    """function(values, parts, rows) {
        const used = new Set();
        parts.forEach((p, k) => {
            const v = values[k];
            if (Array.isArray(v) ? v.length : String(v ?? '').trim()) {
                used.add(JSON.stringify([p.scope, p.name, p.row]));
            }
        });
        const on = (r, i) => used.has(JSON.stringify([r.scope, r.name, i]));
        const shown = r => r.row === 0 || on(r, r.row) || on(r, r.row - 1);
        return rows.map(r => shown(r) ? {} : {display: 'none'});
    }""",
    Output({"type": WIN_ROW, "scope": ALL, "name": ALL, "row": ALL}, "style"),
    Input(_WIN_PARTS, "value"),
    State(_WIN_PARTS, "id"),
    State({"type": WIN_ROW, "scope": ALL, "name": ALL, "row": ALL}, "id"),
)


def _rule_options(rules: list[dict], editing: int | None) -> list[dict]:
    """Rules another may name (a parent): every rule but the one being edited."""
    return [
        {"label": f"{r['name']} (#{r['id']})", "value": r["id"]}
        for r in sorted(rules, key=lambda r: r["name"])
        if r["id"] != editing
    ]


def _field_control(
    f: dict, value: object, lang: str, meters: list[dict], fid: dict | None = None
) -> object:
    fid = fid or {"type": RF, "name": f["name"]}
    kind = f["kind"]
    if value is None:
        value = f.get("default")
    if kind == "rule":  # options: the rules there are when the form is drawn
        return dcc.Dropdown(
            id=fid,
            options=[],
            value=value,
            placeholder=t("no_parent_rule", lang),
            style={"width": "360px"},
        )
    if kind == "meter":
        return dcc.Dropdown(
            id=fid, options=_meter_options(lang, meters), value=value, style={"width": "360px"}
        )
    if kind == "site":
        return dcc.Dropdown(
            id=fid, options=site_options(lang), value=value, style={"width": "260px"}
        )
    if kind == "choice":
        labels = f.get("choice_labels", {})
        return dcc.Dropdown(
            id=fid,
            value=value,
            clearable=not f["required"] and f.get("default") is None,
            style={"width": "220px"},
            options=[
                {"label": _label(labels[c], lang) if c in labels else c, "value": c}
                for c in f["choices"]
            ],
        )
    if kind == "windows":
        scope = "rc" if fid["type"] == RC else "rf"
        return html.Div(
            _window_rows(scope, f["name"], value, lang),
            id={"type": WIN_BOX, "scope": scope, "name": f["name"]},
            className="win-box",
        )
    if kind == "dates":
        text = ", ".join(value) if isinstance(value, list) else (value or "")
        return dcc.Input(id=fid, type="text", value=text, placeholder="2026-10-01, 2026-10-02")
    if kind in ("number", "integer"):
        return dcc.Input(id=fid, type="number", value=value, step=1 if kind == "integer" else "any")
    return dcc.Input(id=fid, type="text", value=value)


@callback(
    Output(FIELDS, "children"),
    Output(ids.rule_field("name"), "value"),
    Output(ids.rule_field("priority"), "value"),
    Output(ids.rule_field("message"), "value"),
    Output(ids.rule_field("type"), "value"),
    Output(ids.rule_field("type"), "disabled"),
    Output(EDIT_TITLE, "children"),
    Output(ids.ENG_RULE_CREATE, "children"),
    Output(CANCEL_EDIT, "style"),
    Output(ids.rule_field("type"), "options"),
    Output({"type": RC, "name": ALL, "kind": ALL}, "value"),
    Output({"type": RC, "name": ALL, "kind": "rule"}, "options"),
    Output({"type": WIN_BOX, "scope": "rc", "name": ALL}, "children"),
    Input(ids.rule_field("type"), "value"),
    Input(EDITING, "data"),
    State({"type": RC, "name": ALL, "kind": ALL}, "id"),
    State({"type": WIN_BOX, "scope": "rc", "name": ALL}, "id"),
)
def rule_fields(rtype: str | None, editing: int | None, common_ids: list[dict], win_ids: list):
    """Exactly the fields of the chosen type (with units and help), filled with the rule's
    values when editing one; the common fields (schedule, parent, webhook) filled likewise."""
    lang = current()
    api = runtime.api()
    catalog = console.rule_catalog(api) or {}
    rule: dict = {}
    if editing is not None:
        try:
            rule = api.alarm_rule(editing)
        except ApiError:
            rule = {}
        rtype = rule.get("type", rtype)
    spec = console.type_spec(catalog, rtype)
    n_rule_refs = sum(1 for i in common_ids if i["kind"] == "rule")
    keep_common = [no_update] * len(common_ids)  # a wildcard output: one per component
    keep_windows = [no_update] * len(win_ids)
    if spec is None:
        no_refs = [no_update] * n_rule_refs
        return t("not_available", lang), *[no_update] * 9, keep_common, no_refs, keep_windows
    parents = [_rule_options(console.rules(api) or [], editing)] * n_rule_refs
    types = [{"label": _label(s["label"], lang), "value": s["type"]} for s in catalog["types"]]
    meters = _meters(fresh=True)  # a meter created a moment ago can be chosen
    units = {m["code"]: m.get("unit") or m.get("canonical_unit") for m in meters}
    meter_unit = units.get(rule.get("meter")) if rule else None
    boxes = []
    for f in spec["fields"]:
        unit = console.field_unit(f, meter_unit, rule.get("unit"), lang)
        control = _field_control(f, rule.get(f["name"]), lang, meters)
        unit_span = html.Span(unit, id={"type": RF_UNIT, "name": f["name"]}, className="unit")
        boxes.append(_field_box(f, control, unit_span, lang, f"rule-field rf-{f['name']}"))
    boxes.append(html.P(_label(spec["help"], lang), className="note type-help"))
    if editing is None or not rule:
        return (
            boxes,
            no_update,
            no_update,
            no_update,
            no_update,
            False,
            t("new_rule", lang),
            t("create_rule", lang),
            _HIDDEN,
            types,
            keep_common,
            parents,
            keep_windows,
        )
    common = [rule.get(i["name"]) for i in common_ids]
    windows = [_window_rows("rc", i["name"], rule.get(i["name"]), lang) for i in win_ids]
    return (
        boxes,
        rule["name"],
        rule["priority"],
        rule.get("message", ""),
        rule["type"],
        True,
        t("editing_rule", lang, name=rule["name"]),
        t("save_rule", lang),
        {},
        types,
        common,
        parents,
        windows,
    )


@callback(
    Output({"type": RF_UNIT, "name": ALL}, "children"),
    Input({"type": RF, "name": ALL}, "value"),
    State({"type": RF, "name": ALL}, "id"),
    State({"type": RF_UNIT, "name": ALL}, "id"),
    State(ids.rule_field("type"), "value"),
    prevent_initial_call=True,
)
def field_units(values: list, fids: list[dict], unit_ids: list[dict], rtype: str | None):
    """Limits follow the chosen meter's unit (or the rule's unit field)."""
    lang = current()
    spec = console.type_spec(console.rule_catalog(runtime.api()) or {}, rtype)
    by_name = dict(zip([i["name"] for i in fids], values, strict=True))
    units = {m["code"]: m.get("unit") or m.get("canonical_unit") for m in _meters()}
    code = by_name.get("meter")
    if code and code not in units:  # a meter newer than the cached list
        try:
            m = runtime.api().meter(str(code))
            units[code] = m.get("unit") or m.get("canonical_unit")
        except ApiError:
            pass
    out = []
    for i in unit_ids:  # one per field (a windows field has several controls, none of them RF)
        f = next((f for f in (spec or {}).get("fields", []) if f["name"] == i["name"]), None)
        if f is None:
            out.append("")
            continue
        rule_unit = by_name.get("unit") or None
        out.append(console.field_unit(f, units.get(by_name.get("meter")), rule_unit, lang))
    return out


def _clicked_id() -> str | dict | None:
    """The control a person clicked, among everything that fired together (a redrawn table's
    new buttons fire with no clicks beside the click itself), or None."""
    ids_of = dash.ctx.triggered_prop_ids
    for fired in dash.ctx.triggered:
        if fired.get("value") and fired["prop_id"] in ids_of:
            return ids_of[fired["prop_id"]]
    return None


def _clicked() -> bool:
    """Whether the callback runs because a button was clicked (not because it appeared)."""
    return any(bool(tr.get("value")) for tr in dash.ctx.triggered)


def _body(
    rtype: str | None,
    editing: int | None,
    name: object,
    prio: object,
    msg: object,
    vals: list,
    fids: list[dict],
    common_vals: list,
    common_ids: list[dict],
    win_vals: list,
    win_ids: list[dict],
) -> dict:
    lang = current()
    catalog = console.rule_catalog(runtime.api()) or {}
    spec = console.type_spec(catalog, rtype)
    if spec is None:
        raise ValueError(f"type: {rtype!r}")
    common = console.extra_common(catalog)
    labels = {f["name"]: _label(f["label"], lang) for f in [*spec["fields"], *common]}
    values = dict(zip([i["name"] for i in fids], vals, strict=True))
    values.update(zip([i["name"] for i in common_ids], common_vals, strict=True))
    values.update(console.windows_from_form(win_vals, win_ids, labels, lang))
    values.update(name=name, priority=prio, message=msg)
    return console.rule_body(
        spec, values, patch=editing is not None, common=common, labels=labels, lang=lang
    )


_FORM_STATE = (
    State(ids.rule_field("type"), "value"),
    State(EDITING, "data"),
    State(ids.rule_field("name"), "value"),
    State(ids.rule_field("priority"), "value"),
    State(ids.rule_field("message"), "value"),
    State({"type": RF, "name": ALL}, "value"),
    State({"type": RF, "name": ALL}, "id"),
    State({"type": RC, "name": ALL, "kind": ALL}, "value"),
    State({"type": RC, "name": ALL, "kind": ALL}, "id"),
    State(_WIN_PARTS, "value"),
    State(_WIN_PARTS, "id"),
)


@callback(
    Output(ids.ENG_RULE_MSG, "children"),
    Output(ids.ENG_RULE_MSG, "className"),
    Output(EDITING, "data"),
    Input(ids.ENG_RULE_CREATE, "n_clicks"),
    Input(CANCEL_EDIT, "n_clicks"),
    Input({"type": RULE_BTN, "op": "edit", "id": ALL}, "n_clicks"),
    *_FORM_STATE,
    prevent_initial_call=True,
)
def save_rule(_: int, __: int, edits: list, rtype, editing, name, prio, msg, *fields: list):
    trigger = dash.ctx.triggered_id
    if trigger == CANCEL_EDIT:
        return "", "note", None
    if isinstance(trigger, dict):  # an Edit button of the rules table
        if not _clicked():  # the table was drawn again: new buttons, nothing clicked
            return no_update, no_update, no_update
        return "", "note", int(trigger["id"])
    lang = current()
    try:
        body = _body(rtype, editing, name, prio, msg, *fields)
    except ValueError as exc:
        return str(exc), "note msg-error", no_update
    ok, text = console.save_rule(runtime.api(), editing, body, lang)
    if not ok:
        return text, "note msg-error", no_update
    return text, "note msg-ok", None


@callback(
    Output(TRY_MSG, "children"),
    Output(TRY_MSG, "className"),
    Output(TRY_GRAPH, "figure"),
    Output(TRY_GRAPH, "style"),
    Input(TRY, "n_clicks"),
    *_FORM_STATE,
    prevent_initial_call=True,
)
def try_rule(_: int, rtype, editing, name, prio, msg, *fields: list):
    lang = current()
    hidden = {**_HIDDEN, "height": "180px"}
    try:
        body = _body(rtype, None, name or "trial", prio, msg, *fields)
    except ValueError as exc:
        return str(exc), "note msg-error", no_update, hidden
    ok, text, result = console.try_rule(runtime.api(), body, _tz(), lang)
    if not ok or result is None:
        return text, "note msg-error", no_update, hidden
    return text, "note msg-ok try-ok", _try_figure(result, lang), {"height": "180px"}


def _try_figure(result: dict, lang: str) -> dict:
    """Alarms raised per day of the window (a small bar chart)."""
    tz = ZoneInfo(_tz())
    end = datetime.fromisoformat(result["window"]["end"]).astimezone(tz).date()
    days = [end - timedelta(days=i) for i in range(console.TRY_DAYS - 1, -1, -1)]
    counts = dict.fromkeys(days, 0)
    for at in result["raised_at"]:
        d = datetime.fromisoformat(at).astimezone(tz).date()
        if d in counts:
            counts[d] += 1
    return {
        "data": [
            {
                "type": "bar",
                "x": [d.isoformat() for d in days],
                "y": list(counts.values()),
                "marker": {"color": "#d9822b"},
                "name": t("alarms", lang),
            }
        ],
        "layout": {
            "height": 180,  # drawn into a box that was hidden: never its default 450 px
            "autosize": True,
            "margin": {"l": 40, "r": 10, "t": 10, "b": 30},
            "yaxis": {
                "title": t("alarms", lang),
                "rangemode": "tozero",
                "dtick": 1,
                "gridcolor": "#263241",
            },
            "xaxis": {"type": "category"},
            "font": {"color": "#9fb0c3"},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


@callback(
    Output(RULES_MSG, "children"),
    Output(RULES_MSG, "className"),
    Output(PENDING, "data"),
    Output(CONFIRM, "style"),
    Output(f"{CONFIRM}-text", "children"),
    Input({"type": RULE_BTN, "op": "toggle", "id": ALL}, "n_clicks"),
    Input({"type": RULE_BTN, "op": "delete", "id": ALL}, "n_clicks"),
    Input(CONFIRM_YES, "n_clicks"),
    Input(CONFIRM_NO, "n_clicks"),
    State(PENDING, "data"),
    prevent_initial_call=True,
)
def rule_ops(toggles: list, deletes: list, _: int, __: int, pending: dict | None):
    """Enable / disable at once; delete only after the confirmation."""
    lang = current()
    api = runtime.api()
    trigger = _clicked_id()
    if trigger == CONFIRM_NO:
        return "", "note", None, _HIDDEN, ""
    if trigger == CONFIRM_YES:
        if not pending:
            return no_update, no_update, None, _HIDDEN, ""
        ok, text = console.delete_rule(api, pending, lang)
        return text, "note msg-ok" if ok else "note msg-error", None, _HIDDEN, ""
    if not isinstance(trigger, dict):
        return no_update, no_update, no_update, no_update, no_update
    try:
        rule = api.alarm_rule(int(trigger["id"]))
    except ApiError as exc:
        return console.refusal(exc, lang), "note msg-error", None, _HIDDEN, ""
    if trigger["op"] == "delete":
        shown = {"display": "flex"}
        return "", "note", rule, shown, t("confirm_delete", lang, name=rule["name"])
    ok, text = console.set_enabled(api, rule, not rule.get("enabled", True), lang)
    return text, "note msg-ok" if ok else "note msg-error", None, _HIDDEN, ""


@callback(Output(ids.dd(ids.DD_CODE, "eng"), "data"), Input(ids.ENG_METER, "value"))
def pick_meter(code: str | None):
    return code
