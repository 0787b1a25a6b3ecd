"""The browser tests' scaffolding: Debian's Chromium driven by Playwright against the real
API (uvicorn on a free port) and the real dashboard (``ecc dashboard`` on another free port,
its own key a display token for the wall; pages other than the wall are used by a signed-in
engineer).

``stack`` (module scope) runs both on the session's test database; a module that needs lists
holding only its own rows runs them on a database of its own instead::

    @pytest.fixture(scope="module")
    def stack(tmp_path_factory):
        with fresh_database("ecc_console") as (url, engine):
            with run_stack(url, engine, tmp_path_factory.mktemp("dash")) as st:
                yield st

The plant (``seed_plant``): a site with a grid incomer, two workshop feeders, PV and export,
gas with a sub-meter, purchased steam; 26 hours of 1-minute readings ending a minute before
the stack started (``stack["end"]``).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest

from shell import processes
from tests.support.accounts import PASSWORD, make_user
from tests.support.db import make_key
from tests.support.live_server import REPO_ROOT, LiveServer, free_port

try:
    from playwright import sync_api as playwright
except ImportError:  # the browser modules skip (NEEDS_CHROMIUM)
    playwright = None  # type: ignore[assignment]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "artifacts"
API = "/api/v1"


def plant_zone(now: datetime, local_hour: int = 12) -> str:
    """A fixed-offset zone in which ``now`` falls in the hour ``local_hour``.

    The plant's "today" (the wall's energy and CO2 today, the manager's KPIs) starts at the
    plant's local midnight, so with a fixed zone the figures depend on the hour the suite runs:
    just after midnight "energy today" holds a few minutes of readings (under 1,000 kWh, no
    thousands separator) and a module run can straddle midnight. In a zone where it is noon now,
    today always holds twelve hours of the seeded readings and no midnight falls during the
    run, at whatever hour CI starts. ``ECC_TEST_PLANT_LOCAL_HOUR`` simulates another local hour
    (``0`` reproduces the just-after-midnight case).
    """
    offset = (local_hour - now.astimezone(UTC).hour + 12) % 24 - 12  # -12 … +11 hours
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX sign: GMT-8 is UTC+8


TZ = plant_zone(datetime.now(UTC), int(os.environ.get("ECC_TEST_PLANT_LOCAL_HOUR", "12")))

NEEDS_CHROMIUM = pytest.mark.skipif(
    playwright is None or not Path(CHROMIUM).exists(),
    reason="needs Playwright and Debian's chromium (apt-get install chromium)",
)


def fixed_port_server(db_url: str, workdir: Path, startup_timeout_s: float) -> LiveServer:
    """The API on one port for its whole life, so it can be stopped and started again."""
    return LiveServer(db_url, workdir, startup_timeout_s=startup_timeout_s, port=free_port())


class DashboardServer:
    """``ecc dashboard`` in a subprocess on a free port."""

    def __init__(self, api_url: str, key: str, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
        env.update(
            {
                "ECC_API_URL": api_url,
                "ECC_DASHBOARD_KEY": key,
                "ECC_TIMEZONE": TZ,
                "ECC_CONSOLE_REFRESH_S": "3",  # the console's tick, 10 s in use
                "ECC_LOG_LEVEL": "warning",
            }
        )
        self.log_path = workdir / "dashboard.log"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "shell.cli",
                    "dashboard",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:  # a loaded CI box: up to 2 minutes
            processes.wait_until_answering(self.proc, f"{self.url}/wall", "the dashboard", 120)
        except processes.DidNotStart as exc:
            raise RuntimeError(f"{exc}:\n{self.log_path.read_text()[-3000:]}") from exc

    def stop(self) -> None:
        processes.stop(self.proc, interrupt=False)


def seed_plant(api: httpx.Client, uid: str) -> dict:
    """A small plant with 26 h of 1-minute readings up to the last full minute."""
    site = f"P-{uid}"
    sites = [
        (site, "Test plant 测试工厂", None),
        (f"WA-{uid}", "Workshop A A车间", site),
        (f"WB-{uid}", "Workshop B B车间", site),
    ]
    for code, name, parent in sites:
        r = api.post(
            f"{API}/sites",
            json={
                "code": code,
                "name": name,
                "parent": parent,
                "timezone": TZ,
                "region": "east_china",
                "contracted_demand_kw": 900 if parent is None else None,  # the plant's own
            },
        )
        assert r.status_code == 201, r.text
    c = {k: f"{k}-{uid}" for k in ("IN", "FA", "FB", "PV", "EX", "GAS", "GA", "ST")}
    meters = [
        ("IN", site, None, "electricity", "kWh", "counter"),
        ("FA", f"WA-{uid}", "IN", "electricity", "kWh", "delta"),
        ("FB", f"WB-{uid}", "IN", "electricity", "kWh", "delta"),
        ("PV", site, None, "pv_generation", "kWh", "delta"),
        ("EX", site, None, "grid_export", "kWh", "delta"),
        ("GAS", site, None, "natural_gas", "m3", "delta"),
        ("GA", f"WA-{uid}", "GAS", "natural_gas", "m3", "delta"),
        ("ST", f"WB-{uid}", None, "steam", "t", "delta"),
    ]
    for key, msite, parent, carrier, unit, kind in meters:
        r = api.post(
            f"{API}/meters",
            json={
                "code": c[key],
                "name": f"{key} meter",
                "site": msite,
                "parent": c[parent] if parent else None,
                "carrier": carrier,
                "unit": unit,
                "kind": kind,
                "interval_s": 60,
            },
        )
        assert r.status_code == 201, r.text
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    n = 26 * 60
    stamps = [(end - timedelta(minutes=n - 1 - i)).isoformat() for i in range(n)]
    minute = np.arange(n)
    hour = ((end.timestamp() // 60 - (n - 1) + minute) % 1440) / 60.0 + 8  # local hours
    fa = 8.0 + 2.0 * np.sin(minute / 90.0)
    fb = 4.0 + (np.sin(minute / 37.0) > 0)
    pv = np.clip(3.0 * np.sin((hour % 24 - 6) / 12 * math.pi), 0, None)
    ex = np.clip(pv - 2.5, 0, None)
    grid = fa + fb + 0.4 - (pv - ex)
    values = {
        "IN": 1000.0 + np.cumsum(grid),
        "FA": fa,
        "FB": fb,
        "PV": pv,
        "EX": ex,
        "GAS": np.full(n, 2.0),
        "GA": np.full(n, 1.5),
        "ST": np.full(n, 0.01),
    }
    body = {
        "series": [
            {"meter": c[k], "ts": stamps, "value": v.round(6).tolist()} for k, v in values.items()
        ]
    }
    r = api.post(f"{API}/readings", json=body)
    assert r.status_code == 200 and r.json()["accepted"] == n * len(values), r.text
    # cost and budgets: a Jiangsu two-part tariff, this year's cost budgets (plant, workshop A)
    r = api.post(
        f"{API}/tariffs",
        json={
            "code": f"JS-{uid}",
            "name": "Jiangsu",
            "valid_from": "2020-01-01",
            "template": "jiangsu-2025-two-part",
            "flat_price_cny_per_kwh": 0.6,
            "demand_charge": {"basis": "max_demand", "price_cny_per_kw_month": 40},
        },
    )
    assert r.status_code == 201, r.text
    r = api.put(f"{API}/sites/{site}/tariff", json={"tariff": f"JS-{uid}", "from": "2020-01-01"})
    assert r.status_code == 200, r.text
    year = datetime.now(ZoneInfo(TZ)).year
    for code, amount in ((site, 20000), (f"WA-{uid}", 600)):
        r = api.post(
            f"{API}/budgets",
            json={"site": code, "quantity": "cost_cny", "year": year, "amount": amount},
        )
        assert r.status_code == 201, r.text
    return {"site": site, "codes": c, "end": end}


def engineer_session(api_url: str, engine) -> str:  # noqa: ANN001
    """The session token of a new engineer ("Engineer One") signed in through the API."""
    engineer = make_user(engine, ["engineer"], name="Engineer One")
    r = httpx.post(f"{api_url}{API}/auth/login", json={"login": engineer, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["token"]


@contextmanager
def run_stack(db_url: str, engine, workdir: Path) -> Iterator[dict]:  # noqa: ANN001
    """The API and the dashboard on ``db_url`` with the plant seeded; both stopped on exit."""
    server = fixed_port_server(db_url, workdir, 120).start()  # a loaded CI box
    dash = None
    try:
        admin = server.client(make_key(engine, "admin"))
        plant = seed_plant(admin, uuid.uuid4().hex[:8])
        viewer = server.client(make_key(engine, "viewer"))
        display = admin.post(f"{API}/displays", json={"site": plant["site"]}).json()["secret"]
        dash = DashboardServer(server.url, display, workdir)
        yield {
            "api": server,
            "admin": admin,
            "viewer": viewer,
            "dash": dash,
            "display": display,
            "session": engineer_session(server.url, engine),
            **plant,
        }
    finally:
        if dash is not None:
            dash.stop()
        server.stop()


@pytest.fixture(scope="module")
def stack(db_url: str, engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:  # noqa: ANN001
    """The API and the dashboard on the session's test database, shared with other modules."""
    with run_stack(db_url, engine, tmp_path_factory.mktemp("dash")) as st:
        yield st


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def choose(p, dropdown: str, text: str) -> None:  # noqa: ANN001
    """Open the Dash dropdown ``dropdown`` (a selector), type ``text`` into its search and
    click the first option that shows it: the option itself, as a person would (Enter picks
    whatever is first before the filter has run)."""
    p.click(dropdown)
    p.locator("input.dash-dropdown-search:visible").fill(text)  # focus may be on the value
    p.locator(".dash-dropdown-option", has_text=text).first.click()


