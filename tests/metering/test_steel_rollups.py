"""Rollups of a real year: the UCI steel-plant electricity data (35,040 × 15-min intervals).

../shared/data/README.md, section 1: ``date`` is the END of the 15-min interval in Korean time
(KST, UTC+09:00), and each day's midnight row carries the date of the day that is ending
(``dd/mm/yyyy 00:00`` with NSM == 0 is really dd+1 00:00), so one day is added where NSM == 0.
``Usage_kWh`` is the interval's energy, so the data go in as a delta meter (kWh, 900 s).

Time zones: day buckets follow the site's own zone, Asia/Seoul (KST, UTC+09:00), whatever
ECC_TIMEZONE says; a KST day is also checked through site totals, which are exact for any
15-minute-aligned window. Expected values are computed independently with the csv
module (pandas is not installed here).
"""

from __future__ import annotations

import csv
import math
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from tests.support.paths import SHARED_DATA

STEEL_CSV = SHARED_DATA / "steel_industry_energy" / "Steel_industry_data.csv"
if not STEEL_CSV.is_file():
    pytest.skip(f"steel data not found at {STEEL_CSV}", allow_module_level=True)

pytestmark = pytest.mark.shared_data

KST = timezone(timedelta(hours=9))
US = timedelta(microseconds=1)
QUARTER = timedelta(minutes=15)
BATCH = 10_000


def load_rows() -> list[dict]:
    """Every row with its real interval end (``ts``, aware), as labelled in the file."""
    rows = []
    with STEEL_CSV.open(newline="", encoding="utf-8-sig") as f:
        for rec in csv.DictReader(f):
            label = datetime.strptime(rec["date"], "%d/%m/%Y %H:%M").replace(tzinfo=KST)
            nsm = int(rec["NSM"])
            ts = label + timedelta(days=1) if nsm == 0 else label  # the midnight-row quirk
            rows.append(
                {"label": rec["date"], "ts": ts, "kwh": float(rec["Usage_kWh"]), "nsm": nsm}
            )
    return rows


def local_day_start(ts: datetime, tz: ZoneInfo) -> datetime:
    """Start of the local day whose (start, start + 1 day] holds ``ts``."""
    local = (ts - US).astimezone(tz)
    return datetime(local.year, local.month, local.day, tzinfo=tz).astimezone(UTC)


def hour_start(ts: datetime) -> datetime:
    t = (ts - US).astimezone(UTC)
    return t.replace(minute=0, second=0, microsecond=0)


def sums_by(rows: list[dict], key) -> dict[datetime, tuple[float, int]]:  # noqa: ANN001
    groups: dict[datetime, list[float]] = {}
    for r in rows:
        groups.setdefault(key(r["ts"]), []).append(r["kwh"])
    return {k: (math.fsum(v), len(v)) for k, v in groups.items()}


