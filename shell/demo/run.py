"""``ecc demo``: database → schema → demo plant → 90 days of history → API → live stream.

A second run reuses everything: the plant exists, the generator state is in
``data_dir/demo/state.json`` and exactly the readings the stream would have sent while the
demo was stopped are written (the generator is deterministic and readings are idempotent:
a reading sent twice is stored once). The live stream sends, every few seconds, the
minutes that have become due on the same 1-minute grid as the history, so history, stream
and gap fill are one series. Output is recorded per shift; the API, dashboard and
scheduler are supervised (:mod:`shell.processes`); every line fits 80 columns.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn
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
from shell.processes import Child, ChildFailed, DidNotStart, Supervisor, wait_until_answering
from shell.runtime import open_database

SEED = 42
BATCH = 20_000
STEP_S = 60  # the grid of history and stream alike (a reading per meter per minute)
WIDTH = 80  # every console line fits a default terminal
UNREACHABLE_S = 30.0  # the API not answering this long while its process lives: restart it
START_TIMEOUT_S = 90.0  # a child answering later than this has not started (a loaded machine)


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
    total_points = int((end - start).total_seconds() // STEP_S) * len(plant.METERS)
    written = 0
    items = RawItems()
    console.print(f"history:   {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC")
    with Progress(*progress_columns(), console=console) as progress:
        task = progress.add_task("backfill", total=total_points)

        def flush() -> None:
            nonlocal items, written
            out = ingest_items(ctx, items, key_name="demo-backfill", source="demo")
            if out["rejected"]:
                raise RuntimeError(f"demo data rejected: {out['rejected'][:3]}")
            written += out["accepted"]
            progress.update(task, advance=len(items))
            items = RawItems()

        for chunk in history.generate(
            plant.METERS, start, end, step_s=STEP_S, seed=SEED, state=state
        ):
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


def progress_columns() -> tuple:
    """The backfill's progress line: short label, bar, percent, time left (fits 80 columns)."""
    return (
        "[progress.description]{task.description}",
        BarColumn(bar_width=40),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )


def database_label(url: str, embedded: bool, data_dir: Path) -> str:
    """The database in a few words: never the whole embedded URL (a socket path and options
    that wrap on a terminal), never a password."""
    from sqlalchemy.engine import make_url

    if embedded:
        return f"embedded PostgreSQL in {shown(data_dir / 'pg')}"
    u = make_url(url)
    where = f"{u.host or 'local socket'}{f':{u.port}' if u.port else ''}/{u.database or ''}"
    label = f"{u.username + '@' if u.username else ''}{where}"
    room = WIDTH - len("database:  ")
    return label if len(label) <= room else label[: room // 2 - 1] + "…" + label[-(room // 2) :]


def shown(path: Path) -> str:
    """``path`` as short as it reads: relative to the working folder, or from ``~``."""
    full = path.resolve()
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        try:
            return prefix + str(full.relative_to(base))
        except ValueError:
            continue
    return str(full)


def print_lines(console: Console, label: str, lines: list[str]) -> None:
    """``label`` then one item per line, aligned, each line within 80 columns."""
    pad = " " * 11
    for k, line in enumerate(lines):
        head = f"{label + ':':<10} " if k == 0 else pad
        console.print(head + line, soft_wrap=True, highlight=False, markup=False)


def print_banner(
    console: Console,
    *,
    api: str,
    ui: str | None,
    first_password: str | None,
    admin_key: str,
    key_path: Path,
) -> None:
    """What to open and how to sign in, every line within 80 columns (the key is printed
    whole on its own line; the curl example reads it from its file)."""
    print_lines(console, "API", [f"{api}/docs"])
    if ui is not None:
        print_lines(
            console,
            "dashboard",
            [
                f"{ui}/wall  (display token)",
                f"{ui}/wall?kiosk=1  (kiosk)",
                f"{ui}/login  → /engineer, /manager, /products",
            ],
        )
    if first_password is not None:
        print_lines(
            console,
            "first admin",
            [f"login admin   password {first_password}", "(shown only now; stored as argon2id)"],
        )
    else:
        print_lines(console, "sign in", ["as the people you created (`ecc users list`)"])
    print_lines(console, "demo key", [admin_key, f"(admin; also in {shown(key_path)})"])
    print_lines(
        console,
        "try",
        [
            f"KEY=$(cat {shown(key_path)})",
            'curl -H "Authorization: Bearer $KEY" \\',
            f"  {api}/api/v1/meters",
        ],
    )


def _start_api(settings: Settings, log_path: Path) -> subprocess.Popen:
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
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT)
    health = f"http://{settings.api_host}:{settings.api_port}/healthz"
    wait_until_answering(proc, health, "the API", timeout_s=START_TIMEOUT_S)
    return proc


