"""The manager's figures: energy and carbon per bucket, scopes, top consumers, trends."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures import theme
from dashboard.i18n import t


def _empty(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(
        text=text,
        showarrow=False,
        font={"color": theme.MUTED, "size": 16},
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


PERIOD_MS = {"1h": 3_600_000, "1d": 86_400_000}
# Date labels in the reader's language (d3 time formats; plotly's month names are English).
DAY_FORMAT = {"en": "%b %-d", "zh": "%-m月%-d日"}
HOVER_FORMAT = {
    "1h": {"en": "%b %-d %H:%M", "zh": "%-m月%-d日 %H:%M"},
    "1d": {"en": "%a %b %-d, %Y", "zh": "%Y年%-m月%-d日"},
}


def energy_carbon(df: pd.DataFrame, tz: str, bucket: str, *, lang: str = "en") -> go.Figure:
    """Electricity (kWh) bars, total energy (tce) and CO₂ (t) lines on a second axis.

    Each bar covers its own local hour or day (``xperiod``: drawn from its start to its end,
    never straddling midnight); the times are the site's local wall-clock times."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.update_layout(**theme.layout(1.0, hovermode="x unified", barmode="overlay"))
    if df is None or df.empty:
        return _empty(fig, t("no_reading", lang))
    x = df["ts"] if bucket == "month" else df["ts"].dt.tz_convert(tz).dt.tz_localize(None)
    period: dict = {}
    if bucket in PERIOD_MS:
        period = {
            "xperiod": PERIOD_MS[bucket],
            "xperiod0": "2000-01-01",
            "xperiodalignment": "middle",
            "xhoverformat": HOVER_FORMAT[bucket][lang],
        }
    # an explicit width: a trace of one bar (the day in progress) is as wide as the others
    width = {"width": PERIOD_MS[bucket] * 0.8} if bucket in PERIOD_MS else {}
    done = (
        df["complete"].astype(bool) if "complete" in df.columns else pd.Series(True, index=df.index)
    )
    colour = theme.CARRIER["electricity"]
    for mask, name, marker in (
        (done, f"{t('electricity_kwh', lang)} kWh", {"color": colour}),
        (
            ~done,
            f"{t('electricity_kwh', lang)} kWh · {t('in_progress', lang)}",
            {
                "color": theme.rgba(colour, 0.25),
                "line": {"color": colour, "width": 1},
                "pattern": {"shape": "/", "fgcolor": colour, "solidity": 0.3},
            },
        ),
    ):
        if mask.any():
            fig.add_trace(
                go.Bar(
                    x=x[mask],
                    **period,
                    **width,
                    y=df["electricity_kwh"][mask],
                    name=name,
                    marker=marker,
                    hovertemplate="%{y:,.0f} kWh",
                ),
                secondary_y=False,
            )
    if df["energy_tce"].notna().any():
        # the last complete point joined to the one in progress by a dotted line, no cliff
        first = next((i for i, ok in enumerate(done) if not ok), len(df))
        pos = pd.Series(range(len(df)), index=df.index)
        solid, dotted = pos < first, (pos >= first - 1) & (first < len(df))
        for col, name, unit, colour in (
            ("energy_tce", "energy_tce", "tce", theme.WARN),
            ("co2_t", "co2_t", "tCO₂", theme.BAD),
        ):
            fig.add_trace(
                go.Scatter(
                    x=x[solid],
                    **period,
                    y=df[col][solid],
                    name=f"{t(name, lang)} {unit}",
                    legendgroup=col,
                    mode="lines+markers",
                    line={"color": colour, "width": 2},
                    hovertemplate=f"%{{y:,.2f}} {unit}",
                ),
                secondary_y=True,
            )
            if dotted.any():
                fig.add_trace(
                    go.Scatter(
                        x=x[dotted],
                        **period,
                        y=df[col][dotted],
                        name=f"{t(name, lang)} {unit} · {t('in_progress', lang)}",
                        legendgroup=col,
                        showlegend=False,
                        mode="lines+markers",
                        line={"color": colour, "width": 2, "dash": "dot"},
                        marker={"symbol": "circle-open", "size": 8},
                        hovertemplate=f"%{{y:,.2f}} {unit} ({t('in_progress', lang)})",
                    ),
                    secondary_y=True,
                )
    fig.update_yaxes(title_text="kWh", tickformat=",.0f", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(
        title_text="tce · tCO₂",
        tickformat=",.1f",
        secondary_y=True,
        showgrid=False,
        rangemode="tozero",
        zerolinecolor=theme.GRID,
    )
    if bucket == "1h":
        fig.update_xaxes(tickformat="%H:%M")
    elif bucket == "1d":  # one label per local day, under its bar
        fig.update_xaxes(
            tickformat=DAY_FORMAT[lang],
            dtick=PERIOD_MS["1d"],
            tick0="2000-01-01",
            ticklabelmode="period",
        )
    elif bucket == "month":
        fig.update_xaxes(type="category")
    return fig


def scopes(df: pd.DataFrame | None, *, lang: str = "en") -> go.Figure:
    fig = go.Figure()
    fig.update_layout(**theme.layout(1.0, showlegend=False))
    if df is None or df.empty:
        return _empty(fig, t("carbon_na", lang))
    colours = [theme.WARN, theme.ACCENT, "#a78bfa"]
    fig.add_trace(
        go.Bar(
            x=df["scope"],
            y=df["tco2"],
            marker={"color": colours[: len(df)]},
            text=[f"{v:,.2f}" for v in df["tco2"]],
            textposition="auto",
            hovertemplate="%{x}: %{y:,.3f} tCO₂e<extra></extra>",
        )
    )
    fig.update_yaxes(title_text="tCO₂e", tickformat=",.1f")
    return fig


def top_consumers(df: pd.DataFrame | None, *, lang: str = "en") -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        **theme.layout(1.0, showlegend=False, margin={"l": 180, "r": 110, "t": 20, "b": 36})
    )
    if df is None or df.empty:
        return _empty(fig, t("no_reading", lang))
    d = df.iloc[::-1]
    fig.add_trace(
        go.Bar(
            x=d["kwh"],
            y=d["name"],
            orientation="h",
            marker={"color": theme.CARRIER["electricity"]},
            text=[f"{v:,.0f} kWh" for v in d["kwh"]],
            textposition="outside",
            cliponaxis=False,
            customdata=d["meter"],
            hovertemplate="%{customdata}: %{x:,.0f} kWh<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="kWh", tickformat=",.0f")
    return fig


def intensity_trend(df: pd.DataFrame | None, *, lang: str = "en") -> go.Figure:
    """Monthly carbon and energy intensity (per unit of the main product, else per 10⁴ CNY of
    output) and the renewable / green-power shares (right axis): intensities, never totals."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.update_layout(**theme.layout(1.0, hovermode="x unified"))
    if df is None or df.empty:
        return _empty(fig, t("carbon_na", lang))
    units = []
    for col, unit_col, name, colour in (
        ("carbon_intensity", "intensity_unit", "carbon_intensity", theme.BAD),
        ("energy_intensity", "energy_intensity_unit", "energy_intensity", theme.WARN),
    ):
        if not df[col].notna().any():
            continue
        unit = next((u for u in df[unit_col] if u), "")
        units.append(unit)
        fig.add_trace(
            go.Scatter(
                x=df["month"],
                y=df[col],
                name=f"{t(name, lang)} {unit}",
                mode="lines+markers",
                line={"color": colour, "width": 2},
                hovertemplate=f"%{{y:,.4~f}} {unit}",
            ),
            secondary_y=False,
        )
    if not units:
        fig.add_annotation(
            text=t("intensity_no_output", lang),
            showarrow=False,
            font={"color": theme.MUTED, "size": 14},
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.55,
        )
    for col, name, colour in (
        ("renewable_pct", "renewable_share", theme.GOOD),
        ("green_pct", "green_share", "#a3e635"),
    ):
        fig.add_trace(
            go.Scatter(
                x=df["month"],
                y=df[col],
                name=f"{t(name, lang)} %",
                mode="lines+markers",
                line={"color": colour},
                hovertemplate="%{y:,.1f} %",
            ),
            secondary_y=True,
        )
    fig.update_yaxes(
        title_text=" · ".join(units), tickformat=",.3~f", secondary_y=False, rangemode="tozero"
    )
    fig.update_yaxes(
        title_text="%",
        tickformat=",.1f",
        secondary_y=True,
        showgrid=False,
        rangemode="tozero",
        zerolinecolor=theme.GRID,
    )
    fig.update_xaxes(type="category")
    return fig
