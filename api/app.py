"""FastAPI application factory. The engine and state are built in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from alarms.engine import start_for_app as start_alarms
from api import errors
from api.routers import (
    alarm_rules,
    alarms,
    benchmarking,
    budgets,
    carbon_all,
    costs,
    forecasts,
    meters,
    readings,
    recommendations,
    sites,
)
from api.state import AppState
from core import __version__
from core.db import make_engine, psycopg_connection
from core.settings import Settings, get_settings
from metering.rollups import RollupWorker

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        state = AppState.build(settings, engine)
        app.state.ecc = state
        worker = None
        if settings.rollup_worker:
            worker = RollupWorker(
                lambda: psycopg_connection(engine),
                state.writer.day_timezone,
                timescale=state.writer.timescale,
            ).start()
        app.state.alarms = start_alarms(settings, engine, state.bus)  # None when disabled
        try:
            yield
        finally:
            if app.state.alarms is not None:
                app.state.alarms.stop()
            if worker is not None:
                worker.stop()
            engine.dispose()

    app = FastAPI(
        title="Energy-carbon management center API",
        version=__version__,
        lifespan=lifespan,
        description="Metered telemetry in, rollups and totals out. Every endpoint needs "
        "`Authorization: Bearer <key>` (create one with `ecc keys create`).",
    )
    errors.install(app)
    for module in (
        readings,
        meters,
        sites,
        alarm_rules,
        alarms,
        forecasts,
        costs,
        budgets,
        benchmarking,
        recommendations,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    for router in carbon_all.ROUTERS:  # carbon accounting: factors … reports
        app.include_router(router, prefix=API_PREFIX)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict:
        with app.state.ecc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {
            "status": "ok",
            "path": "timescaledb" if app.state.ecc.writer.timescale else "postgresql",
        }

    return app
