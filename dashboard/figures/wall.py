"""The wall screen's figures: the energy-flow Sankey and the 24-hour load trend."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from dashboard.data import Flows
from dashboard.figures import theme
from dashboard.i18n import fmt_num, t

_X = {0: 0.001, 1: 0.30, 2: 0.62, 3: 0.999}


def _node_kind(node: str) -> str:
    return node.split(":", 1)[0]


def sankey(
    flows: Flows, scale: float = 1.0, *, lang: str = "en", digits: int | None = None
) -> dict:
    """Sources → distribution → workshops; losses drawn as their own red flows.

    Returns the figure as a plain Plotly dict: the wall rebuilds it every refresh, and
    plain dicts skip ``go.Figure`` validation (tens of milliseconds of the 300 ms budget).
    """
    links = flows.links
    pad = round(8 * scale)
    layout = theme.layout(scale, margin={"l": pad, "r": pad, "t": pad, "b": pad})
    if links.empty:
        layout.update(
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": t("no_reading", lang),
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "font": {"size": round(18 * scale), "color": theme.MUTED},
                }
            ],
        )
        return {"data": [], "layout": layout}
    inflow: dict[str, float] = defaultdict(float)
    outflow: dict[str, float] = defaultdict(float)
    for s, tg, v in links[["source", "target", "value"]].itertuples(index=False):
        outflow[s] += v
        inflow[tg] += v
    size = {n: max(inflow[n], outflow[n]) for n in flows.labels}
    order, x, y = _layout(flows, size)
    index = {n: i for i, n in enumerate(order)}

    def fmt(v: float) -> str:
        return fmt_num(v, flows.unit, digits)

    trace = {
        "type": "sankey",
        "arrangement": "fixed",
        "valueformat": ",.3~f" if flows.unit == "tce" else ",.0f",
        "valuesuffix": " " + flows.unit,
        "node": {
            "label": [f"{flows.labels[n]}  {fmt(size[n])}" for n in order],
            "color": [
                theme.NODE.get(n, theme.NODE.get(_node_kind(n), theme.NODE["m"])) for n in order
            ],
            "pad": round(14 * scale),
            "thickness": round(18 * scale),
            "line": {"width": 0},
            "x": x,
            "y": y,
            "hovertemplate": "%{label}<extra></extra>",
        },
        "link": {
            "source": [index[s] for s in links["source"]],
            "target": [index[s] for s in links["target"]],
            "value": links["value"].tolist(),
            "color": [
                theme.rgba(theme.LOSS, 0.55)
                if k == "loss"
                else theme.rgba(theme.CARRIER.get(c, theme.ACCENT), 0.42)
                for c, k in zip(links["carrier"], links["kind"], strict=True)
            ],
            "customdata": [fmt(v) for v in links["value"]],
            "hovertemplate": "%{source.label} → %{target.label}<br>%{customdata}<extra></extra>",
        },
        "textfont": {
            "size": round(15 * scale),
            "color": theme.TEXT,
            "family": "Inter, 'Noto Sans CJK SC', sans-serif",
        },
    }
    return {"data": [trace], "layout": layout}


_CARRIER_ORDER = (
    "electricity",
    "pv_generation",
    "wind_generation",
    "natural_gas",
    "steam",
    "heat",
    "hot_water",
)


def _layout(flows: Flows, size: dict[str, float]) -> tuple[list[str], list[float], list[float]]:
    """Node order and positions: fixed columns; sources in carrier order; every later column
    ordered by the mean height of what feeds it (fewer crossings); losses and export last."""
    links = flows.links
    carrier = {s: c for s, c in zip(links["source"], links["carrier"], strict=True)}
    by_col: dict[int, list[str]] = defaultdict(list)
    for n in flows.labels:
        by_col[flows.columns.get(n, 3)].append(n)
    y: dict[str, float] = {}
    order: list[str] = []
    for col in sorted(by_col):
        nodes = by_col[col]
        if col == 0:
            nodes.sort(
                key=lambda n: (
                    _CARRIER_ORDER.index(carrier[n]) if carrier.get(n) in _CARRIER_ORDER else 99,
                    -size[n],
                )
            )
        else:

            def centre(n: str) -> float:
                inc = links[links["target"] == n]
                w = [(v, y[s]) for s, v in zip(inc["source"], inc["value"], strict=True) if s in y]
                total = sum(v for v, _ in w)
                return sum(v * h for v, h in w) / total if total else 0.5

            nodes.sort(key=lambda n: (n in ("losses", "export"), centre(n)))
        total = sum(size[n] for n in nodes) or 1.0
        gap = 0.04 if len(nodes) > 1 else 0.0
        usable = 0.92 - gap * (len(nodes) - 1)
        pos = 0.03
        for n in nodes:
            h = usable * size[n] / total
            y[n] = min(0.95, max(0.04, pos + h / 2))
            pos += h + gap
        order.extend(nodes)
    return order, [_X[flows.columns.get(n, 3)] for n in order], [y[n] for n in order]


def _local(ts: pd.Series, tz: str) -> list[str]:
    """Plant wall-clock times as ISO strings (what Plotly puts on a date axis)."""
    return ts.dt.tz_convert(tz).dt.strftime("%Y-%m-%dT%H:%M:%S").tolist()


def load_trend(
    load: pd.DataFrame,
    forecast: pd.DataFrame | None,
    contracted_kw: float | None,
    tz: str,
    scale: float = 1.0,
    *,
    lang: str = "en",
) -> dict:
    """Site load (kW) of the last 24 h, PV under it, the forecast band and the contract
    (a plain Plotly dict, like :func:`sankey`)."""
    layout = theme.layout(scale, showlegend=True, hovermode="x unified")
    layout["xaxis"] = {**layout["xaxis"], "tickformat": "%H:%M", "type": "date"}
    layout["yaxis"] = {
        **layout["yaxis"],
        "rangemode": "tozero",
        "tickformat": ",.0f",
        "title": {"text": "kW", "font": {"size": round(13 * scale)}},
    }
    data: list[dict] = []
    if forecast is not None and not forecast.empty:
        fx = _local(forecast["ts"], tz)
        if forecast["upper"].notna().any() and forecast["lower"].notna().any():
            data.append(
                {
                    "type": "scatter",
                    "x": fx,
                    "y": forecast["upper"].tolist(),
                    "mode": "lines",
                    "line": {"width": 0},
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )
            data.append(
                {
                    "type": "scatter",
                    "x": fx,
                    "y": forecast["lower"].tolist(),
                    "mode": "lines",
                    "line": {"width": 0},
                    "fill": "tonexty",
                    "fillcolor": theme.rgba(theme.ACCENT, 0.18),
                    "name": t("forecast_band", lang),
                    "hoverinfo": "skip",
                }
            )
        data.append(
            {
                "type": "scatter",
                "x": fx,
                "y": forecast["value"].tolist(),
                "mode": "lines",
                "name": t("forecast", lang),
                "line": {"color": theme.ACCENT, "dash": "dot", "width": max(1, round(2 * scale))},
                "hovertemplate": "%{y:,.0f} kW",
            }
        )
    if not load.empty:
        x = _local(load["ts"], tz)
        if (load["gen_kw"] > 0).any():
            data.append(
                {
                    "type": "scatter",
                    "x": x,
                    "y": load["gen_kw"].tolist(),
                    "mode": "lines",
                    "name": t("pv", lang),
                    "fill": "tozeroy",
                    "fillcolor": theme.rgba("#facc15", 0.25),
                    "line": {"color": "#facc15", "width": max(1, round(scale))},
                    "hovertemplate": "%{y:,.0f} kW",
                }
            )
        data.append(
            {
                "type": "scatter",
                "x": x,
                "y": load["load_kw"].tolist(),
                "mode": "lines",
                "name": t("load", lang),
                "line": {"color": "#f8fafc", "width": max(2, round(3 * scale))},
                "hovertemplate": "%{y:,.0f} kW",
            }
        )
    if contracted_kw:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": contracted_kw,
                "y1": contracted_kw,
                "line": {"color": theme.BAD, "dash": "dash", "width": max(1, round(2 * scale))},
            }
        ]
        layout["annotations"] = [
            {
                "text": f"{t('contracted', lang)} {contracted_kw:,.0f} kW",
                "xref": "paper",
                "x": 1,
                "xanchor": "right",
                "yref": "y",
                "y": contracted_kw,
                "yanchor": "bottom",
                "showarrow": False,
                "bgcolor": theme.rgba(theme.BG, 0.8),
                "font": {"color": theme.BAD, "size": round(13 * scale)},
            }
        ]
    return {"data": data, "layout": layout}
