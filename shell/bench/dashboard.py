"""``ecc bench dashboard``: the wall screen's refresh on a large plant, and its first paint.

A bench plant (``BENCH-DASH``: one site, ten workshops with two lines each) with 200 meters
(grid incomer counter, PV, export, demand gauge, gas main and ten gas sub-meters, purchased
steam, ten workshop feeders and 174 line meters) gets ``days`` of 1-minute history up to
now by binary COPY, its rollups are folded, then the real API (uvicorn) and the real
dashboard (``ecc dashboard``) are started on free ports. Measured:

* ``refresh_ms_*`` — server time of the wall's complete refresh: the one Dash callback
  request the browser sends every 5 s, captured once from Chromium and replayed ``refreshes``
  times (p50 / p95 / max). It includes every API call behind it (totals, series, carbon,
  alarms) and the figures. Carbon figures are served stale-while-revalidate (≤ 60 s old), so
  ``refresh_uncached_ms_p50`` also gives the refresh computed from scratch (fresh client,
  no cache) and ``refresh_first_ms`` the very first refresh after the dashboard started.
* ``first_contentful_paint_ms``, ``wall_tiles_ms`` and ``wall_complete_ms`` — a new browser
  (empty profile) loading ``/wall``: first paint, the KPI tiles showing their numbers, and the
  Sankey and the trend drawn too (median of three).

The bench data is deleted afterwards unless ``keep`` (then the next run tops it up to now).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import psycopg
from rich.console import Console
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from accounts import keys
from carbon import factors
from core.db import libpq_url
from core.errors import NotFound
from core.settings import Settings
from metering import registry
from metering.rollups import refresh_all, refresh_pending_timescale
from shell.bench.server import free_port, start_api
from shell.processes import wait_until_answering
from shell.runtime import open_database

SITE = "BENCH-DASH"
CONTRACT_KW = 9000.0  # the bench plant's contracted demand (its site's own)
N_WORKSHOPS = 10
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
COPY_SQL = "COPY reading (meter_id, ts, value, energy) FROM STDIN (FORMAT BINARY)"
CHROMIUM = "/usr/bin/chromium"
# Records when the tiles and the graphs first appear (performance.now(), ms).
MILESTONES = """
window.__ecc = {};
new MutationObserver(() => {
  const t = Math.round(performance.now());
  for (const [k, sel] of [['tiles', '#tile-energy_today .tile-num'],
                          ['sankey', '#wall-sankey g.sankey'],
                          ['trend', '#wall-trend g.scatterlayer .trace']])
    if (!window.__ecc[k] && document.querySelector(sel)) window.__ecc[k] = t;
}).observe(document, {subtree: true, childList: true});
"""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# -- the bench plant -----------------------------------------------------------------------


def _plant(n_meters: int) -> tuple[list[dict], list[dict]]:
    """Sites and meters (API contract shape) of the bench plant."""
    ws = [f"BD-WS{i:02d}" for i in range(1, N_WORKSHOPS + 1)]
    sites = [
        {
            "code": SITE,
            "name": "Dashboard bench plant",
            "parent": None,
            "region": "east_china",
            "contracted_demand_kw": CONTRACT_KW,
        }
    ]
    for w in ws:
        sites.append(
            {"code": w, "name": f"Workshop {w[-2:]}", "parent": SITE, "region": "east_china"}
        )
        sites += [
            {"code": f"{w}-L{k}", "name": f"Line {w[-2:]}-{k}", "parent": w, "region": "east_china"}
            for k in (1, 2)
        ]

    def m(
        code: str,
        site: str,
        carrier: str,
        kind: str,
        unit: str,
        parent: str | None = None,
    ) -> dict:
        return {
            "code": code,
            "name": code,
            "site": site,
            "parent": parent,
            "carrier": carrier,
            "unit": unit,
            "kind": kind,
            "interval_s": 60,
        }

    meters = [
        m("BD-IN", SITE, "electricity", "counter", "kWh"),
        m("BD-PV", SITE, "pv_generation", "delta", "kWh"),
        m("BD-EX", SITE, "grid_export", "delta", "kWh"),
        m("BD-KW", SITE, "electricity", "gauge", "kW"),
        m("BD-GAS", SITE, "natural_gas", "delta", "m3"),
        m("BD-STEAM", ws[0], "steam", "delta", "t"),
    ]
    meters += [
        m(f"BD-F{i:02d}", w, "electricity", "delta", "kWh", "BD-IN") for i, w in enumerate(ws, 1)
    ]
    meters += [
        m(f"BD-G{i:02d}", w, "natural_gas", "delta", "m3", "BD-GAS") for i, w in enumerate(ws, 1)
    ]
    for j in range(max(0, n_meters - len(meters))):
        f = j % N_WORKSHOPS
        meters.append(
            m(
                f"BD-F{f + 1:02d}-L{j // N_WORKSHOPS + 1:02d}",
                f"{ws[f]}-L{(j // N_WORKSHOPS) % 2 + 1}",
                "electricity",
                "delta",
                "kWh",
                f"BD-F{f + 1:02d}",
            )
        )
    return sites, meters[:n_meters]


def _ensure_plant(engine: Engine, n_meters: int) -> dict[str, int]:
    sites, meters = _plant(n_meters)
    with Session(engine) as session:
        for s in sites:
            try:
                site = registry.get_site(session, s["code"])
            except NotFound:
                registry.create_site(session, registry.SiteIn(**s))
                session.flush()
            else:  # a plant kept from a run before sites had their own contract
                if s.get("contracted_demand_kw") and site.contracted_demand_kw is None:
                    registry.update_site_settings(
                        session, s["code"], contracted_demand_kw=s["contracted_demand_kw"]
                    )
        existing = registry.meter_infos(session, [m["code"] for m in meters])
        for m in meters:
            if m["code"] not in existing:
                registry.create_meter(session, registry.MeterIn(**m))
                session.flush()
        factors.materialise(session)  # the wall's carbon figures then find them stored
        session.commit()
        infos = registry.meter_infos(session, [m["code"] for m in meters])
    return {code: info.id for code, info in infos.items()}


def _ensure_cost(engine: Engine, now: datetime) -> None:
    """The cost and budget tiles on: a Jiangsu two-part tariff with a contracted demand and
    this year's cost and electricity budgets for the bench plant."""
    from budgets import service as budgets
    from cost import tariffs

    with Session(engine) as session:
        if not tariffs.list_tariffs(session, "BENCH-JS"):
            tariffs.create_tariff(
                session,
                tariffs.TariffIn(
                    code="BENCH-JS",
                    name="Jiangsu two-part (bench prices)",
                    valid_from=date(2025, 6, 1),
                    template="jiangsu-2025-two-part",
                    flat_price_cny_per_kwh=Decimal("0.62"),
                    demand_charge={
                        "basis": "max_demand",
                        "price_cny_per_kw_month": 40,
                        "contracted_kw": 9000,
                    },
                    power_factor_standard=Decimal("0.90"),
                ),
                "bench",
            )
            tariffs.assign(session, SITE, "BENCH-JS", date(2025, 6, 1), "bench")
        site = registry.get_site(session, SITE)
        year = now.astimezone(ZoneInfo("Asia/Shanghai")).year
        for quantity, amount in (("cost_cny", 30_000_000), ("electricity_kwh", 45_000_000)):
            if budgets.current(session, site, quantity, year) is None:
                budgets.create_budget(
                    session,
                    budgets.BudgetIn(SITE, quantity, year, amount=Decimal(amount)),
                    "bench",
                )
        session.commit()