def _start_dashboard(
    settings: Settings, api_base: str, key: str, log_path: Path
) -> subprocess.Popen:
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
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{settings.api_host}:{settings.dashboard_port}/wall"
    wait_until_answering(proc, url, "the dashboard", timeout_s=START_TIMEOUT_S)
    return proc


def _start_scheduler(log_path: Path) -> subprocess.Popen:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "shell.cli", "scheduler"],
            env=os.environ.copy(),
            stdout=log,
            stderr=log,
        )


def resume(
    path: Path, now: datetime, days: int, say: Callable[[str], None]
) -> tuple[history.GeneratorState, datetime]:
    """The generator state kept in ``path`` and the first minute not sent yet; a first run
    starts ``days`` before ``now``. A state of an earlier version (no midnight checkpoint)
    resumes at the next local midnight after its last reading."""
    if path.exists():
        state = history.GeneratorState.from_dict(json.loads(path.read_text()))
        if state.last_ts is not None:
            if state.day is None:
                state.day = history.local_day(state.last_ts) + 1
                start = datetime.fromtimestamp(state.day * 86400 - history.TZ_OFFSET_S, UTC)
                say(f"state of an earlier version: resuming at {start:%Y-%m-%d %H:%M} UTC")
                return state, start
            return state, datetime.fromtimestamp(state.last_ts + state.step_s, UTC)
    return history.GeneratorState(seed=SEED, step_s=STEP_S), now - timedelta(days=days)


def _save(state: history.GeneratorState, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.to_dict()))
    tmp.replace(path)  # a kill mid-write leaves the old state, never half a file


