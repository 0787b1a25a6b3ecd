"""The energy-balance Sankey: inputs → site → end uses, losses and the unmetered remainder."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.figures import theme


def balance_sankey(links: dict, *, scale: float = 1.0) -> go.Figure:
    if not links or not links.get("value"):
        return theme.empty()
    fig = go.Figure(
        go.Sankey(
            valueformat=",.0f",
            valuesuffix=f" {links['unit']}",
            node={"label": links["labels"], "pad": 18, "thickness": 14, "color": theme.ACCENT},
            link={"source": links["source"], "target": links["target"], "value": links["value"]},
        )
    )
    fig.update_layout(**theme.layout(scale))
    return fig


def evidence_figure(
    ts: list, kw: list[float], title: str, reference_kw: float | None = None, *, scale: float = 1.0
) -> go.Figure:
    """The data window a recommendation used: load (kW) over time, with the reference level it
    names (the base load, the 15-minute maximum) as a dashed line."""
    if not ts:
        return theme.empty()
    fig = go.Figure(
        go.Scatter(x=ts, y=kw, mode="lines", name="kW", line={"color": theme.ACCENT, "width": 1.5})
    )
    if reference_kw is not None:
        fig.add_trace(
            go.Scatter(
                x=[ts[0], ts[-1]],
                y=[reference_kw, reference_kw],
                mode="lines",
                name=f"{reference_kw:,.0f} kW",
                line={"color": theme.GOOD, "dash": "dash"},
            )
        )
    fig.update_layout(**theme.layout(scale, title={"text": title, "x": 0}))
    fig.update_yaxes(title_text="kW")
    return fig


def trend_figure(trend: dict, target_label: str, *, scale: float = 1.0) -> go.Figure:
    """Daily unit consumption of a process with its best-10 %-days target (dashed)."""
    pts = [p for p in trend.get("points", []) if p["unit_consumption_kgce"] is not None]
    if not pts:
        return theme.empty()
    x = [p["period"] for p in pts]
    unit = trend["unit_consumption_unit"]
    fig = go.Figure(
        go.Bar(
            x=x,
            y=[p["unit_consumption_kgce"] for p in pts],
            name=unit,
            marker={"color": theme.ACCENT},
        )
    )
    target = trend.get("target", {}).get("target_kgce")
    if target is not None:
        fig.add_trace(
            go.Scatter(
                x=[x[0], x[-1]],
                y=[target, target],
                mode="lines",
                name=f"{target_label} {target:,.1f} {unit}",
                line={"color": theme.GOOD, "dash": "dash"},
            )
        )
    fig.update_layout(**theme.layout(scale))
    fig.update_yaxes(title_text=unit)
    return fig
