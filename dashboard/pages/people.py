"""``/people``: admins list, create, disable and enable people (through the API)."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from dash.development.base_component import Component

from dashboard import console, ids, runtime
from dashboard.client import ApiError
from dashboard.i18n import current, t

dash.register_page(__name__, path="/people", title="ECC · people", name="People")

ROLES = ("viewer", "engineer", "manager", "admin", "auditor", "ingest")


def _table(lang: str, people: list[dict] | None = None) -> Component:
    try:
        people = runtime.api().users() if people is None else people
    except ApiError as exc:
        return html.Div(console.refusal(exc, lang), className="note msg-error")
    rows = []
    for p in people:
        state = t("people_enabled" if p["enabled"] else "people_disabled", lang)
        button = html.Button(
            t("people_disable" if p["enabled"] else "people_enable", lang),
            id={"type": ids.PEOPLE_TOGGLE, "login": p["login"]},
            className="btn",
        )
        rows.append(
            html.Tr(
                [
                    html.Td(p["login"], className="code"),
                    html.Td(p["name"]),
                    html.Td(", ".join(p["roles"])),
                    html.Td(p["site"] or "—"),
                    html.Td(state),
                    html.Td(button),
                ]
            )
        )
    return html.Table(html.Tbody(rows), className="table")


def layout(**_: str) -> html.Div:
    """The people and the form to add one; to whoever the API refuses the list (not an admin
    of the whole estate), only why, in their language."""
    lang = current()
    try:
        people = runtime.api().users()
    except ApiError as exc:
        refused = html.Div(console.refusal(exc, lang), className="note msg-error")
        return html.Div([html.H1(t("people_title", lang)), html.Div(refused, className="card")])
    field = [
        (ids.PEOPLE_LOGIN, "login_name", "text"),
        (ids.PEOPLE_NAME, "people_name", "text"),
        (ids.PEOPLE_PASSWORD, "password", "password"),
        (ids.PEOPLE_SITE, "people_site", "text"),
    ]
    return html.Div(
        [
            html.H1(t("people_title", lang)),
            html.Div(_table(lang, people), id=ids.PEOPLE_TABLE, className="card"),
            html.H2(t("people_create", lang)),
            html.Div(
                [
                    *[
                        html.Label([t(label, lang), dcc.Input(id=i, type=kind)])
                        for i, label, kind in field
                    ],
                    html.Label(
                        [
                            t("people_roles", lang),
                            dcc.Dropdown(
                                id=ids.PEOPLE_ROLES,
                                options=[{"label": r, "value": r} for r in ROLES],
                                multi=True,
                            ),
                        ]
                    ),
                    html.Button(t("people_create", lang), id=ids.PEOPLE_CREATE, className="btn"),
                    html.Div(id=ids.PEOPLE_MSG, className="note"),
                ],
                className="card form",
            ),
        ]
    )


@callback(
    Output(ids.PEOPLE_MSG, "children"),
    Output(ids.PEOPLE_TABLE, "children"),
    Input(ids.PEOPLE_CREATE, "n_clicks"),
    Input({"type": ids.PEOPLE_TOGGLE, "login": ALL}, "n_clicks"),
    State(ids.PEOPLE_LOGIN, "value"),
    State(ids.PEOPLE_NAME, "value"),
    State(ids.PEOPLE_PASSWORD, "value"),
    State(ids.PEOPLE_ROLES, "value"),
    State(ids.PEOPLE_SITE, "value"),
    prevent_initial_call=True,
)
def change(_: int, toggles: list, login, name, password, roles, site):  # noqa: ANN001
    lang = current()
    api = runtime.api()
    try:
        if isinstance(ctx.triggered_id, dict):
            if not any(toggles):
                return dash.no_update, dash.no_update
            who = ctx.triggered_id["login"]
            enabled = next(p["enabled"] for p in api.users() if p["login"] == who)
            api.set_user_enabled(who, not enabled)
            message = f"{who}: {t('people_disabled' if enabled else 'people_enabled', lang)}"
        else:
            body = {
                "login": login or "",
                "name": name or None,
                "password": password or "",
                "roles": roles or [],
                "site": site or None,
            }
            api.create_user(body)
            message = f"{login}: ✓"
    except ApiError as exc:
        return console.refusal(exc, lang), dash.no_update
    return message, _table(lang)
