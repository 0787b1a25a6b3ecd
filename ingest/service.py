"""What the API asks of ingest (also the CSV loader and the demo): a request body end to end,
parse → validate → write (one commit) → answer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine

from core.db import sqlalchemy_and_psycopg
from core.errors import Overloaded, TooLarge
from ingest.events import AfterCommit, ReadingBus, run_after_commit
from ingest.parsers import RawItems, parse_body
from ingest.validate import validate
from ingest.writer import WriterConfig, WriteResult, write_batch
from metering.registry import MeterInfo


@dataclass(frozen=True)
class IngestContext:
    engine: Engine
    writer: WriterConfig
    lookup_meters: Callable[[set[str]], Mapping[str, MeterInfo]]
    write_slots: threading.BoundedSemaphore
    write_wait_s: float = 2.0
    max_batch: int = 200_000
    future_tolerance_s: int = 300
    bus: ReadingBus | None = None


def ingest_body(
    ctx: IngestContext, content_type: str | None, body: bytes, key_name: str | None = None
) -> dict:
    """Parse and store one request body; the answer is returned only after the commit."""
    items = parse_body(content_type, body)
    return ingest_items(ctx, items, key_name=key_name, source=_source(content_type))


def ingest_items(
    ctx: IngestContext, items: RawItems, *, key_name: str | None = None, source: str = "api"
) -> dict:
    if len(items) > ctx.max_batch:
        raise TooLarge(f"{len(items)} readings in one request; the limit is {ctx.max_batch}")
    batch = validate(items, ctx.lookup_meters, future_tolerance_s=ctx.future_tolerance_s)
    if not ctx.write_slots.acquire(timeout=ctx.write_wait_s):
        raise Overloaded(retry_after_s=1)
    after: list[AfterCommit] = []
    bus = ctx.bus
    try:
        with sqlalchemy_and_psycopg(ctx.engine) as (sa, raw):

            def hooks(written: WriteResult) -> None:  # the bus's transaction hooks
                if bus is not None and written.accepted:
                    after.extend(bus.run_hooks(sa, raw, batch))

            result = write_batch(
                raw,
                batch,
                ctx.writer,
                key_name=key_name,
                source=source,
                before_commit=hooks if bus is not None and bus.has_hooks else None,
            )
    finally:
        ctx.write_slots.release()
    run_after_commit(after)
    if ctx.bus is not None and result.accepted:
        ctx.bus.publish(batch)
    rejected = sorted(batch.rejected + result.conflicts, key=lambda r: r["index"])
    return {"accepted": result.accepted, "duplicates": result.duplicates, "rejected": rejected}


def _source(content_type: str | None) -> str:
    media = (content_type or "application/json").split(";")[0].strip().lower()
    return {"text/csv": "csv", "application/x-ndjson": "ndjson"}.get(media, "json")
