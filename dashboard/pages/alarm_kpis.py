"""``/alarm-kpis``: how the alarm system itself performs (ISA-18.2 / EEMUA 191) — alarms per
operator per 10 minutes (average and peak), flood periods, standing, stale and chattering
alarms, the top 10 most frequent alarms and the priority mix, from ``/alarms/metrics``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import console, runtime
from dashboard.components import page_header, site_options, site_selector
from dashboard.i18n import DASH, current, fmt_num, t

dash.register_page(__name__, path="/alarm-kpis", title="ECC · alarm KPIs", name="Alarm KPIs")

SITE = "kpi-site"
RANGE = "kpi-range"
OPERATORS = "kpi-operators"
BODY = "kpi-body"
RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def layout(site: str | None = None, **_: str) -> html.Div:
    """``site`` (the query string): the site whose alarms count; none: every site the
    signed-in person sees (the API applies their rights either way)."""
    lang = current()
    options = site_options(lang)
    known = {o["value"] for o in options}
    return html.Div(
        [
            *page_header(
                t("kpi_title", lang),
                site_selector(
                    SITE,
                    site if site in known else None,
                    lang,
                    placeholder="kpi_all_sites",
                    options=options,
                ),
                html.Span(t("kpi_range", lang), className="label"),
                dcc.RadioItems(
                    id=RANGE,
                    value="24h",
                    inline=True,
                    className="radio",
                    options=[{"label": t(f"kpi_{k}", lang), "value": k} for k in RANGES],
                ),
                html.Span(t("kpi_operators", lang), className="label"),
                dcc.Input(
                    id=OPERATORS,
                    type="number",
                    min=1,
                    step=1,
                    value=1,
                    style={"width": "120px"},
                ),
            ),
            html.Div(id=BODY),
        ]
    )


def _card(name: str, value: str, cls: str = "", note: str = "") -> html.Div:
    return html.Div(
        [
            html.Div(value, className="kpi-val"),
            html.Div(name, className="kpi-name"),
            html.Div(note, className="note") if note else None,
        ],
        className=f"kpi-card {cls}".strip(),
    )


def _table(rows: list[dict], cols: list[tuple[str, str, bool]], lang: str) -> html.Table | str:
    if not rows:
        return t("kpi_none", lang)
    return html.Table(
        [
            html.Thead(
                html.Tr([html.Th(head, className="num" if n else "") for _, head, n in cols])
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(
                                DASH if r.get(key) is None else str(r[key]),
                                className="num" if n else "",
                            )
                            for key, _, n in cols
                        ]
                    )
                    for r in rows
                ]
            ),
        ],
        className="data",
    )


def _scope(site: str | None, options: list[dict], lang: str) -> str:
    """Whose alarms the figures count, in words."""
    if not site:
        return t("kpi_scope_all", lang)
    name = next((o["label"] for o in options if o["value"] == site), site)
    return t("kpi_scope", lang).format(site=name)


@callback(
    Output(BODY, "children"),
    Input(SITE, "value"),
    Input(RANGE, "value"),
    Input(OPERATORS, "value"),
    State(SITE, "options"),
)
def kpis(site: str | None, span: str, operators: int | None, options: list[dict] | None):
    lang = current()
    end = datetime.now(UTC)
    start = end - RANGES.get(span, RANGES["24h"])
    m, error = console.alarm_kpis(runtime.api(), start, end, max(1, int(operators or 1)), site)
    if m is None:
        return html.P(error or t("not_available", lang), className="note msg-error")
    avg = m["alarms_per_operator_per_10min"]
    peak = m["peak_alarms_per_operator_per_10min"]
    cards = html.Div(
        [
            _card(
                t("kpi_rate_avg", lang),
                fmt_num(avg, "", 2),
                "good" if avg <= 1 else "bad",
                t("kpi_target", lang),
            ),
            _card(t("kpi_rate_peak", lang), fmt_num(peak, "", 1), "bad" if peak > 10 else ""),
            _card(t("kpi_flood", lang), fmt_num(m["flood_periods_pct"], "%", 1)),
            _card(t("kpi_activations", lang), fmt_num(m["activations"], "", 0)),
            _card(t("kpi_standing", lang), str(m["standing_alarms"])),
            _card(t("kpi_stale", lang), str(m["stale_alarms"]), "bad" if m["stale_alarms"] else ""),
            _card(
                t("kpi_chattering", lang),
                str(m["chattering_alarms"]),
                "bad" if m["chattering_alarms"] else "",
            ),
            _card(
                t("kpi_by_priority", lang),
                " · ".join(
                    f"{console.word('ap', p, lang)} {fmt_num(v, '%', 0)}"
                    for p, v in m["priority_distribution_pct"].items()
                )
                or DASH,
            ),
        ],
        className="kpi-grid",
        id="kpi-cards",
    )
    top = [
        {
            "alarm": f"{r['rule_name']} · {r['meter'] or ''} · "
            f"{console.word('cond', r['condition'], lang)}",
            "n": r["activations"],
            "share": fmt_num(r["share_pct"], "%", 1),
        }
        for r in m["top_10"]
    ]
    chatter = [
        {
            "alarm": f"{r['rule_name']} · {r['meter'] or ''} · "
            f"{console.word('cond', r['condition'], lang)}",
            "n": r["max_per_minute"],
        }
        for r in m["chattering"]
    ]
    return [
        html.P(_scope(site, options or [], lang), className="note", id="kpi-scope"),
        cards,
        html.Section(
            [
                html.H2(t("kpi_top10", lang)),
                html.Div(
                    _table(
                        top,
                        [
                            ("alarm", t("col_alarm", lang), False),
                            ("n", t("kpi_count", lang), True),
                            ("share", t("kpi_share", lang), True),
                        ],
                        lang,
                    ),
                    id="kpi-top10",
                ),
            ],
            className="card",
        ),
        html.Section(
            [
                html.H2(t("kpi_chattering", lang)),
                _table(
                    chatter,
                    [
                        ("alarm", t("col_alarm", lang), False),
                        ("n", t("kpi_chatter_n", lang), True),
                    ],
                    lang,
                ),
            ],
            className="card",
        ),
    ]
