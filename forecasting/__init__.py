"""Forecasting: load (kW), energy per carrier and emissions (tCO₂) for every meter and site.

One protocol for every model (``forecasting.base``), seasonal-naive baselines as models like
any other, one rolling-origin backtest (``forecasting.backtest``), model selection per series
by backtest, and the scheduler jobs that keep forecasts fresh (``forecasting.runs``). No
database session enters model code. See ``forecasting/README.md``.
"""
