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
