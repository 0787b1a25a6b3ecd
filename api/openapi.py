"""The published contract: every operation documents the error answers it can give.

Each route gets 401/403 (bearer key and role), 404/409 where it addresses or creates
objects, 413 and 408 for request bodies, 422 and 503 everywhere, all with the shape the
error handlers in :mod:`api.errors` produce.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description="Where: the field, parameter or JSON path")
    msg: str = Field(description="Why")
    type: str = Field(description="Kind of error (value_error, not_found, conflict, …)")


class ErrorOut(BaseModel):
    """Every 4xx/5xx answer: ``detail`` lists the problems, ``error`` is one line."""

    detail: list[ErrorItem] | str
    error: str | None = None


class Health(BaseModel):
    status: str = Field(description="ok | unavailable")
    path: str = Field(description="timescaledb | postgresql")
    database: str = Field(description="up | down")


_DESCRIPTIONS = {
    "400": "The request cannot be read",
    "401": "Missing, invalid or revoked API key",
    "403": "The key's role may not do this",
    "404": "No such object (ids beyond their type's range included)",
    "408": "The request body arrived too slowly",
    "409": "Contradicts stored data",
    "413": "Body or batch larger than the configured limit",
    "422": "A field is invalid: `detail[].loc` names it, `msg` says why",
    "503": "The database or ingest capacity is unavailable; retry after `Retry-After` seconds",
}


def document_errors(app: FastAPI) -> None:
    """Replace ``app.openapi`` with one that lists the error answers of every operation."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorItem, ErrorOut):
            components[model.__name__] = model.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
        components["ErrorOut"].pop("$defs", None)
        ref = {"$ref": "#/components/schemas/ErrorOut"}
        for path, ops in schema.get("paths", {}).items():
            for method, op in ops.items():
                responses = op.setdefault("responses", {})
                codes = ["400", "404", "408", "409", "413", "422", "503"]
                if path != "/healthz":
                    codes[:0] = ["401", "403"]
                if method == "get" and path != "/healthz":
                    codes.remove("408")
                    codes.remove("413")
                for code in codes:
                    if code in responses and code != "422":
                        continue
                    responses[code] = {
                        "description": _DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ref}},
                    }
                    if code == "503":
                        responses[code]["headers"] = {
                            "Retry-After": {
                                "description": "seconds to wait",
                                "schema": {"type": "integer"},
                            }
                        }
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
