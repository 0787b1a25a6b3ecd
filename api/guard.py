"""Checks every request passes before any handler runs (an app-wide dependency).

- NUL characters and lone surrogates in the path, the query or a JSON body: 422 naming the
  parameter or the JSON path (PostgreSQL text cannot hold them).
- Integer path parameters (ids) beyond PostgreSQL ``integer``: 404 — no such object can exist;
  integer query parameters naming an id likewise.
- Dates and timestamps in the query outside the supported period: 422 quoting the limit.
- Numbers in a JSON body that are not finite (``1e400``, ``NaN``) or beyond ±1e15: 422 naming
  the field; a body nested deeper than ``MAX_DEPTH``: 422.

``POST /api/v1/readings`` reads and checks its own body item by item (see ``ingest``).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request
from pydantic import TypeAdapter, ValidationError

from core import limits
from core.errors import Invalid, NotFound

MAX_DEPTH = 64
OWN_BODY_PATHS = ("/api/v1/readings",)
_DATE_PARAMS = {"start", "end", "since", "until", "date", "valid_from", "valid_to", "at"}
_DATE_FIELDS = _DATE_PARAMS | {"ts", "vintage", "expires_at", "until_ts"}
_ID_QUERY = {"rule", "alarm", "id"}
_DATETIME = TypeAdapter(datetime)
_DATE = TypeAdapter(date)


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


async def check_request(request: Request) -> None:
    for name, raw in request.path_params.items():
        if isinstance(raw, str):
            _text(f"path.{name}", raw)
            if _is_id(name):
                _id(name, raw)
    for name, raw in request.query_params.multi_items():
        _text(f"query.{name}", raw)
        _text(f"query.{name}", name)
        if name in _ID_QUERY or _is_id(name):
            _id(name, raw)
        _bounded_int(name, raw)
        if name in _DATE_PARAMS:
            _period(name, raw)
    if request.url.path in OWN_BODY_PATHS or request.method in ("GET", "HEAD", "DELETE"):
        return
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        return
    body = await request.body()
    if not body:
        return
    try:
        doc = json.loads(body)
    except RecursionError:
        raise Invalid("body", f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        return  # FastAPI answers 422 json_invalid with the position
    _walk(doc, "body", 0)


def _text(where: str, s: str) -> None:
    problem = limits.text_problem(s)
    if problem is not None:
        raise Invalid(where, problem)


def _integer(raw: str) -> int | None:
    """The integer a parameter spells (at most 20 digits), or None."""
    s = raw.strip()
    digits = s[1:] if s[:1] in ("+", "-") else s
    if not (digits.isascii() and digits.isdigit()):
        return None
    return int(s) if len(digits) <= 20 else (-1 if s[0] == "-" else 1) * 10**20


def _id(name: str, raw: str) -> None:
    n = _integer(raw)
    if n is not None and not 0 <= n <= limits.MAX_ID:
        raise NotFound(name, f"no object has id {raw.strip()[:24]} (ids are 1 … {limits.MAX_ID})")


def _bounded_int(name: str, raw: str) -> None:
    n = _integer(raw)
    if n is not None and abs(n) > limits.MAX_ID:
        raise Invalid(name, f"out of range (|n| ≤ {limits.MAX_ID})")


def _period(name: str, raw: str) -> None:
    try:
        value: date | datetime = _DATETIME.validate_python(raw)
    except ValidationError:
        try:
            value = _DATE.validate_python(raw)
        except ValidationError:
            return  # not a date at all: the route's own validation names it
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # the range check only; the route checks offsets
    problem = limits.ts_problem(value)
    if problem is not None:
        raise Invalid(name, problem)


def _walk(node: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise Invalid("body", f"JSON nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, str):
        _text(path, node)
    elif isinstance(node, bool) or node is None:
        return
    elif isinstance(node, int | float):
        if isinstance(node, float) and not math.isfinite(node):
            raise Invalid(path, f"not a finite number ({node})")
        problem = limits.number_problem(node, limits.MAX_ABS_QUANTITY)
        if problem is not None:
            raise Invalid(path, problem)
    elif isinstance(node, dict):
        for key, value in node.items():
            _text(path, key)
            where = f"{path}.{key}"
            if key in _DATE_FIELDS and isinstance(value, str):
                _text(where, value)
                _period(where, value)
            _walk(value, where, depth + 1)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk(value, f"{path}[{i}]", depth + 1)
