"""The forecast page in Chromium: a plant with four weeks of 15-minute readings, a week of
nightly selections made by the real scheduler jobs (each night at 02:00 plant time), the
15-minute refresh and the tracking job; the page picks a subject, toggles the horizon and
shows the model in force with its backtest, past forecasts and the tracked error, in both
languages (1920×1080 screenshots in ``artifacts/``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from forecasting import tracking
from forecasting.runs import DAY_AHEAD, WEEK_AHEAD, ForecastJobs
from models import Meter, Site
from models.forecasting import ForecastRun
from tests.support.browser import (
    API,
    ARTIFACTS,
    NEEDS_CHROMIUM,
    TZ,
    DashboardServer,
    Page,
    choose,
    engineer_session,
    fixed_port_server,
    playwright,
)
from tests.support.db import make_key

pytestmark = NEEDS_CHROMIUM

STEP = timedelta(minutes=15)
DAYS = 28
NIGHTS = 4
NAIVE = ("naive_daily", "naive_weekly")


def _profile(starts: list[datetime], base: float, shift: float, seed: int) -> np.ndarray:
    """kWh per 15 min: ``base`` plus ``shift`` on working-day shifts (08:00–18:00)."""
    local = [s.astimezone(ZoneInfo(TZ)) for s in starts]
    work = np.array([8 <= t.hour < 18 and t.weekday() < 5 for t in local])
    rng = np.random.default_rng(seed)
    return np.round(base + shift * work + rng.normal(0, 0.06 * base, len(starts)), 3).clip(0)


@pytest.fixture(scope="module")
def stack(db_url: str, engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:  # noqa: ANN001
    """The API and the dashboard over the forecast plant, and a signed-in engineer (the API
    gets three minutes to start: the machine may be busy)."""
    workdir = tmp_path_factory.mktemp("fc")
    server = fixed_port_server(db_url, workdir, 180.0).start()
    dash = None
    try:
        admin = server.client(make_key(engine, "admin"))
        uid = uuid.uuid4().hex[:6]
        site = f"FCV-{uid}"
        r = admin.post(
            f"{API}/sites",
            json={"code": site, "name": "Forecast plant 预测工厂", "timezone": TZ},
        )
        assert r.status_code == 201, r.text
        display = admin.post(f"{API}/displays", json={"site": site}).json()["secret"]
        dash = DashboardServer(server.url, display, workdir)
        yield {
            "api": server,
            "admin": admin,
            "dash": dash,
            "session": engineer_session(server.url, engine),
            "site": site,
            "uid": uid,
        }
    finally:
        if dash is not None:
            dash.stop()
        server.stop()


@pytest.fixture(scope="module")
def forecast_plant(stack: dict, engine) -> dict:  # noqa: ANN001
    """Two 15-minute feeders with four weeks of readings, a week of nightly selections
    (each at 02:00 plant time), the refresh and the tracking of the last four days."""
    admin, site, uid = stack["admin"], stack["site"], stack["uid"]
    meters = {"line": f"LINE-{uid}", "hvac": f"HVAC-{uid}"}
    for key, code in meters.items():
        r = admin.post(
            f"{API}/meters",
            json={
                "code": code,
                "name": f"{key} feeder",
                "site": site,
                "carrier": "electricity",
                "unit": "kWh",
                "kind": "delta",
                "interval_s": 900,
            },
        )
        assert r.status_code == 201, r.text
    now = datetime.now(UTC)
    last = datetime.fromtimestamp(now.timestamp() // 900 * 900, UTC) - STEP
    starts = [last - STEP * k for k in range(DAYS * 96 - 1, -1, -1)]
    values = {
        meters["line"]: _profile(starts, 30.0, 60.0, 1),
        meters["hvac"]: _profile(starts, 12.0, 8.0, 2),
    }
    body = {
        "series": [
            {"meter": code, "ts": [(s + STEP).isoformat() for s in starts], "value": v.tolist()}
            for code, v in values.items()
        ]
    }
    r = admin.post(f"{API}/readings", json=body)
    assert r.status_code == 200 and not r.json()["rejected"], r.text
    with Session(engine) as session:
        site_id = session.query(Site.id).filter(Site.code == site).scalar()
        meter_ids = [m.id for m in session.query(Meter).filter(Meter.code.in_(meters.values()))]
    today = now.astimezone(ZoneInfo(TZ)).date()
    for k in range(NIGHTS, -1, -1):  # each night at 02:00 plant time, oldest first
        night = datetime.combine(
            today - timedelta(days=k), datetime.min.time(), ZoneInfo(TZ)
        ) + timedelta(hours=2)
        jobs = ForecastJobs(  # the baselines only: the page, not the trees, is tested here
            clock=lambda night=night: night.astimezone(UTC),
            folds={DAY_AHEAD: 2, WEEK_AHEAD: 1},
            candidates=NAIVE,
            night_candidates=NAIVE,
        )
        assert jobs.nightly(engine, site=site) == 3  # two meters, the site total
        with Session(engine) as session:  # stamped as made that night
            session.execute(
                update(ForecastRun)
                .where(
                    or_(ForecastRun.site_id == site_id, ForecastRun.meter_id.in_(meter_ids)),
                    ForecastRun.created_at > night,
                )
                .values(created_at=night)
            )
            session.commit()
    jobs.clock = lambda: now
    assert jobs.refresh(engine, site=site) == 3
    assert tracking.track(engine, now, site=site, days=NIGHTS) > 0
    return {"site": site, **meters}


def _ready(p, timeout_ms: int = 30_000) -> None:  # noqa: ANN001
    p.wait_for_selector("#fc-forecast g.scatterlayer .trace", timeout=timeout_ms)
    p.wait_for_selector("#fc-model table.fc-backtest tbody tr", timeout=timeout_ms)
    p.wait_for_selector("#fc-past g.scatterlayer .trace", timeout=timeout_ms)
    p.wait_for_selector("#fc-error g.barlayer .trace", timeout=timeout_ms)
    p.wait_for_selector("#fc-tracked table.fc-tracked tbody tr", timeout=timeout_ms)


def _x_span_days(p, graph: str) -> float:  # noqa: ANN001
    """Days between the first and last x of the graph's data."""
    return p.evaluate(
        """(id) => {
            const xs = document.getElementById(id).querySelector('.js-plotly-plot')
                ._fullData.flatMap(t => Array.from(t.x || []).map(x => Date.parse(x)));
            return (Math.max(...xs) - Math.min(...xs)) / 86400000;
        }""",
        graph,
    )


