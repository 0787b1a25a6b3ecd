"""FastAPI application factory. The engine and state are built in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alarms.engine import start_for_app as start_alarms
from api import errors, openapi, security
from api.guard import check_request
from api.routers import (
    alarm_rules,
    alarms,
    audit,
    auth,
    benchmarking,
    budgets,
    carbon_all,
    collectors,
    costs,
    exogenous,
    footprints,
    forecasts,
    keys,
    meters,
    products,
    readings,
    recommendations,
    sites,
    suppliers,
    users,
)
from api.state import AppState
from core import __version__
from core.db import make_engine, psycopg_connection
from core.settings import Settings, get_settings
from metering.rollups import RollupWorker

API_PREFIX = "/api/v1"


class BodyReadTimeout:
    """ASGI middleware: a request whose body stalls longer than ``timeout_s`` between chunks
    gets 408 and a closed connection, so slow senders cannot hold a worker."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.timeout_s <= 0:
            await self.app(scope, receive, send)
            return

        body_done = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:  # e.g. a streaming response waiting for a disconnect
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout_s)
            except TimeoutError:
                raise HTTPException(
                    408, f"body: no data for {self.timeout_s:g} s", headers={"Connection": "close"}
                ) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed_receive, send)


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
        dependencies=[Depends(check_request)],
        docs_url=None,
        redoc_url=None,
        description="Metered telemetry in, rollups and totals out. Every endpoint needs "
        "`Authorization: Bearer <token>`: a person's session token (`POST /api/v1/auth/login`), "
        "an API key (`ecc keys create`) or a wall display token (`ecc displays create`).",
    )
    errors.install(app)
    app.state.trusted_proxies = frozenset(
        a.strip() for a in settings.trusted_proxies.split(",") if a.strip()
    )
    app.add_middleware(BodyReadTimeout, timeout_s=settings.body_read_timeout_s)
    app.add_middleware(security.RequestPlumbing, settings=settings)
    security.serve_docs_locally(app)
    for module in (auth, users, keys, audit, readings, meters, sites, alarm_rules, alarms):
        app.include_router(module.router, prefix=API_PREFIX)
    for module in (forecasts, costs, budgets, collectors, benchmarking, recommendations):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(exogenous.router, prefix=API_PREFIX)  # forecasts' inputs
    for router in carbon_all.ROUTERS:  # carbon accounting: factors … reports
        app.include_router(router, prefix=API_PREFIX)
    for module in (products, footprints, suppliers):  # product footprints, supply chain
        app.include_router(module.router, prefix=API_PREFIX)

    @app.get(
        "/healthz",
        tags=["health"],
        response_model=openapi.Health,
        responses={503: {"model": openapi.Health, "description": "the database is down"}},
    )
    def healthz() -> Any:
        state = app.state.ecc
        path = "timescaledb" if state.writer.timescale else "postgresql"
        try:
            with state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure here means "down"
            if not errors.database_unavailable(exc):
                raise
            return JSONResponse(
                status_code=503,
                headers={"Retry-After": str(errors.RETRY_AFTER_DB_S), "Connection": "close"},
                content={"status": "unavailable", "path": path, "database": "down"},
            )
        return {"status": "ok", "path": path, "database": "up"}

    openapi.document_errors(app)
    return app
