"""A meter's series: the rolled-up buckets with the raw readings over them."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import theme
from dashboard.i18n import t

BUCKET_H = {"1m": 1 / 60, "15m": 0.25, "1h": 1.0, "1d": 24.0}  # a local day may differ (DST)


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
    """Energy meters: bars per bucket (the quantity of the interval, ``kWh per 15m``, with the
    mean power in kW on hover); raw readings' interval quantities as dots. Gauges: average line
    with the min–max band; raw values as dots. A bucket not complete (``complete`` false: the
    one in progress) is drawn hatched / dotted and named so, never as a cliff."""
    fig = go.Figure()
    fig.update_layout(
        **theme.layout(1.0, hovermode="x unified", showlegend=True, uirevision=uirevision)
    )
    gauge = kind == "gauge"
    per = "" if gauge or resolution == "raw" else f" / {resolution}"
    fig.update_yaxes(title={"text": f"{unit}{per}"}, tickformat=",~r")
    fig.update_xaxes(rangeslider={"visible": False})
    if lang == "zh":  # plotly's month names are English: numeric dates in Chinese
        fig.update_xaxes(tickformat="%H:%M<br>%-m月%-d日", hoverformat="%Y年%-m月%-d日 %H:%M")
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
        done = (
            rollup["complete"].astype(bool)
            if "complete" in rollup.columns
            else pd.Series(True, index=rollup.index)
        )
        hours = BUCKET_H.get(resolution)
        hover = f"%{{y:,.3~f}} {unit}"
        custom = None
        if not gauge and unit == "kWh" and hours:
            custom = rollup["value"] / hours  # mean power of the bucket
            hover += f" · {t('mean_power', lang)} %{{customdata:,.1f}} kW"
        partial = t("in_progress", lang)
        if gauge or resolution in ("raw", "1m"):
            fig.add_trace(
                go.Scatter(
                    x=x[done],
                    y=rollup["value"][done],
                    mode="lines",
                    name=label,
                    line={"color": theme.ACCENT, "width": 2},
                    customdata=None if custom is None else custom[done],
                    hovertemplate=hover,
                )
            )
            if not done.all():  # the last complete point joined to the partial one, dotted
                tail = rollup.index[~done].min()
                keep = rollup.index >= (tail - 1 if tail > rollup.index.min() else tail)
                fig.add_trace(
                    go.Scatter(
                        x=x[keep],
                        y=rollup["value"][keep],
                        mode="lines+markers",
                        name=partial,
                        line={"color": theme.ACCENT, "width": 2, "dash": "dot"},
                        marker={"symbol": "circle-open", "size": 8},
                        customdata=None if custom is None else custom[keep],
                        hovertemplate=hover,
                    )
                )
        else:
            for mask, name, marker in (
                (done, label, {"color": theme.ACCENT}),
                (
                    ~done,
                    partial,
                    {
                        "color": theme.rgba(theme.ACCENT, 0.25),
                        "line": {"color": theme.ACCENT, "width": 1},
                        "pattern": {"shape": "/", "fgcolor": theme.ACCENT, "solidity": 0.3},
                    },
                ),
            ):
                if not mask.any():
                    continue
                fig.add_trace(
                    go.Bar(
                        x=x[mask],
                        y=rollup["value"][mask],
                        name=name,
                        marker=marker,
                        customdata=None if custom is None else custom[mask],
                        hovertemplate=hover,
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