class Steel:
    """The ingested year: meter and site codes, the rows, and read helpers."""

    def __init__(self, client, headers: dict, engine, rows: list[dict]) -> None:  # noqa: ANN001
        self.client, self.headers, self.engine, self.rows = client, headers, engine, rows
        uid = uuid.uuid4().hex[:10]
        self.site, self.code = f"STEEL-{uid}", f"STEEL-EL-{uid}"
        self.day_tz = ZoneInfo("Asia/Seoul")  # the site's zone: its days are KST days

    def ingest(self) -> list[dict]:
        r = self.client.post(
            "/api/v1/sites",
            headers=self.headers,
            json={"code": self.site, "name": "DAEWOO Steel, Gwangyang", "timezone": "Asia/Seoul"},
        )
        assert r.status_code == 201, r.text
        r = self.client.post(
            "/api/v1/meters",
            headers=self.headers,
            json={
                "code": self.code,
                "name": "plant electricity",
                "site": self.site,
                "carrier": "electricity",
                "unit": "kWh",
                "kind": "delta",
                "interval_s": 900,
            },
        )
        assert r.status_code == 201, r.text
        answers = []
        for i in range(0, len(self.rows), BATCH):
            part = self.rows[i : i + BATCH]
            body = {
                "series": [
                    {
                        "meter": self.code,
                        "ts": [r["ts"].isoformat() for r in part],
                        "value": [r["kwh"] for r in part],
                    }
                ]
            }
            r = self.client.post("/api/v1/readings", json=body, headers=self.headers)
            assert r.status_code == 200, r.text
            answers.append(r.json())
        return answers

    def settle(self, timeout_s: float = 120.0) -> None:
        """Wait until no rollup work of the meter is queued or being folded elsewhere, so that
        value checks do not also depend on read-your-writes (see ``test_rollups.py``)."""
        deadline = time.monotonic() + timeout_s
        with self.engine.connect() as conn:
            if conn.execute(text("SELECT to_regclass('rollup_pending')")).scalar() is None:
                return
            meter_id = conn.execute(
                text("SELECT id FROM meter WHERE code = :c"), {"c": self.code}
            ).scalar_one()
        while True:
            with self.engine.begin() as conn:
                left = conn.execute(
                    text(
                        "SELECT count(*) FROM (SELECT id FROM rollup_pending WHERE meter_id = :m "
                        "FOR UPDATE) q"
                    ),
                    {"m": meter_id},
                ).scalar()
            if left == 0:
                return
            assert time.monotonic() < deadline, "rollup work of the steel meter still queued"
            t = datetime(2000, 1, 1, tzinfo=UTC)
            self._get(
                f"/api/v1/meters/{self.code}/series",
                start=t,
                end=t + timedelta(hours=1),
                resolution="1h",
            )

    def _get(self, path: str, **params) -> dict:  # noqa: ANN003
        q = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}
        r = self.client.get(path, headers=self.headers, params=q)
        assert r.status_code == 200, r.text
        return r.json()

    def series(self, resolution: str) -> dict[datetime, tuple[float, int]]:
        """The whole year at one resolution: {bucket start (UTC): (kWh, n)}."""
        self.settle()
        start, end = datetime(2017, 12, 30, tzinfo=UTC), datetime(2019, 1, 3, tzinfo=UTC)
        body = self._get(
            f"/api/v1/meters/{self.code}/series", start=start, end=end, resolution=resolution
        )
        return {
            datetime.fromisoformat(p["ts"]).astimezone(UTC): (p["value"], p["n"])
            for p in body["points"]
        }

    def total(self, start: datetime, end: datetime) -> float:
        """Site total over (start, end]."""
        self.settle()
        body = self._get(f"/api/v1/sites/{self.site}/totals", start=start, end=end)
        assert [c["carrier"] for c in body["carriers"]] == ["electricity"]
        return body["carriers"][0]["total"]


@pytest.fixture(scope="module")
def steel(client, admin_headers, engine) -> Steel:  # noqa: ANN001
    s = Steel(client, admin_headers, engine, load_rows())
    answers = s.ingest()
    assert sum(a["accepted"] for a in answers) == 35_040
    assert all(a["duplicates"] == 0 and a["rejected"] == [] for a in answers), answers
    return s


def approx(x: float):  # noqa: ANN201
    return pytest.approx(x, rel=1e-9, abs=1e-6)


def test_the_quirk_fix_gives_a_strict_15_minute_year() -> None:
    rows = load_rows()
    assert len(rows) == 35_040 == 365 * 96
    assert rows[0]["ts"] == datetime(2018, 1, 1, 0, 15, tzinfo=KST)
    assert rows[-1]["ts"] == datetime(2019, 1, 1, 0, 0, tzinfo=KST)
    assert all(b["ts"] - a["ts"] == QUARTER for a, b in zip(rows, rows[1:], strict=False))
    assert sum(r["nsm"] == 0 for r in rows) == 365


def test_every_15_minute_bucket_holds_its_interval(steel: Steel) -> None:
    got = steel.series("15m")
    expected = sums_by(steel.rows, lambda ts: (ts - QUARTER).astimezone(UTC))
    assert len(got) == len(expected) == 35_040
    assert got == {k: (approx(v), n) for k, (v, n) in expected.items()}


def test_hourly_rollups_equal_csv_sums(steel: Steel) -> None:
    got = steel.series("1h")
    expected = sums_by(steel.rows, hour_start)
    assert len(got) == len(expected) == 8_760
    assert got == {k: (approx(v), n) for k, (v, n) in expected.items()}


def test_daily_rollups_equal_csv_sums_per_site_local_day(steel: Steel) -> None:
    # day buckets are days of the site's zone (Asia/Seoul, UTC+9), whatever ECC_TIMEZONE says:
    # the KST year is exactly 365 buckets, each starting at KST midnight (15:00 UTC)
    got = steel.series("1d")
    expected = sums_by(steel.rows, lambda ts: local_day_start(ts, steel.day_tz))
    assert got == {k: (approx(v), n) for k, (v, n) in expected.items()}
    assert len(got) == 365
    assert {k.astimezone(steel.day_tz).time() for k in got} == {datetime.min.time()}
    assert min(got) == datetime(2017, 12, 31, 15, tzinfo=UTC)


