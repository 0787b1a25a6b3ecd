"""Tests of the demo plant description and the seeded history generator (shell.demo)."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest

from shell.demo import METERS, SITES, GeneratorState, generate, meter_tree
from shell.demo.history import _day_info, counter_deltas
from shell.demo.plant import PROFILES

CST = dt.timezone(dt.timedelta(hours=8))
BY_CODE = {m["code"]: m for m in METERS}
CARRIERS = {
    "electricity",
    "natural_gas",
    "steam",
    "heat",
    "water",
    "diesel",
    "coal",
    "pv_generation",
    "grid_export",
    "reactive_energy",
}


def collect(chunks) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    parts: dict[str, list] = {}
    for ch in chunks:
        parts.setdefault(ch.meter, []).append(ch)
    return {
        k: (np.concatenate([c.ts for c in v]), np.concatenate([c.value for c in v]))
        for k, v in parts.items()
    }


def quantities(data, meters=METERS) -> dict[str, np.ndarray]:
    """Per-interval quantities aligned on ts[1:] (counter diffs, delta values)."""
    by = {m["code"]: m for m in meters}
    out = {}
    for code, (_ts, v) in data.items():
        m = by[code]
        if m["kind"] == "counter":
            out[code] = counter_deltas(v, m.get("rollover"))
        elif m["kind"] == "delta":
            out[code] = v[1:]
    return out


@pytest.fixture(scope="module")
def fortnight():
    # Mon 2026-09-14 .. Mon 2026-09-28 local: includes weekends and Mid-Autumn 25-27 Sep.
    start = dt.datetime(2026, 9, 14, tzinfo=CST)
    end = start + dt.timedelta(days=14)
    return start, end, collect(generate(METERS, start, end, step_s=60, seed=7))


# --------------------------------------------------------------------------- structure
def test_plant_description_is_consistent():
    codes = {s["code"] for s in SITES}
    assert len(codes) == len(SITES)
    roots = [s for s in SITES if s["parent"] is None]
    assert [s["code"] for s in roots] == ["DEMO-PARK"]
    for s in SITES:
        assert set(s) == {"code", "name", "parent", "timezone", "region", "contracted_demand_kw"}
        # the contract is the plant's (its 10 kV connection serves the levels above it too)
        assert (s["contracted_demand_kw"] is not None) == (
            s["code"] in ("DEMO-PARK", "DEMO-ENT", "DEMO-PLANT")
        )
        assert s["timezone"] == "Asia/Shanghai" and s["region"] == "east_china"
        assert s["parent"] is None or s["parent"] in codes
    assert 20 <= len(METERS) <= 30
    mcodes = {m["code"] for m in METERS}
    assert len(mcodes) == len(METERS)
    for m in METERS:
        assert {
            "code",
            "name",
            "site",
            "parent",
            "carrier",
            "unit",
            "kind",
            "interval_s",
            "multiplier",
        } <= set(m)
        assert m["site"] in codes
        assert m["carrier"] in CARRIERS
        assert m["kind"] in {"counter", "delta", "gauge"}
        assert m["parent"] is None or m["parent"] in mcodes
        if m["parent"]:
            assert BY_CODE[m["parent"]]["carrier"] == m["carrier"]
        assert m["code"] in PROFILES
    tree = meter_tree()
    assert set(tree["EL-INCOMER"]) == {"EL-TX1", "EL-TX2"}
    assert set(tree["EL-UTIL"]) == {"EL-AIRC-1", "EL-AIRC-2", "EL-CHILLER"}


def test_chunks_are_aligned_daily_and_cover_the_range():
    start = dt.datetime(2026, 3, 1, 5, 30, 20, tzinfo=CST)
    end = dt.datetime(2026, 3, 3, 17, 0, tzinfo=CST)
    chunks = list(generate(METERS, start, end, step_s=300, seed=1))
    for ch in chunks:
        assert ch.ts.dtype == np.int64 and ch.value.dtype == np.float64
        assert len(ch.ts) <= 86400 // 300
        assert np.all(ch.ts % 300 == 0)
        local_days = {(t + 8 * 3600) // 86400 for t in ch.ts.tolist()}
        assert len(local_days) == 1
    data = collect(chunks)
    ts = data["EL-INCOMER"][0]
    assert ts[0] == int(start.timestamp()) - int(start.timestamp()) % 300 + 300
    assert ts[-1] == int(end.timestamp()) - 300
    assert np.all(np.diff(ts) == 300)
    assert all(np.array_equal(v[0], ts) for v in data.values())


# --------------------------------------------------------------------------- determinism
def test_deterministic_for_a_seed():
    start = dt.datetime(2026, 1, 5, tzinfo=CST)
    end = start + dt.timedelta(days=2)
    a = collect(generate(METERS, start, end, seed=123))
    b = collect(generate(METERS, start, end, seed=123))
    c = collect(generate(METERS, start, end, seed=124))
    for code in a:
        assert np.array_equal(a[code][0], b[code][0])
        assert np.array_equal(a[code][1], b[code][1])
    assert not np.allclose(a["EL-WELD"][1], c["EL-WELD"][1])


def test_subset_of_meters_gets_the_same_values():
    start = dt.datetime(2026, 7, 1, tzinfo=CST)
    end = start + dt.timedelta(hours=30)
    full = collect(generate(METERS, start, end, seed=5))
    sub = collect(generate([BY_CODE["EL-INCOMER"], BY_CODE["PV-ROOF"]], start, end, seed=5))
    assert set(sub) == {"EL-INCOMER", "PV-ROOF"}
    for code in sub:
        np.testing.assert_array_equal(sub[code][1], full[code][1])


def test_continuous_across_calls_with_state():
    a = dt.datetime(2026, 2, 10, tzinfo=CST)
    b = dt.datetime(2026, 2, 11, 13, 37, tzinfo=CST)
    c = dt.datetime(2026, 2, 13, 6, 0, tzinfo=CST)
    whole = collect(generate(METERS, a, c, seed=9))
    st = GeneratorState()
    first = collect(generate(METERS, a, b, seed=9, state=st))
    assert st.last_ts == first["EL-INCOMER"][0][-1]
    assert st.day == (b.timestamp() + 8 * 3600) // 86400  # checkpoint: local midnight before b
    st = GeneratorState.from_dict(st.to_dict())  # survives a JSON round trip
    second = collect(generate(METERS, b, c, seed=9, state=st))
    for code, (ts, v) in whole.items():
        ts2 = np.concatenate([first[code][0], second[code][0]])
        v2 = np.concatenate([first[code][1], second[code][1]])
        np.testing.assert_array_equal(ts, ts2)
        np.testing.assert_array_equal(v2, v, err_msg=code)  # exact, not approximately


def minute_cuts(draw_count: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return sorted(set(rng.integers(1, 3 * 1440, size=draw_count).tolist()))


@pytest.mark.parametrize("cut_seed", [1, 2, 3])
def test_any_cuts_give_the_uninterrupted_series(cut_seed):
    """A stream cut into pieces at arbitrary minutes (a restart after 3 minutes, after an
    hour, across midnight), each piece resumed from the JSON state, gives bit for bit the
    readings of one uninterrupted run: no hole, no duplicate, no spike."""
    a = dt.datetime(2026, 12, 1, 22, 0, tzinfo=CST)
    whole = collect(generate(METERS, a, a + dt.timedelta(days=3), seed=42))
    cuts = [0, 3, *minute_cuts(6, cut_seed), 3 * 1440]
    st = GeneratorState()
    pieces: dict[str, list[np.ndarray]] = {}
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        st = GeneratorState.from_dict(st.to_dict())
        got = collect(
            generate(
                METERS,
                a + dt.timedelta(minutes=lo),
                a + dt.timedelta(minutes=hi),
                seed=42,
                state=st,
            )
        )
        for code, (ts, v) in got.items():
            pieces.setdefault(code, []).append(np.stack([ts, v]))
    for code, (ts, v) in whole.items():
        ts2, v2 = np.concatenate(pieces[code], axis=1)
        assert len(np.unique(ts2)) == len(ts2) == 3 * 1440, code  # no duplicate, no hole
        np.testing.assert_array_equal(ts2, ts)
        np.testing.assert_array_equal(v2, v, err_msg=code)


def test_a_checkpoint_after_start_is_refused():
    a = dt.datetime(2026, 3, 2, 12, 0, tzinfo=CST)
    st = GeneratorState()
    list(generate(METERS, a, a + dt.timedelta(days=2), seed=1, state=st))
    with pytest.raises(ValueError, match="checkpoint is after start"):
        list(generate(METERS, a, a + dt.timedelta(hours=1), seed=1, state=st))
    with pytest.raises(ValueError, match="another seed"):
        list(generate(METERS, a + dt.timedelta(days=2), a + dt.timedelta(days=3), seed=2, state=st))


# --------------------------------------------------------------------------- physics
def test_counters_monotonic_except_rollover(fortnight):
    _s, _e, data = fortnight
    for m in METERS:
        if m["kind"] != "counter":
            continue
        v = data[m["code"]][1]
        assert v[0] > 0
        d = np.diff(v)
        roll = m.get("rollover")
        if roll:
            assert np.all(v < roll)
            assert np.all((d >= 0) | (d < -0.5 * roll)), m["code"]
        else:
            assert np.all(d >= 0), m["code"]


def test_rollover_is_respected():
    meters = copy.deepcopy(METERS)
    for m in meters:
        if m["code"] == "EL-PAINT":
            m["rollover"] = 1000
    start = dt.datetime(2026, 4, 1, tzinfo=CST)
    end = start + dt.timedelta(days=1)
    small = collect(generate(meters, start, end, seed=2))
    ref = collect(generate(METERS, start, end, seed=2))
    v = small["EL-PAINT"][1]
    assert np.all((v >= 0) & (v < 1000))
    assert np.sum(np.diff(v) < 0) > 20  # wrapped many times
    np.testing.assert_allclose(
        counter_deltas(v, 1000), counter_deltas(ref["EL-PAINT"][1], 99_999_999), atol=1e-6
    )


def test_parent_at_least_sum_of_children(fortnight):
    _s, _e, data = fortnight
    q = quantities(data)
    tree = meter_tree()
    checked = 0
    for parent, kids in tree.items():
        kids = [k for k in kids if k in q]
        if parent not in q or not kids:
            continue
        total = q[parent].copy()
        if parent == "EL-INCOMER":  # PV injects below the incomer meter
            total += q["PV-ROOF"] - q["EL-EXPORT"]
        s = sum(q[k] for k in kids)
        assert np.all(total >= s - 1e-6), parent
        share = 1 - s.sum() / total.sum()
        limit = 0.12 if BY_CODE[parent]["carrier"] == "electricity" else 0.35
        assert 0.0 < share < limit, (parent, share)  # unmetered loads + losses
        checked += 1
    assert checked >= 8


def test_grid_import_export_balance(fortnight):
    _s, _e, data = fortnight
    q = quantities(data)
    imp, pv, exp = q["EL-INCOMER"], q["PV-ROOF"], q["EL-EXPORT"]
    load = q["EL-TX1"] + q["EL-TX2"]
    assert np.all(exp >= 0)
    # never import and export in the same interval
    assert not np.any((exp > 1e-9) & (imp > 1e-9))
    # import = total load - PV used on site (+ small HV losses)
    rel = (imp + pv - exp - load) / load
    assert np.all(rel > 0) and np.all(rel < 0.02)
    # demand gauge = incomer interval energy * 3600 / step (with a little noise)
    kw = data["EL-INCOMER-KW"][1][1:]
    busy = imp > 10
    assert np.all(np.abs(kw[busy] / (imp[busy] * 60) - 1) < 0.05)


def test_pv_zero_at_night_positive_on_clear_summer_noon():
    seed = 11
    day0 = (dt.date(2026, 7, 1) - dt.date(1970, 1, 1)).days
    clear = next(d for d in range(day0, day0 + 60) if _day_info(seed, d).k > 0.9)
    date = dt.date(1970, 1, 1) + dt.timedelta(days=clear)
    start = dt.datetime(date.year, date.month, date.day, tzinfo=CST)
    data = collect(generate([BY_CODE["PV-ROOF"]], start, start + dt.timedelta(days=1), seed=seed))
    ts, v = data["PV-ROOF"]
    hour = ((ts + 8 * 3600) % 86400) / 3600
    assert np.all(v >= 0)
    night = (hour < 4.5) | (hour > 19.8)
    assert np.all(v[night] == 0)
    noon = (hour >= 11.5) & (hour <= 12.5)
    kwp = PROFILES["PV-ROOF"]["kwp"]
    assert np.all(v[noon] > 0.5 * kwp / 60)  # > 50 % of peak on a clear July noon
    assert 3.5 * kwp < v.sum() < 6.5 * kwp  # kWh/kWp per day


def test_weekday_daytime_above_sunday_night(fortnight):
    _s, _e, data = fortnight
    ts, kw = data["EL-INCOMER-KW"]
    loc = ts + 8 * 3600
    hour = (loc % 86400) / 3600
    wd = ((loc // 86400) + 3) % 7  # Monday = 0
    weekday_day = kw[(wd == 2) & (hour >= 9) & (hour < 11)]  # Wednesdays 09-11
    sunday_night = kw[(wd == 6) & (hour >= 1) & (hour < 5)]
    assert weekday_day.size and sunday_night.size
    assert weekday_day.mean() > 2.0 * sunday_night.mean()


def test_holiday_lower_than_workday(fortnight):
    _s, _e, data = fortnight
    q = quantities(data)
    ts = data["EL-INCOMER"][0][1:]
    day = (ts - 1 + 8 * 3600) // 86400
    epoch = dt.date(1970, 1, 1)
    daily = {
        epoch + dt.timedelta(days=int(d)): q["EL-WELD"][day == d].sum() for d in np.unique(day)
    }
    # Mid-Autumn Fri 25 (the Thursday night shift still runs into it) and Sat 26 Sep
    assert daily[dt.date(2026, 9, 25)] < 0.5 * daily[dt.date(2026, 9, 23)]
    assert daily[dt.date(2026, 9, 26)] < 0.3 * daily[dt.date(2026, 9, 19)]  # vs a Saturday


def test_compressors_cycle(fortnight):
    _s, _e, data = fortnight
    c1 = data["EL-AIRC-1"][1]
    kw = PROFILES["EL-AIRC-1"]["kw"]
    # load/unload cycling: both loaded and partly unloaded minutes exist
    assert np.any(c1 > 0.98 * kw / 60) and np.any(c1 < 0.7 * kw / 60)
    assert np.any(data["EL-AIRC-2"][1] == 0)  # trim compressor stops at low demand