def _shot(p, name: str) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / name))  # the 1920×1080 viewport
    p.screenshot(path=str(ARTIFACTS / name.replace(".png", "-full.png")), full_page=True)


@pytest.mark.timeout(900)  # the fixture runs a week of nightly selections
def test_pick_a_subject_and_toggle_the_horizon(browser, stack: dict, forecast_plant: dict) -> None:  # noqa: ANN001
    base = stack["dash"].url
    page = Page(browser, width=1920, height=1080, base=base, session=stack["session"])
    p = page.page
    try:
        p.goto(f"{base}/forecasts?site={forecast_plant['site']}")
        try:
            _ready(p)
        except playwright.Error:
            _shot(p, "forecasts-failed.png")
            raise AssertionError(p.inner_text("body")[:3000] + str(page.errors)) from None
        assert "next 24 h" in p.inner_text("#fc-forecast-title")
        assert "kW" in (p.text_content("#fc-forecast .g-ytitle") or "")
        assert p.inner_text("#fc-in-force")  # the model in force, named for people
        assert "✓ selected" in p.inner_text("#fc-model")
        assert 0.9 < _x_span_days(p, "fc-forecast") < 2.1  # a day of actuals, a day ahead
        assert "Drift rule" in p.inner_text("#fc-tracked")
        _shot(p, "forecasts-en.png")

        # the line feeder alone: its own forecast (lower than the site's)
        site_peak = p.evaluate(
            "Math.max(...document.querySelector('#fc-forecast .js-plotly-plot')._fullData"
            ".flatMap(t => Array.from(t.y || []).filter(Number.isFinite)))"
        )
        choose(p, "#fc-meter", forecast_plant["line"])
        p.wait_for_function(
            """(peak) => {
                const d = document.querySelector('#fc-forecast .js-plotly-plot')._fullData || [];
                const ys = d.flatMap(t => Array.from(t.y || []).filter(Number.isFinite));
                return ys.length && Math.max(...ys) < peak;
            }""",
            arg=site_peak,
            timeout=30_000,
        )
        assert forecast_plant["line"] in p.inner_text("#fc-meter")

        # seven days ahead
        p.click("#fc-horizon label:has-text('7 days')")
        p.wait_for_function(
            "document.querySelector('#fc-forecast-title').innerText.includes('7 days')",
            timeout=30_000,
        )
        p.wait_for_function(
            """() => {
                const d = document.querySelector('#fc-forecast .js-plotly-plot')._fullData || [];
                const xs = d.flatMap(t => Array.from(t.x || []).map(x => Date.parse(x)));
                return xs.length && (Math.max(...xs) - Math.min(...xs)) / 86400000 > 13;
            }""",
            timeout=30_000,
        )
        _ready(p)
        assert page.errors == [], page.errors
    finally:
        page.close()


def test_the_page_in_chinese(browser, stack: dict, forecast_plant: dict) -> None:  # noqa: ANN001
    base = stack["dash"].url
    page = Page(browser, width=1920, height=1080, lang="zh", base=base, session=stack["session"])
    p = page.page
    try:
        p.goto(f"{base}/forecasts?site={forecast_plant['site']}")
        _ready(p)
        text = p.inner_text("main")
        for words in (
            "负荷预测与预测精度",
            "当前模型及其回测",
            "历史预测与实际对比",
            "每日跟踪误差",
        ):
            assert words in text
        assert "漂移规则" in p.inner_text("#fc-tracked")
        _shot(p, "forecasts-zh.png")
        p.click("#fc-horizon label:has-text('未来7天')")
        p.wait_for_function(
            "document.querySelector('#fc-forecast-title').innerText.includes('未来7天')",
            timeout=30_000,
        )
        _ready(p)
        _shot(p, "forecasts-zh-7d.png")
        assert page.errors == [], page.errors
    finally:
        page.close()