class Page:
    """A fresh browser context with console errors collected."""

    def __init__(
        self,
        browser,
        width: int = 1600,
        height: int = 1000,  # noqa: ANN001
        lang: str | None = None,
        base: str = "",
        session: str | None = None,
        locale: str | None = None,
    ) -> None:
        self.ctx = browser.new_context(
            viewport={"width": width, "height": height},
            accept_downloads=True,
            **({"locale": locale} if locale else {}),  # the browser's own language (en-US …)
        )
        if lang:
            self.ctx.add_cookies([{"name": "ecc_lang", "value": lang, "url": base}])
        if session:  # a signed-in person (the sign-in form itself is tested on its own)
            self.ctx.add_cookies([{"name": "ecc_session", "value": session, "url": base}])
        self.page = self.ctx.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def close(self) -> None:
        self.ctx.close()

    def shoot(self, name: str) -> None:
        """The viewport as ``$ECC_SHOTS/name`` when ``ECC_SHOTS`` is set (for a person to
        look at; nothing is written otherwise)."""
        shots = os.environ.get("ECC_SHOTS")
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=f"{shots}/{name}")

    def resize(self, width: int, height: int, shot: str | None = None) -> None:
        """The viewport at ``width`` × ``height``, given time to lay out again; with ``shot``,
        a screenshot ``{shot}-{width}x{height}.png`` (``shoot``)."""
        self.page.set_viewport_size({"width": width, "height": height})
        self.page.wait_for_timeout(200)
        if shot:
            self.shoot(f"{shot}-{width}x{height}.png")


@pytest.fixture
def page(browser, stack) -> Iterator[Page]:  # noqa: ANN001
    p = Page(browser, base=stack["dash"].url, session=stack["session"])
    yield p
    p.close()
