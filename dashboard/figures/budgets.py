"""The budget burn-up: cumulative actual, then the forecast, against the budget line."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.figures import theme
from dashboard.figures.manager import _empty
from dashboard.i18n import t


def burn_up(status: dict | None, *, lang: str = "en") -> go.Figure:
    fig = go.Figure()
    fig.update_layout(**theme.layout(1.0, hovermode="x unified"))
    if not status or not status.get("by_day"):
        return _empty(fig, t("bud_none", lang))
    cum, xa, ya = 0.0, [], []
    for d in status["by_day"]:
        if d["actual"]:
            cum += d["actual"]
            xa.append(d["date"])
            ya.append(cum)
    xf, yf = (xa[-1:], ya[-1:]) if xa else ([], [])
    for d in status["by_day"]:
        if d["forecast"]:
            cum += d["forecast"]
            xf.append(d["date"])
            yf.append(cum)
    unit = status.get("unit", "")
    fig.add_trace(
        go.Scatter(x=xa, y=ya, name=f"{t('bud_actual', lang)} {unit}", mode="lines+markers")
    )
    fig.add_trace(
        go.Scatter(
            x=xf,
            y=yf,
            name=f"{t('bud_projected', lang)} {unit}",
            mode="lines",
            line={"dash": "dot"},
        )
    )
    fig.add_hline(
        y=status["budget"],
        line={"color": theme.MUTED, "dash": "dash"},
        annotation_text=f"{t('bud_budget', lang)} {status['budget']:,.0f} {unit}",
    )
    return fig
