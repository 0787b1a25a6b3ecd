"""The products page's figures: the life-cycle stage waterfall and the hotspots.

The vendored plotly.js bundle holds scatter, bar and sankey only, so the waterfall is drawn
as floating bars (``base`` = the running total before each stage) and a total bar.
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.figures import theme
from dashboard.i18n import t

STAGES = ("raw_materials", "transport", "energy", "process", "packaging")
STAGE_COLOUR = {
    "raw_materials": "#fb923c",
    "transport": "#a78bfa",
    "energy": theme.CARRIER["electricity"],
    "process": "#f87171",
    "packaging": "#facc15",
}


def waterfall_rows(by_stage: dict[str, float]) -> list[tuple[str, float, float]]:
    """(stage, base, height) per stage in order, then ("total", 0, total)."""
    rows, running = [], 0.0
    for s in STAGES:
        v = float(by_stage.get(s) or 0.0)
        rows.append((s, running, v))
        running += v
    rows.append(("total", 0.0, running))
    return rows


def stage_waterfall(fp: dict | None, *, lang: str = "en") -> go.Figure:
    fig = go.Figure()
    fig.update_layout(**theme.layout(1.0, showlegend=False, bargap=0.35))
    if not fp:
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig
    unit = f"kgCO₂e/{fp['declared_unit']}"
    rows = waterfall_rows(fp["by_stage"])
    fig.add_trace(
        go.Bar(
            x=[t(f"stage_{s}", lang) for s, _, _ in rows],
            y=[h for _, _, h in rows],
            base=[b for _, b, _ in rows],
            marker={"color": [STAGE_COLOUR.get(s, theme.ACCENT) for s, _, _ in rows]},
            text=[f"{h:,.4f}" for _, _, h in rows],
            textposition="outside",
            hovertemplate="%{x}: %{y:,.6f} " + unit + "<extra></extra>",
        )
    )
    fig.update_yaxes(title={"text": unit}, rangemode="tozero")
    return fig


def hotspots(items: list[dict], value_key: str, label_key: str, unit: str) -> go.Figure:
    """Horizontal bars, largest on top (materials or suppliers by emissions)."""
    fig = go.Figure()
    fig.update_layout(**theme.layout(1.0, showlegend=False))
    top = sorted(items, key=lambda r: r[value_key] or 0.0)[-10:]
    if not top:
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig
    fig.add_trace(
        go.Bar(
            x=[r[value_key] for r in top],
            y=[r[label_key] or "—" for r in top],
            orientation="h",
            marker={"color": "#fb923c"},
            hovertemplate="%{y}: %{x:,.4f} " + unit + "<extra></extra>",
        )
    )
    fig.update_xaxes(title={"text": unit})
    return fig
