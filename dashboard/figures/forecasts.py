"""The forecast page's figures, pure builders from API answers: the forecast with its 90 %
band, past forecasts against what happened, the tracked error per day."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import theme
from dashboard.i18n import t

MODEL_COLOURS = {
    "naive_daily": theme.SERIES[4],
    "naive_weekly": theme.MUTED,
    "hgb": theme.SERIES[0],
    "prophet": theme.SERIES[3],
    "lgbm_global": theme.SERIES[2],
    "combined": theme.SERIES[5],
    "linear": theme.SERIES[6],
}


def _colour(model: str, i: int) -> str:
    return MODEL_COLOURS.get(model, theme.SERIES[(i + 1) % len(theme.SERIES)])


def _frame(answer: dict | None, tz: str) -> pd.DataFrame:
    points = (answer or {}).get("points") or []
    frame = pd.DataFrame(points, columns=["ts", "actual", "forecast", "lower", "upper", "model"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601").dt.tz_convert(tz)
    return frame


def _band(fig: go.Figure, frame: pd.DataFrame, lang: str, unit: str) -> None:
    fig.add_trace(
        go.Scatter(
            x=frame["ts"],
            y=frame["upper"],
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
            connectgaps=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=frame["ts"],
            y=frame["lower"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=theme.rgba(theme.ACCENT, 0.2),
            name=t("fc_band", lang),
            hovertemplate=f"%{{y:,.1f}} {unit}",
            connectgaps=False,
        )
    )


def _base(unit: str, uirevision: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(**theme.layout(1.0, hovermode="x unified", uirevision=uirevision))
    fig.update_yaxes(title={"text": unit}, tickformat=",~r", rangemode="tozero")
    fig.update_xaxes(tickformat="%m-%d %H:%M")  # the same in both languages
    return fig


def _against_actual(
    answer: dict, tz: str, lang: str, uirevision: str, name: str, past: bool = False
) -> go.Figure:
    """The 90 % band, the actuals and the forecast line named ``name``: what the forecast and
    past figures share (``past``: dashed, the model that made each point in the hover)."""
    unit = answer.get("unit", "")
    frame = _frame(answer, tz)
    fig = _base(unit, uirevision)
    _band(fig, frame, lang, unit)
    fig.add_trace(
        go.Scatter(
            x=frame["ts"],
            y=frame["actual"],
            mode="lines",
            name=t("fc_actual", lang),
            line={"color": theme.TEXT, "width": 2},
            hovertemplate=f"%{{y:,.1f}} {unit}",
        )
    )
    line = {"color": theme.ACCENT, "width": 2}
    by_model: dict = {}
    hover = f"%{{y:,.1f}} {unit}"
    if past:
        line["dash"] = "dash"
        by_model = {"customdata": frame["model"].fillna("")}
        hover += " (%{customdata})"
    fig.add_trace(
        go.Scatter(
            x=frame["ts"],
            y=frame["forecast"],
            mode="lines",
            name=name,
            line=line,
            hovertemplate=hover,
            **by_model,
        )
    )
    return fig


def forecast_figure(answer: dict | None, tz: str, lang: str = "en") -> go.Figure | dict:
    """Actuals up to the forecast origin, then the forecast with its 90 % band."""
    if not answer or not answer.get("points"):
        return theme.empty()
    uirevision = f"fc-{answer.get('horizon_h')}"
    fig = _against_actual(answer, tz, lang, uirevision, t("forecast", lang))
    origin = (answer.get("run") or {}).get("origin")
    if origin:
        x = pd.Timestamp(origin).tz_convert(tz)
        fig.add_shape(
            type="line",
            x0=x,
            x1=x,
            y0=0,
            y1=1,
            yref="paper",
            line={"color": theme.MUTED, "dash": "dot", "width": 1},
        )
        fig.add_annotation(
            x=x,
            y=1,
            yref="paper",
            text=t("fc_origin", lang),
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"color": theme.MUTED},
        )
    return fig


def past_figure(answer: dict | None, tz: str, lang: str = "en") -> go.Figure | dict:
    """What was forecast for each past bucket (the forecast in force then) against what
    happened."""
    if not answer or not answer.get("points"):
        return theme.empty()
    uirevision = f"past-{answer.get('horizon_h')}"
    return _against_actual(answer, tz, lang, uirevision, t("fc_past_forecast", lang), past=True)


def error_figure(
    accuracy: dict | None, lead_h: int, labels: dict[str, str], lang: str = "en"
) -> go.Figure | dict:
    """Tracked MAE per day and model (bars) beside the weekly seasonal naive's on the same
    buckets (line), and the 90 % band's coverage per day (right axis)."""
    rows = [s for s in (accuracy or {}).get("scores", []) if s["horizon_h"] == lead_h]
    if not rows:
        return theme.empty()
    unit = accuracy.get("unit", "") if accuracy else ""
    frame = pd.DataFrame(rows)
    fig = _base(unit, f"err-{lead_h}")
    fig.update_layout(barmode="group")
    for i, (model, part) in enumerate(frame.groupby("model", sort=True)):
        fig.add_trace(
            go.Bar(
                x=part["day"],
                y=part["mae"],
                name=f"MAE · {labels.get(str(model), model)}",
                marker={"color": _colour(str(model), i)},
                hovertemplate=f"%{{y:,.2f}} {unit}",
            )
        )
    weights = frame.assign(
        naive_sum=frame["naive_mae"] * frame["points"],
        inside=frame["coverage_90"] * frame["points"],
    ).groupby("day")
    per_day = pd.DataFrame(
        {
            "naive_mae": weights["naive_sum"].sum(min_count=1) / weights["points"].sum(),
            "coverage": weights["inside"].sum() / weights["points"].sum() * 100,
        }
    ).reset_index()
    fig.add_trace(
        go.Scatter(
            x=per_day["day"],
            y=per_day["naive_mae"],
            mode="lines+markers",
            name=t("fc_naive_mae", lang),
            line={"color": theme.WARN, "dash": "dot", "width": 2},
            hovertemplate=f"%{{y:,.2f}} {unit}",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=per_day["day"],
            y=per_day["coverage"],
            mode="markers",
            name=t("fc_coverage", lang),
            marker={"color": theme.GOOD, "symbol": "diamond", "size": 9},
            yaxis="y2",
            hovertemplate="%{y:.0f} %",
        )
    )
    fig.update_layout(
        yaxis2={
            "title": {"text": t("fc_coverage_axis", lang)},
            "overlaying": "y",
            "side": "right",
            "range": [0, 105],
            "dtick": 20,
            "showgrid": False,
            "ticksuffix": " %",
        },
        margin={"l": 56, "r": 64, "t": 36, "b": 36},
    )
    fig.update_xaxes(type="date", tickformat="%m-%d", dtick=86_400_000)  # one tick a day
    return fig
