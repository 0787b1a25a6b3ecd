"""``ecc demo``: database → schema → demo plant → 90 days of history → API → live stream.

A second run reuses everything: the plant exists, the generator state is in
``data_dir/demo/state.json`` and only the time since the last run is backfilled.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from accounts import keys, users
from carbon import factors
from core.errors import NotFound
from core.settings import Settings
from ingest.parsers import RawItems
from ingest.service import IngestContext, ingest_items
from ingest.writer import detect_writer
from metering import registry
from shell.demo import history, plant
from shell.demo import products as demo_products
from shell.demo.benchmarking import ensure_benchmarking, refresh_recommendations
from shell.demo.carbon_assets import ensure_carbon_assets
from shell.processes import DidNotStart, wait_until_answering
from shell.runtime import open_database

SEED = 42
BATCH = 20_000


def ensure_plant(engine: Engine) -> None:
    """Create the demo sites and meters that do not exist yet."""
    with Session(engine) as session:
        for site in plant.SITES:
            try:
                row = registry.get_site(session, site["code"])
            except NotFound:
                registry.create_site(session, registry.SiteIn(**site))
            else:  # a demo database from before sites had their own contract
                if site["contracted_demand_kw"] and row.contracted_demand_kw is None:
                    registry.update_site_settings(
                        session, site["code"], contracted_demand_kw=site["contracted_demand_kw"]
                    )
        session.flush()
        existing = registry.meter_infos(session, [m["code"] for m in plant.METERS])
        for meter in plant.METERS:
            if meter["code"] not in existing:
                registry.create_meter(session, registry.MeterIn(**meter))
                session.flush()
        factors.materialise(session)  # readers of carbon figures then find them stored
        session.commit()


def ensure_cost_and_budgets(engine: Engine, settings: Settings, now: datetime) -> list[str]:
    """The plant's Jiangsu two-part tariff, yearly budgets (plant and workshops) sized on the
    last 28 days of history, and a monthly cost-budget alarm: whatever does not exist yet."""
    from alarms import rules
    from alarms.config import AlarmConfig
    from budgets import service as budgets
    from cost import clock, tariffs

    made = []
    t = plant.TARIFF
    with Session(engine) as session:
        if not tariffs.list_tariffs(session, t["code"]):
            tariffs.create_tariff(
                session,
                tariffs.TariffIn(
                    code=t["code"],
                    name=t["name"],
                    valid_from=date.fromisoformat(t["valid_from"]),
                    template=t["template"],
                    flat_price_cny_per_kwh=Decimal(t["flat_price_cny_per_kwh"]),
                    demand_charge=t["demand_charge"],
                    power_factor_standard=Decimal(t["power_factor_standard"]),
                    source=t["source"],
                ),
                "demo",
            )
            tariffs.assign(
                session, plant.BILLING_SITE, t["code"], date.fromisoformat(t["valid_from"]), "demo"
            )
            made.append(f"tariff {t['code']}")
        zone = clock.site_zone(plant.TIMEZONE)
        today = now.astimezone(zone).date()
        hi = clock.local_midnight(today, zone)
        lo = hi - timedelta(days=28)
        days_in_year = (date(today.year + 1, 1, 1) - date(today.year, 1, 1)).days
        wanted = [(plant.BILLING_SITE, q) for q in plant.BUDGET_QUANTITIES] + [
            (ws, q) for ws in plant.WORKSHOP_BUDGETS for q in ("electricity_kwh", "cost_cny")
        ]
        for site_code, quantity in wanted:
            site = registry.get_site(session, site_code)
            if budgets.current(session, site, quantity, today.year) is not None:
                continue
            got = budgets.measure(session, site_code, None, quantity, lo, hi).total
            if got <= 0:
                continue
            amount = got * days_in_year / 28 * Decimal(str(plant.BUDGET_SHARE))
            budgets.create_budget(
                session,
                budgets.BudgetIn(site_code, quantity, today.year, amount=amount.quantize(1)),
                "demo",
            )
            made.append(f"budget {site_code} {quantity}")
        session.commit()
        name = "Monthly cost budget 月度电费预算"
        if not any(r.name == name for r in rules.list_rules(session, site=plant.BILLING_SITE)):
            rules.create_rule(
                session,
                rules.RuleIn(
                    name=name,
                    type="budget",
                    site=plant.BILLING_SITE,
                    quantity="cost_cny",
                    high=100.0,
                    priority="medium",
                    message="the month's electricity cost is projected above its budget",
                ),
                "demo",
                AlarmConfig.from_settings(settings),
            )
            session.commit()
            made.append("budget alarm rule")
    return made


def ensure_key(engine: Engine, path: Path, role: str) -> str:
    """The demo's key of ``role``, kept in ``path`` so later runs print the same one."""
    if path.exists():
        secret = path.read_text().strip()
        with Session(engine) as session:
            if keys.verify(session, secret) is not None:
                return secret
    with Session(engine) as session:
        secret = keys.create_key(session, role, f"demo-{role}-{int(time.time())}")
        session.commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return secret


