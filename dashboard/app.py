"""The Dash shell: the app factory, the top bar with navigation and the language switch,
and ``serve`` (a production WSGI server, waitress). Pages live in ``dashboard/pages``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import dash
import flask
from dash import Dash, clientside_callback, dcc, html
from dash.dependencies import Input, Output

from core.settings import Settings, get_settings
from dashboard import auth, ids, runtime
from dashboard.client import ApiClient
from dashboard.i18n import HTML_LANG, current, t

HERE = Path(__file__).resolve().parent
# plotly.js with only scatter, bar and sankey (vendor/build_plotly.sh): served in place of
# plotly.py's full 4.8 MB bundle, it is ready in a third of the time on a wall's browser.
PLOTLY_BUNDLE = HERE / "vendor" / "plotly-ecc.min.js"
# date-fns' zh-CN locale (vendor/fetch_date_fns_zh.sh): Dash's date pickers name months and
# weekdays from the locales on window.dateFns.locale, so a page in 中文 loads it and one in
# English loads none (date-fns' own English).
DATE_LOCALE_ZH = HERE / "vendor" / "date-fns-zh-CN.min.js"
DATE_LOCALE_PATH = "/_ecc/date-fns-zh-CN.min.js"
log = logging.getLogger(__name__)


INDEX = """<!DOCTYPE html>
<html>
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        <link rel="preload" as="script" href="{%plotly%}">
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


class _Dash(Dash):
    """Dash whose page says its language (``<html lang>``) and, in 中文, loads the date
    pickers' zh-CN locale before Dash's own scripts (the calendar reads it when it opens)."""

    def interpolate_index(self, **kwargs: str) -> str:
        lang = current()
        if lang == "zh":
            src = self.get_relative_path(DATE_LOCALE_PATH)
            kwargs["scripts"] = f'<script src="{src}"></script>\n' + kwargs.get("scripts", "")
        page = super().interpolate_index(**kwargs)
        return page.replace("<html>", f'<html lang="{HTML_LANG[lang]}">', 1)


def api_url(settings: Settings) -> str:
    if settings.api_url:
        return settings.api_url.rstrip("/")
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::", "") else settings.api_host
    return f"http://{host}:{settings.api_port}"


# The top bar's groups of links; each link names what a person must be allowed to open it,
# one of the names the API's ``/auth/me`` lists in ``may`` (the API's own role sets, so no
# role is named here), or None for every signed-in reader: the site tree shows its settings to
# all, read-only to those who may not configure (``auth.may_configure``; the API refuses their
# save). Whether a link is shown is ``auth.may_open``, the gate's own rule: signed out, only the
# public pages (the wall).
NAV: tuple[tuple[str, tuple[tuple[str, str, str | None], ...]], ...] = (
    ("nav_operate", (("/wall", "nav_wall", None), ("/engineer", "nav_engineer", None),
                     ("/alarm-kpis", "nav_alarm_kpis", None),
                     ("/forecasts", "nav_forecasts", None))),
    ("nav_manage", (("/manager", "nav_manager", None), ("/budgets", "nav_budgets", None),
                    ("/benchmarking", "nav_benchmarking", None),
                    ("/zero-carbon", "nav_zero_carbon", None),
                    ("/products", "nav_products", None), ("/suppliers", "nav_suppliers", None))),
    ("nav_admin", (("/sites", "nav_sites", None), ("/people", "nav_people", "estate"),
                   ("/audit", "nav_audit", "audit"))),
)  # fmt: skip


def nav_groups(
    person: Mapping | None,
    nav: Sequence[tuple[str, Sequence[tuple[str, str, str | None]]]] = NAV,
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The groups and their ``(href, label key)`` links shown to a person (as ``/auth/me``
    has them, None when nobody is signed in): the pages they may open (``auth.may_open``);
    a group none of whose links they may open is not shown at all."""
    shown = [
        (group, [(h, key) for h, key, need in links if auth.may_open(person, h, need)])
        for group, links in nav
    ]
    return [(group, links) for group, links in shown if links]


def _who(lang: str, person: dict | None) -> html.Div:
    """Who is signed in and a sign-out button (a form with its cross-site token)."""
    if person is None:
        return html.Div(
            html.A(t("sign_in", lang), href="/login", className="nav-link", id=ids.SIGN_IN),
            className="who",
        )
    signed_in = t("signed_in_as", lang, name=person["name"])
    return html.Div(
        [
            html.Span(signed_in, title=signed_in, id=ids.WHO),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf", value=auth.csrf_token()),
                    html.Button(
                        t("sign_out", lang), type="submit", className="btn", id=ids.SIGN_OUT
                    ),
                ],
                method="POST",
                action="/logout",
                className="signout",
            ),
        ],
        className="who",
    )


def _shell() -> html.Div:
    lang = current()
    person = runtime.person()
    groups = nav_groups(person)
    return html.Div(
        [
            html.Header(
                [
                    html.Span(t("app_title", lang), className="brand"),
                    html.Nav(
                        [
                            html.Div(
                                [
                                    html.Span(t(group, lang), className="nav-group-name"),
                                    *[
                                        dcc.Link(t(key, lang), href=href, className="nav-link")
                                        for href, key in links
                                    ],
                                ],
                                className="nav-group",
                            )
                            for group, links in groups
                        ]
                    ),
                    html.Button(t("language", lang), id=ids.LANG_TOGGLE, className="btn btn-lang"),
                    _who(lang, person),
                ],
                className="topbar",
            ),
            html.Main(dash.page_container, className="page"),
        ],
        className="shell",
    )


def create_app(settings: Settings | None = None, api: ApiClient | None = None) -> Dash:
    """Build the dashboard: one per process (Dash pages register globally)."""
    settings = settings or get_settings()
    api = api or ApiClient(api_url(settings), settings.dashboard_key)
    runtime.install(api, settings)
    app = _Dash(
        "dashboard",
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title="ECC",
        suppress_callback_exceptions=True,
        update_title=None,
    )
    app.layout = _shell
    # Fetch plotly.js with the first scripts (it runs only when the first graph mounts).
    plotly_js = app.get_relative_path("/_dash-component-suites/plotly/package_data/plotly.min.js")
    app.index_string = INDEX.replace("{%plotly%}", plotly_js)

    @app.server.before_request
    def _routes():  # noqa: ANN202  (a Flask hook)
        path = flask.request.path
        if path == "/":  # the home page is the wall
            query = flask.request.query_string.decode()
            return flask.redirect("/wall" + (f"?{query}" if query else ""))
        if path == plotly_js and PLOTLY_BUNDLE.exists():
            return flask.send_file(PLOTLY_BUNDLE, mimetype="text/javascript", max_age=86400)
        if path == app.get_relative_path(DATE_LOCALE_PATH):
            return flask.send_file(DATE_LOCALE_ZH, mimetype="text/javascript", max_age=86400)
        return None

    auth.install(app.server, settings, api)

    clientside_callback(
        "function(n) { if (n) { window.eccToggleLanguage(); } "
        "return window.dash_clientside.no_update; }",
        Output(ids.LANG_TOGGLE, "className"),
        Input(ids.LANG_TOGGLE, "n_clicks"),
        prevent_initial_call=True,
    )
    return app


def serve(settings: Settings, host: str, port: int, threads: int = 8) -> None:
    """Run the dashboard with waitress (threads serve callbacks concurrently)."""
    from waitress import serve as waitress_serve

    app = create_app(settings)
    log.info("dashboard on http://%s:%s/wall reading %s", host, port, api_url(settings))
    waitress_serve(app.server, host=host, port=port, threads=threads, ident="ecc-dashboard")
