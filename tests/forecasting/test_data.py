"""Any CSV to one regular series: order, gaps, repeats, DST, offsets, frequency detection."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import Invalid
from forecasting.data import detect_freq, fill_short_gaps, read_series_csv, regularize
from tests.support.paths import SHARED_DATA

STEEL = SHARED_DATA / "steel_industry_energy" / "Steel_industry_data.csv"
STEPS = [timedelta(minutes=m) for m in (1, 10, 15, 30, 60)]


def _write(path: Path, rows: list[tuple[str, object]], header: str = "ts,value") -> Path:
    path.write_text(header + "\n" + "".join(f"{t},{v}\n" for t, v in rows))
    return path


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    step=st.sampled_from(STEPS),
    n=st.integers(20, 400),
    seed=st.integers(0, 2**16),
    drop=st.floats(0, 0.25),
    repeats=st.integers(0, 10),
)
def test_regularize_recovers_the_grid_whatever_the_order(
    step: timedelta, n: int, seed: int, drop: float, repeats: int
) -> None:
    rng = np.random.default_rng(seed)
    grid = pd.date_range("2024-03-01 00:00", periods=n, freq=step)
    values = rng.normal(size=n)
    keep = rng.random(n) >= drop
    keep[[0, -1]] = True
    rows = pd.DataFrame({"y": values[keep]}, index=grid[keep])
    extra = rows.sample(n=min(repeats, len(rows)), random_state=seed)  # exact repeats
    shuffled = pd.concat([rows, extra]).sample(frac=1.0, random_state=seed)
    frame, found, findings = regularize(shuffled, fill_limit="0min")
    assert found == pd.Timedelta(step)
    assert frame.index.equals(pd.DatetimeIndex(grid, freq=step))
    np.testing.assert_allclose(frame["y"].to_numpy()[keep], values[keep])
    assert frame["y"].isna().sum() == (~keep).sum()
    assert findings["duplicates"] == len(extra)


@settings(max_examples=40, deadline=None, database=None)
@given(step=st.sampled_from(STEPS), n=st.integers(10, 300), seed=st.integers(0, 2**16))
def test_detect_freq_ignores_order_repeats_and_a_few_gaps(
    step: timedelta, n: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    grid = pd.date_range("2021-10-31", periods=n, freq=step)
    picked = grid[rng.random(n) > 0.1].append(grid[:3]).append(grid[-3:])
    assert detect_freq(pd.DatetimeIndex(rng.permutation(picked))) == pd.Timedelta(step)


@settings(max_examples=25, deadline=None, database=None)
@given(
    n=st.integers(30, 200),
    offset=st.sampled_from(["Z", "+09:00", "-03:30"]),
    seed=st.integers(0, 2**16),
)
def test_csv_with_offsets_round_trips(
    tmp_path_factory: pytest.TempPathFactory, n: int, offset: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    zone = "UTC" if offset == "Z" else offset
    grid = pd.date_range("2024-01-01", periods=n, freq="15min", tz=zone)
    values = rng.uniform(0, 100, n).round(3)
    text = [t.isoformat().replace("+00:00", "Z") for t in grid]
    order = rng.permutation(n)
    path = _write(tmp_path_factory.mktemp("csv") / "s.csv", [(text[i], values[i]) for i in order])
    loaded = read_series_csv(path, "ts", "value")
    assert loaded.freq == pd.Timedelta("15min")
    assert loaded.frame.index.equals(grid)
    np.testing.assert_allclose(loaded.frame["y"].to_numpy(), values)


def test_naive_local_time_with_dst_zone(tmp_path: Path) -> None:
    # Europe/Paris, 2023-10-29: 02:00–02:59 happens twice; 2023-03-26: 02:00–02:59 never
    autumn = pd.date_range("2023-10-29 00:00", "2023-10-29 05:00", freq="30min", tz="Europe/Paris")
    spring = pd.date_range("2023-03-26 00:00", "2023-03-26 05:00", freq="30min", tz="Europe/Paris")
    for name, stamps in (("autumn", autumn), ("spring", spring)):
        naive = [t.tz_localize(None).strftime("%Y-%m-%d %H:%M") for t in stamps]
        path = _write(tmp_path / f"{name}.csv", [(t, i) for i, t in enumerate(naive)])
        local = read_series_csv(path, "ts", "value", tz="Europe/Paris")
        assert local.frame.index.equals(stamps)  # every instant once, in order
        assert local.frame["y"].tolist() == list(range(len(stamps)))
        wall = read_series_csv(path, "ts", "value")  # no zone: a wall-clock grid
        assert wall.freq == pd.Timedelta("30min")
        assert wall.frame.index.is_unique and wall.frame["y"].notna().all()
    autumn_wall = read_series_csv(tmp_path / "autumn.csv", "ts", "value").frame["y"]
    assert autumn_wall[pd.Timestamp("2023-10-29 02:00")] == pytest.approx((4 + 6) / 2)


def test_gaps_repeats_unsorted_and_unparsable(tmp_path: Path) -> None:
    rows = [
        ("2024-01-01 00:30", 3),
        ("2024-01-01 00:00", 1),
        ("2024-01-01 00:15", 2),
        ("2024-01-01 00:15", 4),
        ("not a time", 9),
        ("2024-01-01 01:00", 5),
        ("2024-01-01 04:00", 7),
        *[(f"2024-01-01 {h:02d}:{m:02d}", 8) for h in (4, 5) for m in (15, 30, 45)],
    ]
    rows += [(f"2024-01-01 {h:02d}:00", 1) for h in range(6, 20)]
    loaded = read_series_csv(_write(tmp_path / "g.csv", rows), "ts", "value")
    y = loaded.frame["y"]
    assert loaded.freq == pd.Timedelta("15min")
    assert y[pd.Timestamp("2024-01-01 00:15")] == 3  # (2 + 4) / 2
    assert y[pd.Timestamp("2024-01-01 00:45")] == 4  # one-step gap interpolated
    assert y[pd.Timestamp("2024-01-01 02:00") : pd.Timestamp("2024-01-01 03:45")].isna().all()
    assert loaded.findings["unparsed_ts"] == 1 and loaded.findings["duplicates"] == 1


def test_coarser_freq_aggregates_finer_is_refused(tmp_path: Path) -> None:
    grid = pd.date_range("2024-01-01 00:15", periods=96, freq="15min")
    path = _write(tmp_path / "q.csv", [(t.isoformat(), i) for i, t in enumerate(grid)])
    hourly = read_series_csv(path, "ts", "value", freq="1h")
    assert hourly.freq == pd.Timedelta("1h")
    assert hourly.frame["y"].iloc[0] == pytest.approx((0 + 1 + 2 + 3) / 4)  # (00:00, 01:00]
    with pytest.raises(Invalid, match="finer"):
        read_series_csv(path, "ts", "value", freq="5min")


def test_fill_short_gaps_leaves_long_runs_and_edges() -> None:
    y = pd.Series([np.nan, 1, np.nan, 3, np.nan, np.nan, np.nan, 7, np.nan])
    out = fill_short_gaps(y, 2)
    assert out.tolist()[1:4] == [1, 2, 3]
    assert out.iloc[[0, 4, 5, 6, 8]].isna().all()


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", [("2024-01-01 00:00", 1)] * 3)
    with pytest.raises(Invalid, match="nope"):
        read_series_csv(path, "ts", "nope")


@pytest.mark.shared_data
@pytest.mark.skipif(not STEEL.exists(), reason="../shared/data is absent")
def test_steel_plant_file_with_the_midnight_quirk() -> None:
    fixed = read_series_csv(STEEL, "date", "Usage_kWh", fix_midnight=True, tz="+09:00")
    frame = fixed.frame
    assert len(frame) == 35_040 and frame["y"].notna().all()
    assert frame.index[0] == pd.Timestamp("2018-01-01 00:15", tz="+09:00")
    assert frame.index[-1] == pd.Timestamp("2019-01-01 00:00", tz="+09:00")
    assert fixed.findings["duplicates"] == 0 and fixed.findings["missing_steps"] == 0
    assert frame["y"].sum() == pytest.approx(959_640, rel=1e-3)  # 959.64 MWh in the year
    naive = read_series_csv(STEEL, "date", "Usage_kWh")  # labels a day early at midnight
    assert naive.frame.index[0] == pd.Timestamp("2018-01-01 00:00")
