"""``ecc load-csv``: stream a CSV file through validation and the writer with progress."""

from __future__ import annotations

import threading
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from sqlalchemy.orm import Session

from carbon import factors
from core.settings import Settings
from ingest.csv_file import CsvMapping, count_rows, read_batches
from ingest.service import IngestContext, ingest_items
from ingest.writer import detect_writer
from metering import registry
from shell.runtime import open_database

MAX_REJECTIONS_SHOWN = 20


def load_csv_file(
    settings: Settings,
    path: Path,
    mapping: CsvMapping,
    console: Console,
    template: registry.MeterIn | None = None,
) -> dict:
    """Load ``path``; with ``template``, missing meters (and their site) are created first."""
    _, engine = open_database(settings, upgrade=True)
    if template is not None:
        _create_missing(engine, mapping, template, console)
    with engine.connect() as conn:
        writer = detect_writer(conn.connection.driver_connection)
    with Session(engine) as session:
        known = registry.meter_infos(session, mapping.meters)

    ctx = IngestContext(
        engine=engine,
        writer=writer,
        lookup_meters=lambda codes: {c: known[c] for c in codes if c in known},
        write_slots=threading.BoundedSemaphore(1),
        write_wait_s=3600,
        max_batch=10**9,
        future_tolerance_s=settings.future_tolerance_s,
    )
    total_rows = count_rows(path)
    per_row = len(mapping.meters)
    summary = {"file": str(path), "rows": total_rows, "accepted": 0, "duplicates": 0, "rejected": 0}
    shown: list[str] = []
    done = 0
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"loading {path.name}", total=total_rows)
        for items in read_batches(path, mapping):
            out = ingest_items(ctx, items, key_name="load-csv", source="csv")
            summary["accepted"] += out["accepted"]
            summary["duplicates"] += out["duplicates"]
            summary["rejected"] += len(out["rejected"])
            for rej in out["rejected"]:
                if len(shown) < MAX_REJECTIONS_SHOWN:
                    shown.append(f"row {done + rej['index'] // per_row + 2}: {rej['error']}")
            done += len(items) // per_row
            progress.update(task, completed=done)
    for line in shown:
        console.print(f"[red]{line}[/]")
    return summary


def _create_missing(
    engine,
    mapping: CsvMapping,
    template: registry.MeterIn,  # noqa: ANN001
    console: Console,
) -> None:
    from dataclasses import replace

    from core.errors import NotFound

    with Session(engine) as session:
        try:
            registry.get_site(session, template.site)
        except NotFound:
            registry.create_site(session, registry.SiteIn(code=template.site, name=template.site))
            console.print(f"created site {template.site}")
        existing = registry.meter_infos(session, mapping.meters)
        for code, column in mapping.meters.items():
            if code not in existing:
                registry.create_meter(session, replace(template, code=code, name=column))
                console.print(f"created meter {code} ({template.kind}, {template.unit})")
        session.flush()
        factors.materialise(session)  # readers of carbon figures then find them stored
        session.commit()
