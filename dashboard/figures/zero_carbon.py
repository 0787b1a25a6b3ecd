"""The net-emissions waterfall: gross → own reductions → residual → offsets → net (tCO₂).

Drawn with bars (the wall's plotly bundle holds scatter, bar and sankey only): totals stand
on zero, steps float on an invisible base."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.figures import theme
from dashboard.i18n import fmt_num


def net_waterfall(steps: list[tuple[str, float, str]], *, scale: float = 1.0) -> go.Figure:
    labels, base, height, colours, text = [], [], [], [], []
    level = 0.0
    for label, value, kind in steps:
        labels.append(label)
        if kind == "total":
            level = value
            base.append(0.0)
            height.append(value)
            colours.append(theme.ACCENT)
        else:
            new = level + value
            base.append(min(level, new))
            height.append(abs(value))
            colours.append(theme.GOOD if value <= 0 else theme.BAD)
            level = new
        text.append(fmt_num(value, "tCO₂"))
    fig = go.Figure(
        [
            go.Bar(
                x=labels,
                y=base,
                marker={"color": "rgba(0,0,0,0)", "line": {"width": 0}},
                hoverinfo="skip",
            ),
            go.Bar(
                x=labels,
                y=height,
                marker={"color": colours, "line": {"width": 0}},
                text=text,
                textposition="outside",
                hovertemplate="%{x}: %{text}<extra></extra>",
            ),
        ]
    )
    fig.update_layout(**theme.layout(scale, barmode="stack", showlegend=False))
    fig.update_yaxes(title_text="tCO₂")
    return fig