# -- history -------------------------------------------------------------------------------


def _profile(minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Production level (two shifts, weekends low) and PV shape at UTC epoch minutes."""
    local = minutes + 8 * 60  # Asia/Shanghai
    hour = (local % 1440) / 60.0
    weekday = (local // 1440 + 3) % 7  # 1970-01-01 was a Thursday
    level = np.where((hour >= 8) & (hour < 20), 1.0, 0.55)
    level = np.where(weekday >= 5, 0.3, level)
    pv = np.clip(np.sin((hour - 6.0) / 12.0 * np.pi), 0.0, None)
    return level, pv


def _series(
    meters: list[dict], minutes: np.ndarray, in_start: float
) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """``code → (value, energy)`` at these minutes: lines add up to feeders (+3 %), feeders
    to the incomer (+1 %, less PV used on site), gas sub-meters to the gas main (+2 %)."""
    level, pv_shape = _profile(minutes)
    n = len(minutes)
    out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    feeders: dict[str, np.ndarray] = {}
    for i, m in enumerate(meters):
        if m["parent"] and m["parent"].startswith("BD-F"):
            rng = np.random.default_rng([i, int(minutes[0])])
            v = (0.5 + (i * 37 % 100) / 40.0) * level * (1 + 0.05 * rng.standard_normal(n))
            v = np.clip(v, 0.0, None)
            out[m["code"]] = (v, v)
            feeders[m["parent"]] = feeders.get(m["parent"], 0.0) + v
    for code, total in feeders.items():
        out[code] = (total * 1.03, total * 1.03)
    load = sum(v for c, (v, _) in out.items() if c in feeders) * 1.01
    pv = 0.25 * float(np.mean(load)) * pv_shape
    export = np.clip(pv - 0.8 * load, 0.0, None)
    grid = np.clip(load - pv + export, 0.0, None)
    register = in_start + np.cumsum(grid)
    out["BD-IN"] = (register, grid)
    out["BD-PV"], out["BD-EX"] = (pv, pv), (export, export)
    out["BD-KW"] = (grid * 60.0, None)
    gas = 0.0
    for i in range(1, N_WORKSHOPS + 1):
        g = (1.0 + i / 10.0) * level
        out[f"BD-G{i:02d}"] = (g, g)
        gas = gas + g
    out["BD-GAS"] = (gas * 1.02, gas * 1.02)
    out["BD-STEAM"] = (0.02 * level, 0.02 * level)
    return {c: out[c] for c in (m["code"] for m in meters) if c in out}


def _copy_payload(
    meter_id: int, minutes: np.ndarray, value: np.ndarray, energy: np.ndarray | None
) -> bytes:
    ts = (minutes * 60 - int(PG_EPOCH.timestamp())) * 1_000_000
    fields = [
        ("nf", ">i2"),
        ("l1", ">i4"),
        ("m", ">i4"),
        ("l2", ">i4"),
        ("ts", ">i8"),
        ("l3", ">i4"),
        ("v", ">f8"),
        ("l4", ">i4"),
    ]
    if energy is not None:
        fields.append(("e", ">f8"))
    arr = np.empty(len(minutes), dtype=np.dtype(fields))
    arr["nf"], arr["l1"], arr["m"], arr["l2"], arr["ts"] = 4, 4, meter_id, 8, ts
    arr["l3"], arr["v"] = 8, value
    if energy is not None:
        arr["l4"], arr["e"] = 8, energy
    else:
        arr["l4"] = -1
    return arr.tobytes()


def _fill(
    url: str, engine: Engine, ids: dict[str, int], meters: list[dict], days: int, console: Console
) -> int:
    """Top the bench history up to the last full minute; returns readings written."""
    now_min = int(datetime.now(UTC).timestamp() // 60) - 1
    with engine.connect() as conn:
        last = conn.execute(
            text("SELECT max(ts) FROM reading WHERE meter_id = :m"), {"m": ids["BD-IN"]}
        ).scalar()
        reg = conn.execute(
            text("SELECT value FROM reading WHERE meter_id = :m ORDER BY ts DESC LIMIT 1"),
            {"m": ids["BD-IN"]},
        ).scalar()
    first = now_min - days * 1440 + 1 if last is None else int(last.timestamp() // 60) + 1
    if first > now_min:
        return 0
    step = 7 * 1440  # one week per COPY chunk
    chunks = [
        np.arange(a, min(a + step, now_min + 1), dtype=np.int64)
        for a in range(first, now_min + 1, step)
    ]
    console.print(
        f"writing {len(chunks)} week(s) × {len(meters)} meters of 1-minute history "
        "and folding its rollups …"
    )
    register = float(reg or 0.0)
    written = 0
    for minutes in chunks:
        data = _series(meters, minutes, register)
        register = float(data["BD-IN"][0][-1])
        payloads = [_copy_payload(ids[c], minutes, v, e) for c, (v, e) in data.items()]
        parts = [payloads[k::4] for k in range(4)]

        def copy(part: list[bytes]) -> None:
            with psycopg.connect(libpq_url(url)) as conn, conn.cursor().copy(COPY_SQL) as cp:
                cp.write(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8)
                for p in part:
                    cp.write(p)
                cp.write(b"\xff\xff")

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(copy, parts))
        written += len(minutes) * len(data)
        lo, hi = (datetime.fromtimestamp(int(minutes[i]) * 60, UTC) for i in (0, -1))
        with psycopg.connect(libpq_url(url)) as conn:
            conn.execute(
                "INSERT INTO rollup_pending (meter_id, lo, hi) SELECT unnest(%s::int[]), %s, %s",
                (list(ids.values()), lo, hi),
            )
        _fold_rollups(url)  # week by week: bounded transactions
    return written


def _fold_rollups(url: str) -> None:
    """Fold the queued ranges into the 15 min, 1 h and 1 day rollups (or refresh the
    continuous aggregates over them on TimescaleDB)."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        meta = dict(conn.execute("SELECT key, value FROM ecc_meta").fetchall())
        if meta.get("timeseries_path") == "timescaledb":
            while refresh_pending_timescale(conn):
                pass
    if meta.get("timeseries_path") != "timescaledb":
        with psycopg.connect(libpq_url(url)) as conn:
            refresh_all(conn)


def _cleanup(engine: Engine, ids: list[int]) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM reading WHERE meter_id = ANY(:m)"), {"m": ids})
        path = conn.execute(text("SELECT value FROM ecc_meta WHERE key='timeseries_path'")).scalar()
        if path == "postgresql":
            conn.execute(text("DELETE FROM rollup_pending WHERE meter_id = ANY(:m)"), {"m": ids})
            for level in ("15m", "1h"):
                conn.execute(
                    text(f"DELETE FROM rollup_{level} WHERE meter_id = ANY(:m)"), {"m": ids}
                )


# -- processes ------------------------------------------------------------------------------


def _start_dashboard(
    api_url: str, key: str, workdir: Path, timeout_s: float = 90.0
) -> tuple[subprocess.Popen, str]:
    """``ecc dashboard`` on a free port reading ``api_url``; waits until /wall answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    env.update(
        {
            "ECC_API_URL": api_url,
            "ECC_DASHBOARD_KEY": key,
            "ECC_LOG_LEVEL": "warning",
            "ECC_DATA_DIR": str(workdir),
            "ECC_WALL_TILES": _tiles_setting(),
        }
    )
    with (workdir / "bench-dashboard.log").open("ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shell.cli",
                "dashboard",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_until_answering(proc, f"{url}/wall", "the dashboard", timeout_s)
    return proc, url


# -- measurements ---------------------------------------------------------------------------


def _browser_runs(dash_url: str, runs: int = 3) -> tuple[dict, list[dict]]:
    """Capture the wall's refresh request and time first paint in ``runs`` fresh browsers."""
    from playwright.sync_api import sync_playwright

    captured: dict = {}
    paints = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for i in range(runs):
                ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
                ctx.add_init_script(MILESTONES)
                page = ctx.new_page()
                refreshes: list = []

                def on_done(request, into=refreshes) -> None:  # noqa: ANN001
                    if "_dash-update-component" in request.url and "wall-kpis" in (
                        request.post_data or ""
                    ):
                        into.append(request)

                page.on("requestfinished", on_done)
                page.goto(f"{dash_url}/wall?site={SITE}")
                page.wait_for_selector("#tile-energy_today .tile-num", timeout=60_000)
                page.wait_for_selector("#wall-sankey g.sankey", timeout=60_000)
                page.wait_for_selector("#wall-trend g.scatterlayer .trace", timeout=60_000)
                marks = page.evaluate("window.__ecc")
                fcp = page.evaluate(
                    "(performance.getEntriesByName('first-contentful-paint')"
                    "[0] || {}).startTime || null"
                )
                first = refreshes[0] if refreshes else None
                timing = first.timing if first else {}
                paints.append(
                    {
                        "fcp": fcp,
                        "tiles": marks.get("tiles"),
                        "complete": max(marks.get("sankey", 0), marks.get("trend", 0)),
                        "refresh_ms": (timing.get("responseEnd", 0) - timing.get("requestStart", 0))
                        if first
                        else None,
                    }
                )
                if i == 0 and first is not None:
                    captured = {
                        "url": first.url,
                        "body": first.post_data,
                        "headers": {"content-type": "application/json"},
                    }
                ctx.close()
        finally:
            browser.close()
    return captured, paints


def _replay(captured: dict, n: int) -> list[float]:
    out = []
    with httpx.Client(timeout=60) as client:
        for _ in range(n):
            t0 = time.perf_counter()
            r = client.post(captured["url"], content=captured["body"], headers=captured["headers"])
            out.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
            time.sleep(0.2)
    return out


def _tiles_setting() -> str:
    """The wall's tiles as this process is configured (``ECC_WALL_TILES``; default: all, the
    cost and budget tiles included)."""
    return Settings().wall_tiles


def _uncached(api_url: str, key: str, n: int = 5) -> list[float]:
    """The wall's snapshot and figures with a fresh client (no cache) every time."""
    from dashboard import snapshots
    from dashboard.client import ApiClient
    from dashboard.components import alarm_banner, kpi_tile
    from dashboard.figures.wall import load_trend, sankey

    out = []
    for _ in range(n):
        api = ApiClient(api_url, key)
        t0 = time.perf_counter()
        snap = snapshots.wall_snapshot(api, SITE, "en", tiles=_tiles_setting().split(","))
        [kpi_tile(k, "en") for k in snap.kpis]
        alarm_banner(snap.alarms, "en")
        json.dumps(
            [
                sankey(snap.flows, 1.2),
                load_trend(snap.load, snap.forecast, snap.contracted_kw, snap.tz, 1.2),
            ]
        )
        out.append((time.perf_counter() - t0) * 1000)
        api.close()
    return out


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def run_dashboard_bench(
    settings: Settings, *, meters: int, days: int, refreshes: int, keep: bool, console: Console
) -> dict:
    url, engine = open_database(settings, upgrade=True)
    ids = _ensure_plant(engine, meters)
    _ensure_cost(engine, datetime.now(UTC))
    _, plant_meters = _plant(meters)
    t0 = time.perf_counter()
    written = _fill(url, engine, ids, plant_meters, days, console)
    setup_s = time.perf_counter() - t0
    with engine.connect() as conn:
        n_readings = conn.execute(
            text("SELECT count(*) FROM reading WHERE meter_id = ANY(:m)"), {"m": list(ids.values())}
        ).scalar()
        path = conn.execute(text("SELECT value FROM ecc_meta WHERE key='timeseries_path'")).scalar()
    with Session(engine) as session:
        key = keys.create_key(session, "viewer", f"bench-dashboard-{int(time.time())}")
        session.commit()
    workdir = settings.data_dir / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    api = dash = None
    try:
        api_port = free_port()
        api = start_api(url, api_port, 1, env={"ECC_LOG_LEVEL": "warning"}, timeout_s=90)
        api_url = f"http://127.0.0.1:{api_port}"
        dash, dash_url = _start_dashboard(api_url, key, workdir)
        console.print("first paint of /wall in Chromium (3 fresh browsers) …")
        captured, paints = _browser_runs(dash_url)
        if not captured:
            raise RuntimeError("the wall's refresh request was not seen")
        console.print(f"replaying the wall refresh {refreshes} times …")
        times = _replay(captured, refreshes)
        uncached = _uncached(api_url, key)
    finally:
        for proc in (dash, api):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if not keep:
            _cleanup(engine, list(ids.values()))
        engine.dispose()
    return {
        "refresh_ms_p50": round(statistics.median(times), 1),
        "refresh_ms_p95": round(_pct(times, 0.95), 1),
        "refresh_ms_max": round(max(times), 1),
        "refresh_uncached_ms_p50": round(statistics.median(uncached), 1),
        "refresh_first_ms": round(paints[0]["refresh_ms"], 1) if paints[0]["refresh_ms"] else None,
        "first_contentful_paint_ms": round(
            statistics.median([p["fcp"] for p in paints if p["fcp"] is not None]), 1
        ),
        "wall_tiles_ms": round(statistics.median([p["tiles"] for p in paints]), 1),
        "wall_complete_ms": round(statistics.median([p["complete"] for p in paints]), 1),
        "targets": {"refresh_ms": 300, "first_paint_ms": 2000},
        "meters": meters,
        "days": days,
        "readings": int(n_readings),
        "readings_written": written,
        "setup_s": round(setup_s, 1),
        "refreshes": refreshes,
        "path": path,
        "wall_tiles": _tiles_setting(),
    }