def test_yearly_total(steel: Steel) -> None:
    total = math.fsum(r["kwh"] for r in steel.rows)
    assert total / 1000 == pytest.approx(959.64, abs=0.005)  # MWh, README section 1
    kst_year = (datetime(2018, 1, 1, tzinfo=KST), datetime(2019, 1, 1, tzinfo=KST))
    assert steel.total(*kst_year) == approx(total)  # hour-aligned: hour buckets
    tz = steel.day_tz  # whole local days of the database: day buckets
    assert steel.total(
        datetime(2017, 12, 31, tzinfo=tz), datetime(2019, 1, 1, tzinfo=tz)
    ) == approx(total)
    assert math.fsum(v for v, _ in steel.series("1d").values()) == approx(total)
    assert math.fsum(v for v, _ in steel.series("1h").values()) == approx(total)
    # one interval short at each end: the first and the last reading are left out
    short = steel.total(kst_year[0] + QUARTER, kst_year[1] - QUARTER)
    assert short == approx(total - steel.rows[0]["kwh"] - steel.rows[-1]["kwh"])


def by_label(rows: list[dict], *labels: str) -> float:
    index = {r["label"]: r["kwh"] for r in rows}
    return math.fsum(index[x] for x in labels)


@pytest.mark.parametrize(
    "day", ["01/01/2018", "02/01/2018", "06/07/2018", "07/11/2018", "31/12/2018"]
)
def test_midnight_row_counts_in_the_kst_day_that_ends(steel: Steel, day: str) -> None:
    # The 96 rows labelled with a date are exactly that KST day's intervals (00:15 … 23:45,
    # then the "00:00" row, which is the next midnight, the end of the day's last interval).
    # A KST day is (D 00:00, D+1 00:00] = (D-1 15:00 UTC, D 15:00 UTC]: hour-aligned, so the
    # site total comes from hour buckets.
    labelled = [r for r in steel.rows if r["label"].startswith(day)]
    assert len(labelled) == 96
    midnight = next(r for r in labelled if r["nsm"] == 0)
    assert midnight["label"] == f"{day} 00:00"
    d = datetime.strptime(day, "%d/%m/%Y").replace(tzinfo=KST)
    assert midnight["ts"] == d + timedelta(days=1)
    want = math.fsum(r["kwh"] for r in labelled)
    assert steel.total(d, d + timedelta(days=1)) == approx(want)
    # …and not in the next KST day
    nxt = [r for r in steel.rows if r["ts"] > d + timedelta(days=1)][:96]
    assert steel.total(d + timedelta(days=1), d + timedelta(days=2)) == approx(
        math.fsum(r["kwh"] for r in nxt)
    )


def test_midnight_row_in_hour_and_site_day_buckets(steel: Steel) -> None:
    # "01/01/2018 00:00" is 2018-01-02 00:00 KST = 2018-01-01 15:00 UTC: it closes the hour
    # (14:00, 15:00] UTC together with 23:15, 23:30 and 23:45 KST of 1 January
    hours = steel.series("1h")
    last_hour = by_label(
        steel.rows, "01/01/2018 23:15", "01/01/2018 23:30", "01/01/2018 23:45", "01/01/2018 00:00"
    )
    assert by_label(steel.rows, "01/01/2018 00:00") > 0  # the check can tell
    assert hours[datetime(2018, 1, 1, 14, tzinfo=UTC)] == (approx(last_hour), 4)
    # ...and the site's day 2018-01-01 (KST) = (15:00 UTC Dec 31, 15:00 UTC Jan 1]: exactly the
    # 96 rows labelled 01/01/2018, the midnight row included (it ends the day)
    jan1 = [r["label"] for r in steel.rows if r["label"].startswith("01/01/2018 ")]
    assert len(jan1) == 96
    days = steel.series("1d")
    key = datetime(2018, 1, 1, tzinfo=steel.day_tz).astimezone(UTC)
    assert key == datetime(2017, 12, 31, 15, tzinfo=UTC)
    assert days[key] == (approx(by_label(steel.rows, *jan1)), 96)