class Streamer:
    """The live stream: each :meth:`tick` sends the minutes that have become due since the
    last one sent (at most ``max_minutes`` at a time), generated on the history's grid, and
    keeps the state only once the sink has taken them. ``sink`` returns how many it
    stored; it raises to say nothing was taken (they are sent again next tick)."""

    def __init__(
        self,
        state: history.GeneratorState,
        path: Path,
        sink: Callable[[list[dict]], int],
        max_minutes: int = 60,
    ) -> None:
        self.state = state
        self.path = path
        self.sink = sink
        self.max_minutes = max_minutes
        self.sent = 0

    def due(self, now: datetime) -> list[dict]:
        """The readings of the minutes in (last sent, now] (not sent yet), oldest first;
        advances a copy of the state (kept by :meth:`tick` after the sink took them)."""
        step = self.state.step_s
        lo = (self.state.last_ts or now.timestamp() - step) + step
        hi = min(now.timestamp() // step * step, lo + step * (self.max_minutes - 1))
        if hi < lo:
            return []
        self._next = history.GeneratorState.from_dict(self.state.to_dict())
        chunks = history.generate(
            plant.METERS,
            datetime.fromtimestamp(lo, UTC),
            datetime.fromtimestamp(hi + 1, UTC),
            step_s=step,
            seed=int(self.state.seed or SEED),
            state=self._next,
        )
        rows = [
            {"meter": ch.meter, "ts": datetime.fromtimestamp(int(t), UTC).isoformat(), "value": v}
            for ch in chunks
            for t, v in zip(ch.ts.tolist(), ch.value.tolist(), strict=True)
        ]
        rows.sort(key=lambda r: r["ts"])
        return rows

    def tick(self, now: datetime) -> int:
        rows = self.due(now)
        if not rows:
            return 0
        self.sent += self.sink(rows)
        self.state.__dict__.update(self._next.__dict__)
        _save(self.state, self.path)
        return len(rows)


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
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    demo_dir = settings.data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C: the generator state is saved
    console.print("[bold]Energy-carbon management center — demo[/]")
    url, engine = open_database(settings, upgrade=True)
    print_lines(
        console, "database", [database_label(url, not settings.database_url, settings.data_dir)]
    )
    ensure_plant(engine)
    ensure_carbon_assets(engine, clock())
    admin_key = ensure_key(engine, demo_dir / "admin.key", "admin")
    wall_token = ensure_display(engine, demo_dir / "display.key", plant.SITES[0]["code"])
    first_password = ensure_first_admin(engine)
    state_path = demo_dir / "state.json"
    now = clock().replace(second=0, microsecond=0)
    state, start = resume(state_path, now, days, console.print)
    if start < now:
        n = backfill(engine, state, start, now, console)
        _save(state, state_path)
        console.print(f"history:   {n:,} readings written")
    made = ensure_cost_and_budgets(engine, settings, now)
    if made:
        print_lines(console, "cost", made)
    with Session(engine) as session:  # products with footprints, output per shift
        demo_products.ensure_products(session, now - timedelta(days=days), now, plant.TIMEZONE)
        session.commit()
    ensure_benchmarking(engine, now - timedelta(days=days), now)
    console.print(f"advice:    {refresh_recommendations(engine, now)} recommendations analysed")
    base = f"http://{settings.api_host}:{settings.api_port}"
    sup = Supervisor(lambda m: console.print(f"[yellow]{m}[/]", soft_wrap=False))
    ui = None
    try:
        sup.add(
            Child(
                "the API",
                lambda: _start_api(settings, demo_dir / "api.log"),
                True,
                demo_dir / "api.log",
            )
        )
        try:
            dash_log = demo_dir / "dashboard.log"
            sup.add(
                Child(
                    "the dashboard",
                    lambda: _start_dashboard(settings, base, wall_token, dash_log),
                    False,
                    dash_log,
                )
            )
            ui = f"http://{settings.api_host}:{settings.dashboard_port}"
        except DidNotStart as exc:
            console.print(f"[yellow]{exc}; the API runs without it (log: {shown(dash_log)})[/]")
        print_banner(
            console,
            api=base,
            ui=ui,
            first_password=first_password,
            admin_key=admin_key,
            key_path=demo_dir / "admin.key",
        )
        field_demo = None
        if field:  # a simulated Modbus meter and a collector reading it (the field path)
            from shell.demo.field import start_field

            ingest_key = ensure_key(engine, demo_dir / "ingest.key", "ingest")
            site = plant.SITES[0]["code"]
            field_demo = start_field(engine, site, base, ingest_key, demo_dir / "field", console)
        try:
            if stream:  # the periodic jobs (forecasts, stale-data and demand alarms)
                log = demo_dir / "scheduler.log"
                sup.add(Child("the scheduler", lambda: _start_scheduler(log), False, log))
                print_lines(console, "scheduler", [f"running (log: {shown(log)})"])
                _stream(
                    engine, base, admin_key, state, state_path, stream_every_s, console, sup, clock
                )
        finally:
            if field_demo is not None:
                field_demo.stop()
    except ChildFailed as exc:
        console.print(f"[red]demo stopped: {exc}[/]", soft_wrap=False)
        raise SystemExit(1) from None
    except DidNotStart as exc:  # the API's first start
        console.print(
            f"[red]demo stopped: {exc}; log: {shown(demo_dir / 'api.log')}[/]", soft_wrap=False
        )
        raise SystemExit(1) from None
    finally:
        sup.stop_all()
        _save(state, state_path)
        engine.dispose()
    console.print("demo stopped; data kept for the next run")


def _stream(
    engine: Engine,
    base: str,
    key: str,
    state: history.GeneratorState,
    state_path: Path,
    every_s: float,
    console: Console,
    sup: Supervisor,
    clock: Callable[[], datetime],
) -> None:
    """Send the due minutes through the HTTP API every ``every_s`` seconds, record each
    shift's output when it begins, and keep the children up."""
    console.print("streaming: a reading per meter per minute, sent as due — Ctrl-C stops")
    headers = {"Authorization": f"Bearer {key}"}
    zone = ZoneInfo(plant.TIMEZONE)
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:

        def post(rows: list[dict]) -> int:
            resp = client.post("/api/v1/readings", json={"readings": rows})
            resp.raise_for_status()
            out = resp.json()
            if out.get("rejected"):
                console.print(f"[red]rejected: {str(out['rejected'][:1])[:60]}[/]")
            return int(out.get("accepted", 0))

        streamer = Streamer(state, state_path, post)
        failing_since: float | None = None
        shift = None
        try:
            while True:
                started = time.monotonic()
                now = clock()
                sup.check()
                try:
                    if streamer.tick(now):
                        console.print(f"{now:%H:%M:%S} live readings stored: {streamer.sent:,}")
                    failing_since = None
                except httpx.HTTPError as exc:
                    failing_since = failing_since or started
                    down = started - failing_since
                    console.print(
                        f"[yellow]API not answering ({type(exc).__name__}), {down:.0f} s[/]"
                    )
                    if down >= UNREACHABLE_S:
                        sup.restart("the API", f"did not answer for {down:.0f} s")
                        failing_since = None
                local = now.astimezone(zone)
                if shift != (local.date(), local.hour // 8):
                    shift = (local.date(), local.hour // 8)
                    with Session(engine) as session:
                        demo_products.record_shifts(session, now - timedelta(days=1), now, zone)
                        session.commit()
                time.sleep(max(0.0, every_s - (time.monotonic() - started)))
        except KeyboardInterrupt:
            pass
