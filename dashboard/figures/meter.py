"""A meter's series: the rolled-up buckets with the raw readings over them."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import theme
from dashboard.i18n import t


def meter_series(
    rollup: pd.DataFrame | None,
    raw: pd.DataFrame | None,
    unit: str,
    kind: str,
    resolution: str,
    tz: str,
    *,
    lang: str = "en",
    uirevision: str = "meter",
) -> go.Figure:
    """Energy meters: bars per bucket (the quantity of the interval); raw readings' interval
    quantities as dots. Gauges: average line with the min–max band; raw values as dots."""
    fig = go.Figure()
    fig.update_layout(
        **theme.layout(1.0, hovermode="x unified", showlegend=True, uirevision=uirevision)
    )
    fig.update_yaxes(title={"text": unit}, tickformat=",~r")
    fig.update_xaxes(rangeslider={"visible": False})
    gauge = kind == "gauge"
    label = f"{t('rollup', lang)} ({t('raw', lang) if resolution == 'raw' else resolution})"
    if rollup is not None and not rollup.empty:
        x = rollup["ts"].dt.tz_convert(tz)
        if gauge and {"min", "max"} <= set(rollup.columns):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=rollup["max"],
                    mode="lines",
                    line={"width": 0},
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=rollup["min"],
                    mode="lines",
                    line={"width": 0},
                    fill="tonexty",
                    fillcolor=theme.rgba(theme.ACCENT, 0.2),
                    name="min–max",
                    hoverinfo="skip",
                )
            )
        if gauge or resolution in ("raw", "1m"):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=rollup["value"],
                    mode="lines",
                    name=label,
                    line={"color": theme.ACCENT, "width": 2},
                    hovertemplate=f"%{{y:,.3~f}} {unit}",
                )
            )
        else:
            fig.add_trace(
                go.Bar(
                    x=x,
                    y=rollup["value"],
                    name=label,
                    marker={"color": theme.ACCENT},
                    hovertemplate=f"%{{y:,.3~f}} {unit}",
                )
            )
    if raw is not None and not raw.empty:
        y = raw["value"] if gauge or "energy" not in raw.columns else raw["energy"]
        fig.add_trace(
            go.Scatter(
                x=raw["ts"].dt.tz_convert(tz),
                y=y,
                mode="markers",
                name=t("raw", lang),
                yaxis="y2" if not gauge else "y",
                marker={"color": theme.WARN, "size": 4},
                hovertemplate=f"%{{y:,.3~f}} {unit}",
            )
        )
        if not gauge:
            fig.update_layout(
                yaxis2={
                    "overlaying": "y",
                    "side": "right",
                    "showgrid": False,
                    "title": {"text": f"{unit} ({t('raw', lang)})"},
                    "tickformat": ",~r",
                }
            )
    return fig
