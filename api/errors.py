"""One mapping from domain errors to HTTP answers, each naming the field and the reason."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Overloaded,
    TooLarge,
)

_STATUS = {NotFound: 404, Conflict: 409, Invalid: 422, Forbidden: 403}


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
        return JSONResponse(
            status_code=status,
            content={
                "detail": [{"loc": [exc.field], "msg": exc.reason}],
                "error": f"{exc.field}: {exc.reason}",
            },
        )

    @app.exception_handler(Overloaded)
    async def overloaded(_: Request, exc: Overloaded) -> JSONResponse:
        return JSONResponse(
            status_code=503,
            headers={"Retry-After": str(exc.retry_after_s)},
            content={"error": "ingest is at capacity; retry later"},
        )

    @app.exception_handler(TooLarge)
    async def too_large(_: Request, exc: TooLarge) -> JSONResponse:
        return JSONResponse(status_code=413, content={"error": str(exc)})