def ensure_display(engine: Engine, path: Path, site: str) -> str:
    """The wall's read-only display token of ``site``, kept in ``path`` for later runs."""
    if path.exists():
        secret = path.read_text().strip()
        with Session(engine) as session:
            if keys.verify(session, secret) is not None:
                return secret
    with Session(engine) as session:
        secret = keys.create_display(session, site, f"demo-wall-{int(time.time())}")
        session.commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return secret


def ensure_first_admin(engine: Engine, login: str = "admin") -> str | None:
    """Create the first person (an admin) when nobody exists yet; return the generated
    password, which is stored only as an argon2id hash and shown only now."""
    import secrets

    with Session(engine) as session:
        if users.list_users(session):
            return None
        password = secrets.token_urlsafe(12)
        users.create_user(session, login, "Administrator", ["admin"], password)
        session.commit()
    return password


def backfill(
    engine: Engine, state: history.GeneratorState, start: datetime, end: datetime, console: Console
) -> int:
    """Generate [start, end) and write it through validation and the writer."""
    with engine.connect() as conn:
        writer = detect_writer(conn.connection.driver_connection)
    with Session(engine) as session:
        known = registry.meter_infos(session, [m["code"] for m in plant.METERS])
    ctx = IngestContext(
        engine=engine,
        writer=writer,
        lookup_meters=lambda codes: {c: known[c] for c in codes if c in known},
        write_slots=threading.BoundedSemaphore(1),
        write_wait_s=3600,
        max_batch=10**9,
    )
    total_points = int((end - start).total_seconds() // 60) * len(plant.METERS)
    written = 0
    items = RawItems()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(
            f"backfilling {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M}", total=total_points
        )

        def flush() -> None:
            nonlocal items, written
            out = ingest_items(ctx, items, key_name="demo-backfill", source="demo")
            if out["rejected"]:
                raise RuntimeError(f"demo data rejected: {out['rejected'][:3]}")
            written += out["accepted"]
            progress.update(task, advance=len(items))
            items = RawItems()

        for chunk in history.generate(plant.METERS, start, end, step_s=60, seed=SEED, state=state):
            stamps = [datetime.fromtimestamp(int(t), UTC).isoformat() for t in chunk.ts]
            items.runs.append((len(items), len(items) + len(chunk)))  # one meter: numpy path
            items.meter.extend([chunk.meter] * len(chunk))
            items.ts.extend(stamps)
            items.value.extend(chunk.value.tolist())
            items.unit.extend([None] * len(chunk))
            if len(items) >= BATCH:
                flush()
        if len(items):
            flush()
    return written


def _start_api(settings: Settings, console: Console) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--host",
        settings.api_host,
        "--port",
        str(settings.api_port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=os.environ.copy())
    wait_until_answering(proc, f"http://{settings.api_host}:{settings.api_port}/healthz", "the API")
    return proc


def _start_dashboard(
    settings: Settings, api_base: str, key: str, console: Console
) -> subprocess.Popen | None:
    """``ecc dashboard`` next to the API; its own key is the wall's display token (people
    sign in for everything else)."""
    env = {**os.environ, "ECC_API_URL": api_base, "ECC_DASHBOARD_KEY": key}
    cmd = [
        sys.executable,
        "-m",
        "shell.cli",
        "dashboard",
        "--host",
        settings.api_host,
        "--port",
        str(settings.dashboard_port),
    ]
    log_path = settings.data_dir / "demo" / "dashboard.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{settings.api_host}:{settings.dashboard_port}/wall"
    try:
        wait_until_answering(proc, url, "the dashboard")
    except DidNotStart as exc:
        console.print(f"[yellow]{exc} (see {log_path}); the API runs without it[/]")
        return None
    return proc


def _load_state(path: Path) -> history.GeneratorState | None:
    if path.exists():
        return history.GeneratorState.from_dict(json.loads(path.read_text()))
    return None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_demo(
    settings: Settings,
    console: Console,
    *,
    days: int = 90,
    stream_every_s: float = 5.0,
    stream: bool = True,
    field: bool = False,
) -> None:
    demo_dir = settings.data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C: the generator state is saved
    console.print("[bold]Energy-carbon management center — demo[/]")
    url, engine = open_database(settings, upgrade=True)
    console.print(f"database: {url}")
    ensure_plant(engine)
    ensure_carbon_assets(engine, datetime.now(UTC))
    admin_key = ensure_key(engine, demo_dir / "admin.key", "admin")
    wall_token = ensure_display(engine, demo_dir / "display.key", plant.SITES[0]["code"])
    first_password = ensure_first_admin(engine)
    state_path = demo_dir / "state.json"
    state = _load_state(state_path)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    if state is None or state.last_ts is None:
        state = history.GeneratorState(seed=SEED)
        start = now - timedelta(days=days)
    else:
        start = datetime.fromtimestamp(state.last_ts + 60, UTC)
    if start < now:
        n = backfill(engine, state, start, now, console)
        state_path.write_text(json.dumps(state.to_dict()))
        console.print(f"history: {n:,} readings written")
    made = ensure_cost_and_budgets(engine, settings, now)
    if made:
        console.print(f"cost: {', '.join(made)}")
    with Session(engine) as session:  # products with footprints (the products page)
        demo_products.ensure_products(session, now - timedelta(days=days), now, plant.TIMEZONE)
        session.commit()
    ensure_benchmarking(engine, now - timedelta(days=days), now)
    console.print(f"recommendations: {refresh_recommendations(engine, now)} analysed")
    api = _start_api(settings, console)
    base = f"http://{settings.api_host}:{settings.api_port}"
    console.print(f"API:       {base}/docs")
    dash = _start_dashboard(settings, base, wall_token, console)
    if dash is not None:
        ui = f"http://{settings.api_host}:{settings.dashboard_port}"
        console.print(
            f"dashboard: {ui}/wall   (kiosk: {ui}/wall?kiosk=1, display token; "
            f"sign in at {ui}/login for {ui}/engineer, {ui}/manager, {ui}/products)",
            soft_wrap=True,
        )
    if first_password is not None:
        console.print(
            f"first admin: login admin   password {first_password}   (shown only now; "
            "stored as an argon2id hash)",
            soft_wrap=True,
        )
    else:
        console.print("sign in:   as the people you created (`ecc users list`)")
    console.print(
        f"demo key:  {admin_key}   (admin; also in {demo_dir / 'admin.key'})", soft_wrap=True
    )
    console.print(
        f'try:       curl -H "Authorization: Bearer {admin_key}" {base}/api/v1/meters',
        soft_wrap=True,
    )
    field_demo = None
    if field:  # a simulated Modbus meter and a collector reading it (the field path)
        from shell.demo.field import start_field

        ingest_key = ensure_key(engine, demo_dir / "ingest.key", "ingest")
        site = plant.SITES[0]["code"]
        field_demo = start_field(engine, site, base, ingest_key, demo_dir / "field", console)
    jobs = None
    if stream:  # the periodic jobs (forecasts, stale-data and demand alarms): one scheduler
        log = (demo_dir / "scheduler.log").open("ab")
        jobs = subprocess.Popen(
            [sys.executable, "-m", "shell.cli", "scheduler"],
            env=os.environ.copy(),
            stdout=log,
            stderr=log,
        )
        console.print(f"scheduler: running (log in {demo_dir / 'scheduler.log'})")
    try:
        if stream:
            _stream(base, admin_key, state, state_path, stream_every_s, console)
    finally:
        if field_demo is not None:
            field_demo.stop()
        if jobs is not None:
            jobs.send_signal(signal.SIGINT)
            try:
                jobs.wait(timeout=10)
            except subprocess.TimeoutExpired:
                jobs.kill()
        if dash is not None:
            dash.terminate()
            try:
                dash.wait(timeout=10)
            except subprocess.TimeoutExpired:
                dash.kill()
        api.send_signal(signal.SIGINT)
        try:
            api.wait(timeout=10)
        except subprocess.TimeoutExpired:
            api.kill()
        state_path.write_text(json.dumps(state.to_dict()))
        engine.dispose()
        console.print("demo stopped; data kept for the next run")


def _stream(
    base: str,
    key: str,
    state: history.GeneratorState,
    state_path: Path,
    every_s: float,
    console: Console,
) -> None:
    """Post one reading per meter every ``every_s`` seconds through the HTTP API."""
    console.print(f"streaming live readings every {every_s:g} s — Ctrl-C stops")
    headers = {"Authorization": f"Bearer {key}"}
    sent, posts = 0, 0
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        try:
            while True:
                ts = datetime.now(UTC)
                values = history.live_step(plant.METERS, state, ts)
                body = {
                    "readings": [
                        {"meter": code, "ts": ts.isoformat(), "value": v}
                        for code, v in values.items()
                    ]
                }
                try:
                    out = client.post("/api/v1/readings", json=body).json()
                    sent += out.get("accepted", 0)
                    posts += 1
                    if out.get("rejected"):
                        console.print(f"[red]rejected: {out['rejected'][:2]}[/]")
                except httpx.HTTPError as exc:
                    console.print(f"[yellow]API unreachable ({exc}); retrying[/]")
                if posts % max(1, round(60 / every_s)) == 1:
                    state_path.write_text(json.dumps(state.to_dict()))
                    console.print(f"{ts:%H:%M:%S} live readings stored: {sent:,}")
                time.sleep(max(0.0, every_s - (datetime.now(UTC) - ts).total_seconds()))
        except KeyboardInterrupt:
            pass
