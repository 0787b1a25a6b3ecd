"""Conditional GET (RFC 9110 §8.8.3, §13.1.2): a list's ETag is the digest of the answer the
caller would be given, so a client holding the list it was last given (the dashboard's site
list, per person) asks again with ``If-None-Match`` and gets ``304 Not Modified`` without a
body while nothing it may see has changed, and the new list the moment something has (a site
created, renamed or given new settings, a person's access changed), by whatever process."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder

NOT_MODIFIED = {
    304: {"description": "Not modified: the answer whose ETag was sent in If-None-Match"}
}


def etag(payload: Any) -> str:
    """A strong ETag of an answer: the digest of its canonical JSON."""
    text = json.dumps(jsonable_encoder(payload), sort_keys=True, separators=(",", ":"))
    return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'


def _matches(request: Request, tag: str) -> bool:
    sent = request.headers.get("if-none-match", "")
    if sent.strip() == "*":
        return True
    return tag in {t.strip().removeprefix("W/") for t in sent.split(",")}  # weak comparison


def answer(request: Request, response: Response, payload: Any) -> Any:
    """``payload`` with its ETag, or 304 without a body when the caller already holds it."""
    tag = etag(payload)
    if _matches(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return payload
