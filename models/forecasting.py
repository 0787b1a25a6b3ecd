"""Forecast runs and their points.

A run is one forecast of one subject: a meter, or a site's total of one carrier, in one
quantity (``energy`` per bucket in the carrier's canonical unit, or ``load`` in kW). It keeps
what produced it (model, parameters, training window, backtest scores) so a forecast can be
judged and reproduced. ``purpose``: ``nightly`` (model selection by backtest, then a fit on
the whole history) or ``refresh`` (the selected model moved to the newest data every 15
minutes). Points are labelled by the start of their bucket, like the metering series, and
carry the point forecast and the 50 % and 90 % intervals.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

TZ = DateTime(timezone=True)


class ForecastRun(Base):
    __tablename__ = "forecast_run"
    __table_args__ = (
        CheckConstraint("(meter_id IS NULL) <> (site_id IS NULL)", name="one_subject"),
        CheckConstraint("quantity IN ('energy', 'load')", name="quantity"),
        CheckConstraint("purpose IN ('nightly', 'refresh')", name="purpose"),
        Index("ix_forecast_run_meter_latest", "meter_id", "quantity", "created_at"),
        Index("ix_forecast_run_site_latest", "site_id", "carrier", "quantity", "created_at"),
        UniqueConstraint("run_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    carrier: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(16))
    resolution_s: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(8))
    model: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSONB)
    train_start: Mapped[datetime] = mapped_column(TZ)
    train_end: Mapped[datetime] = mapped_column(TZ)
    horizon_steps: Mapped[int] = mapped_column(Integer)
    scores: Mapped[dict | None] = mapped_column(JSONB)
    fit_s: Mapped[float] = mapped_column(Double)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    # what makes a nightly run once per subject, horizon and night (insert-once: a retried
    # task on a cluster does not store it twice); None for refresh runs
    run_key: Mapped[str | None] = mapped_column(String(160))
    # the exogenous inputs the model was given (``forecasting.exog``): column, source, series
    # or meter, the issues as of ``as_of``
    inputs: Mapped[dict | None] = mapped_column(JSONB)


class ForecastPoint(Base):
    __tablename__ = "forecast_point"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("forecast_run.id", ondelete="CASCADE"), primary_key=True
    )
    ts: Mapped[datetime] = mapped_column(TZ, primary_key=True)
    yhat: Mapped[float] = mapped_column(Double)
    q05: Mapped[float] = mapped_column(Double)
    q25: Mapped[float] = mapped_column(Double)
    q75: Mapped[float] = mapped_column(Double)
    q95: Mapped[float] = mapped_column(Double)


class ForecastScore(Base):
    """One day's tracked error of the forecasts one model made for one subject at one lead.

    ``horizon_h``: 24 for the nightly day-ahead forecast, 168 for the week-ahead one; for each
    bucket of the subject's local ``day`` the newest nightly run of that lead issued before the
    bucket is the forecast in force (``forecasting.tracking``). The sums make the measures
    poolable over days: ``abs_error`` = Σ|y − ŷ|, ``abs_actual`` = Σ|y|, ``naive_abs_error`` =
    Σ|y − y(t − 7 d)| over the ``naive_points`` where last week is known, ``inside_90`` = how
    many actuals fell in [q05, q95], ``scale`` = the in-sample MAE of the weekly seasonal naive
    over the 28 days before (the MASE denominator). Everything in the subject's ``unit`` per
    bucket. One row per subject, lead, model and day: re-scoring replaces it.
    """

    __tablename__ = "forecast_score"
    __table_args__ = (
        CheckConstraint("(meter_id IS NULL) <> (site_id IS NULL)", name="one_subject"),
        CheckConstraint("points > 0", name="points_positive"),
        Index(
            "uq_forecast_score_day",
            "meter_id",
            "site_id",
            "carrier",
            "quantity",
            "horizon_h",
            "model",
            "day",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_forecast_score_site", "site_id", "carrier", "quantity", "day"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    carrier: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(16))
    horizon_h: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    points: Mapped[int] = mapped_column(Integer)
    abs_error: Mapped[float] = mapped_column(Double)
    abs_actual: Mapped[float] = mapped_column(Double)
    naive_abs_error: Mapped[float | None] = mapped_column(Double)
    naive_points: Mapped[int] = mapped_column(Integer)
    inside_90: Mapped[int] = mapped_column(Integer)
    scale: Mapped[float | None] = mapped_column(Double)
    mae: Mapped[float] = mapped_column(Double)
    mape: Mapped[float | None] = mapped_column(Double)
    wape: Mapped[float | None] = mapped_column(Double)
    mase: Mapped[float | None] = mapped_column(Double)
    coverage_90: Mapped[float] = mapped_column(Double)
    scored_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
