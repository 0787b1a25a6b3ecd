"""One mapping from errors to HTTP answers, each naming the field and the reason.

- Domain errors: 404/409/422 with ``detail: [{"loc", "msg", "type"}]`` (the shape of FastAPI's
  own 422, so every error body matches the published schema) and ``error: "field: reason"``.
- The database away (connection refused, pool exhausted, server shut down): 503 with
  ``Retry-After``; never a 500.
- A value the database refuses (out of range, bad encoding): 422; a constraint: 409.
- Anything else: 500, logged. Every 5xx and 413 closes the connection (``Connection: close``)
  so a gateway's next request starts on a fresh connection.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Overloaded,
    TooLarge,
)

log = logging.getLogger(__name__)

_STATUS = {NotFound: 404, Conflict: 409, Invalid: 422, Forbidden: 403}
_TYPE = {403: "forbidden", 404: "not_found", 409: "conflict", 422: "value_error"}
RETRY_AFTER_DB_S = 5
CLOSE = {"Connection": "close"}


class ErrorResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: an echoed lone surrogate cannot break it."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_body(field: str, reason: str, kind: str) -> dict:
    return {
        "detail": [{"loc": [field], "msg": reason, "type": kind}],
        "error": f"{field}: {reason}",
    }


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached (not that a query was wrong)."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection free in time
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig if exc.orig is not None else exc
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) and not isinstance(
        exc, psycopg.errors.QueryCanceled
    )


def unavailable_response(what: str = "database") -> ErrorResponse:
    return ErrorResponse(
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_DB_S), **CLOSE},
        content={
            "detail": [{"loc": [what], "msg": f"{what} unavailable", "type": "unavailable"}],
            "error": f"{what}: unavailable; retry later",
        },
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
        kind = _TYPE.get(status, "error")
        return ErrorResponse(status_code=status, content=error_body(exc.field, exc.reason, kind))

    @app.exception_handler(Overloaded)
    async def overloaded(_: Request, exc: Overloaded) -> JSONResponse:
        return ErrorResponse(
            status_code=503,
            headers={"Retry-After": str(exc.retry_after_s)},
            content={
                "detail": [{"loc": ["ingest"], "msg": "at capacity", "type": "unavailable"}],
                "error": "ingest is at capacity; retry later",
            },
        )

    @app.exception_handler(TooLarge)
    async def too_large(_: Request, exc: TooLarge) -> JSONResponse:
        return ErrorResponse(
            status_code=413,
            headers=CLOSE,
            content={
                "detail": [{"loc": ["body"], "msg": str(exc), "type": "too_large"}],
                "error": str(exc),
            },
        )

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = detail[0] if detail else {"loc": ["body"], "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"])
        return ErrorResponse(
            status_code=422, content={"detail": detail, "error": f"{where}: {first['msg']}"}
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code >= 500 or exc.status_code in (408, 413):
            headers.update(CLOSE)
        return ErrorResponse(
            status_code=exc.status_code, headers=headers, content={"detail": exc.detail}
        )

    @app.exception_handler(sa_exc.SQLAlchemyError)
    async def database_error(request: Request, exc: sa_exc.SQLAlchemyError) -> JSONResponse:
        return _database_answer(request, exc)

    @app.exception_handler(psycopg.Error)
    async def psycopg_error(request: Request, exc: psycopg.Error) -> JSONResponse:
        return _database_answer(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return ErrorResponse(
            status_code=500,
            headers=CLOSE,
            content={"detail": "internal error", "error": "internal error"},
        )


def _database_answer(request: Request, exc: Exception) -> JSONResponse:
    if database_unavailable(exc):
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return unavailable_response()
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(orig, psycopg.errors.IntegrityError):
        return ErrorResponse(
            status_code=409, content=error_body("body", _first_line(orig), "conflict")
        )
    if isinstance(orig, psycopg.DataError | UnicodeError):
        return ErrorResponse(
            status_code=422, content=error_body("body", _first_line(orig), "value_error")
        )
    log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
    return ErrorResponse(
        status_code=500, headers=CLOSE, content={"detail": "internal error", "error": "internal"}
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or ["rejected by the database"])[0][:300]
