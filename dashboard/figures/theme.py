"""Colours and the base layout of every figure: dark, high contrast, readable from five
metres. ``scale`` multiplies font sizes (1 at 1080 px of screen height, 2 at 2160 px)."""

from __future__ import annotations

BG = "#0b1016"
PANEL = "#121a23"
GRID = "#263241"
TEXT = "#e8eef5"
MUTED = "#9fb0c3"
ACCENT = "#38bdf8"
GOOD = "#34d399"
WARN = "#fbbf24"
BAD = "#f87171"

CARRIER = {
    "electricity": "#38bdf8",
    "pv_generation": "#facc15",
    "wind_generation": "#a3e635",
    "grid_export": "#a78bfa",
    "natural_gas": "#fb923c",
    "steam": "#e879f9",
    "heat": "#f472b6",
    "hot_water": "#f472b6",
}
LOSS = "#f87171"
NODE = {
    "src": "#64748b",
    "bus": "#0ea5e9",
    "m": "#475569",
    "ws": "#14b8a6",
    "losses": "#ef4444",
    "export": "#8b5cf6",
}
PRIORITY = {"critical": "#dc2626", "high": "#ea580c", "medium": "#ca8a04", "low": "#2563eb"}
SERIES = ["#38bdf8", "#fb923c", "#34d399", "#e879f9", "#facc15", "#a78bfa", "#f87171"]


def rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def layout(scale: float = 1.0, **extra: object) -> dict:
    """The common layout: transparent paper on the dark panel, scaled fonts and margins."""
    base: dict = {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {
            "family": "Inter, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif",
            "color": TEXT,
            "size": round(14 * scale),
        },
        "margin": {
            "l": round(56 * scale),
            "r": round(16 * scale),
            "t": round(36 * scale),
            "b": round(36 * scale),
        },
        "hoverlabel": {"font": {"size": round(14 * scale)}},
        "legend": {
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "x": 0,
            "font": {"size": round(13 * scale)},
            "bgcolor": "rgba(0,0,0,0)",
        },
        "xaxis": {
            "gridcolor": GRID,
            "zerolinecolor": GRID,
            "linecolor": GRID,
            "tickfont": {"size": round(13 * scale)},
        },
        "yaxis": {
            "gridcolor": GRID,
            "zerolinecolor": GRID,
            "linecolor": GRID,
            "tickfont": {"size": round(13 * scale)},
            "separatethousands": True,
        },
        "separators": ".,",
    }
    base.update(extra)
    return base


def empty(scale: float = 1.0) -> dict:
    """A blank dark figure for graphs before their first data (no white flash)."""
    return {
        "data": [],
        "layout": {**layout(scale), "xaxis": {"visible": False}, "yaxis": {"visible": False}},
    }
