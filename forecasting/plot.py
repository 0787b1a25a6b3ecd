"""Figure builders (data in, matplotlib figure out; nothing is read back from a figure)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from forecasting.backtest import ModelResult
from forecasting.base import LOWER_90, POINT, TARGET, UPPER_90


def last_fold_figure(
    history: pd.Series, results: Mapping[str, ModelResult], best: str | None, title: str
):  # noqa: ANN201 - matplotlib Figure, imported lazily
    """Actual vs every model's forecast over the last fold, with the best model's 90 %
    interval, after one fold-length of the history before it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4.5), layout="constrained")
    fold_frames = {name: r.folds[-1].forecast for name, r in results.items() if r.folds}
    if not fold_frames:
        ax.set_title(f"{title}: no model produced a forecast")
        return fig
    any_frame = next(iter(fold_frames.values()))
    start = any_frame.index[0]
    before = history[history.index < start].iloc[-len(any_frame) :]
    ax.plot(before.index, before.to_numpy(), color="0.55", lw=1, label="history")
    ax.plot(any_frame.index, any_frame[TARGET].to_numpy(), color="black", lw=1.4, label="actual")
    if best in fold_frames:
        band = fold_frames[best]
        ax.fill_between(
            band.index,
            band[LOWER_90].to_numpy(),
            band[UPPER_90].to_numpy(),
            color="tab:blue",
            alpha=0.18,
            label=f"{best} 90 % interval",
        )
    for name, frame in fold_frames.items():
        ax.plot(
            frame.index,
            frame[POINT].to_numpy(),
            lw=1.6 if name == best else 1,
            alpha=1 if name == best else 0.7,
            label=name,
        )
    ax.axvline(start, color="0.3", ls=":", lw=1)
    ax.set_title(title)
    ax.legend(loc="upper left", ncols=3, fontsize=8)
    ax.grid(alpha=0.3)
    return fig
