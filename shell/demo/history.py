"""Seeded, realistic, fast history for the demo plant (pure Python + numpy).

One entry point, :func:`generate`: readings on a regular grid (``step_s``), yielded as
:class:`MeterChunk` s of at most one local (Asia/Shanghai) day per meter, day-major (all
meters of day 1, then day 2, ...), so callers can post batches and show progress. The
demo's backfill and its live stream both call it (the stream for the minutes that have
become due), so history and live readings are one series.

Values are in each meter's own unit, *before* its ``multiplier`` (raw value x multiplier
= engineering quantity; the demo meters all have multiplier 1):

* ``counter`` -- the cumulative register after the interval ending at ``ts`` (monotonic;
  wraps to 0 when it reaches ``rollover``, if set);
* ``delta`` -- the quantity of the interval ``(ts - step, ts]``;
* ``gauge`` -- the instantaneous value at ``ts``.

Model summary: Asia/Shanghai local time (UTC+8, no DST); two shifts (day 08:00-20:00 at
full level, night lower), lunch and midnight-meal dips, Saturdays partly worked, Sundays
and Chinese public holidays (approximate table for 2025-2027, see ``HOLIDAYS``) nearly
idle; a day-to-day production factor; ambient temperature (season, day-to-day anomaly,
diurnal swing) driving cooling/heating loads; AR(1) noise per meter; PV from solar
geometry with per-day weather and drifting clouds; load/unload cycling air compressors;
a gas boiler with winter morning warm-up. Consistency is built bottom-up: every parent's
interval quantity = its children's sum + losses + its own unmetered load, so
``parent >= sum(children)`` holds per interval; at the grid incomer,
``import = total load - PV used on site`` and ``export = PV - PV used``.

Determinism and continuity: every random number is keyed by (seed, local day, step,
stream name) or, for per-day weather/production, by (seed, local day), and the simulation
always runs whole local days, one numpy pass per day, from a checkpoint at a local midnight
(``GeneratorState.day``: the registers and AR(1) states at the start of that day). So the
same seed and anchor give the same data bit for bit however the time is cut:
``generate(a, b, state=s)`` followed by ``generate(b, c, state=s)`` -- after a stop of any
length, in another process -- gives exactly the values of ``generate(a, c)``. The demo's
live stream uses the same grid, so a restart fills its gap with the readings it would
have sent.
"""

from __future__ import annotations

import datetime as _dt
import math
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from shell.demo.plant import METERS as _DEMO_METERS
from shell.demo.plant import PROFILES as _DEMO_PROFILES
from shell.demo.plant import PV_INJECTION as _DEMO_PV_INJECTION

TZ_OFFSET_S = 8 * 3600  # Asia/Shanghai: UTC+8, no daylight saving since 1991
DAY_S = 86400

# ---------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------
# Chinese public holidays (days off), 2025-2027. APPROXIMATE: 2025 and 2026 follow the
# State Council announcements as we remember them, 2027 is estimated from the lunar
# calendar; make-up working weekends (调休) are not modelled. Other years fall back to
# New Year's Day, 1-3 May and 1-7 October.
HOLIDAYS: list[tuple[str, str, str]] = [
    ("2025-01-01", "2025-01-01", "New Year 元旦"),
    ("2025-01-28", "2025-02-04", "Spring Festival 春节"),
    ("2025-04-04", "2025-04-06", "Qingming 清明节"),
    ("2025-05-01", "2025-05-05", "Labour Day 劳动节"),
    ("2025-05-31", "2025-06-02", "Dragon Boat 端午节"),
    ("2025-10-01", "2025-10-08", "National Day & Mid-Autumn 国庆节、中秋节"),
    ("2026-01-01", "2026-01-03", "New Year 元旦"),
    ("2026-02-15", "2026-02-23", "Spring Festival 春节"),
    ("2026-04-04", "2026-04-06", "Qingming 清明节"),
    ("2026-05-01", "2026-05-05", "Labour Day 劳动节"),
    ("2026-06-19", "2026-06-21", "Dragon Boat 端午节"),
    ("2026-09-25", "2026-09-27", "Mid-Autumn 中秋节"),
    ("2026-10-01", "2026-10-07", "National Day 国庆节"),
    ("2027-01-01", "2027-01-03", "New Year 元旦"),
    ("2027-02-05", "2027-02-11", "Spring Festival 春节"),
    ("2027-04-03", "2027-04-05", "Qingming 清明节"),
    ("2027-05-01", "2027-05-05", "Labour Day 劳动节"),
    ("2027-06-09", "2027-06-11", "Dragon Boat 端午节"),
    ("2027-09-15", "2027-09-17", "Mid-Autumn 中秋节"),
    ("2027-10-01", "2027-10-07", "National Day 国庆节"),
]
_TABLE_YEARS = {2025, 2026, 2027}
_EPOCH_DATE = _dt.date(1970, 1, 1)


def _holiday_days() -> frozenset[_dt.date]:
    days: set[_dt.date] = set()
    for a, b, _name in HOLIDAYS:
        d, e = _dt.date.fromisoformat(a), _dt.date.fromisoformat(b)
        while d <= e:
            days.add(d)
            d += _dt.timedelta(days=1)
    return frozenset(days)


_HOLIDAY_DAYS = _holiday_days()


def is_holiday(day: _dt.date) -> bool:
    """Whether ``day`` (a local date) is a public holiday in the (approximate) table."""
    if day.year in _TABLE_YEARS:
        return day in _HOLIDAY_DAYS
    return (
        (day.month, day.day) == (1, 1)
        or (day.month == 5 and day.day <= 3)
        or (day.month == 10 and day.day <= 7)
    )


WORKDAY, SATURDAY, SUNDAY, HOLIDAY = 0, 1, 2, 3


def day_type(day: _dt.date) -> int:
    """0 workday, 1 Saturday, 2 Sunday, 3 public holiday."""
    if is_holiday(day):
        return HOLIDAY
    wd = day.weekday()
    return SATURDAY if wd == 5 else SUNDAY if wd == 6 else WORKDAY


# Production level (day shift, night shift) per day type; the night shift that starts at
# 20:00 runs into the next morning with the level of the day it started on.
_SHIFT_LEVEL = np.array([[1.0, 0.65], [0.45, 0.10], [0.06, 0.04], [0.03, 0.02]])
_BASE_IDLE = np.array([1.0, 0.95, 0.85, 0.75])  # base (always-on) load factor
_PRESENCE = np.array([1.0, 0.5, 0.1, 0.05])  # people on site (canteen, domestic water)
_MORNING = np.array([1.0, 1.0, 0.0, 0.0])  # boiler warm-up on production days

# Weather per calendar month: P(clear), P(partly cloudy); overcast is the rest.
_WEATHER_P = {
    1: (0.40, 0.35),
    2: (0.35, 0.35),
    3: (0.30, 0.40),
    4: (0.30, 0.40),
    5: (0.30, 0.40),
    6: (0.20, 0.35),
    7: (0.30, 0.40),
    8: (0.40, 0.40),
    9: (0.40, 0.35),
    10: (0.45, 0.35),
    11: (0.40, 0.35),
    12: (0.40, 0.35),
}


@dataclass(frozen=True)
class _Day:
    dtype: int
    doy: int
    prod: float  # day-to-day production factor
    anom: float  # temperature anomaly, degC
    k: float  # mean clearness (PV)
    ks: float  # intraday cloud variability
    amp: float  # diurnal temperature half-swing, degC


def _key(*parts: int) -> list[int]:
    return [int(p) & 0xFFFFFFFF for p in parts]


@lru_cache(maxsize=16384)
def _day_info(seed: int, d: int) -> _Day:
    """Per-local-day draws; ``d`` is days since 1970-01-01 (local)."""
    date = _EPOCH_DATE + _dt.timedelta(days=d)
    rng = np.random.default_rng(_key(seed, seed >> 32, d + 1_000_000, 0xDA1))
    u = rng.random(4)
    z = rng.standard_normal(3)
    p_clear, p_partly = _WEATHER_P[date.month]
    if u[0] < p_clear:
        k, ks, amp = 0.95 + 0.03 * z[0], 0.03, 4.5
    elif u[0] < p_clear + p_partly:
        k, ks, amp = 0.65 + 0.10 * z[0], 0.22, 3.5
    else:
        k, ks, amp = 0.30 + 0.08 * z[0], 0.07, 2.0
    return _Day(
        dtype=day_type(date),
        doy=date.timetuple().tm_yday,
        prod=float(math.exp(0.04 * z[1])),
        anom=float(2.0 * z[2]),
        k=float(k),
        ks=ks,
        amp=amp,
    )


# ---------------------------------------------------------------------------------------
# Public types
# ---------------------------------------------------------------------------------------
@dataclass(eq=False)
class MeterChunk:
    """Readings of one meter: ``ts`` int64 epoch seconds (UTC), ``value`` float64."""

    meter: str
    ts: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)


@dataclass
class GeneratorState:
    """What continues a generation: a checkpoint at a local midnight and the last timestamp.

    ``day`` is the local day (days since 1970-01-01, UTC+8) whose start ``totals`` and
    ``ar`` describe; ``last_ts`` is the last grid timestamp yielded. ``totals`` are
    unwrapped engineering totals (the register is ``(total / multiplier) % rollover``).
    Updated in place by :func:`generate` as whole days are passed (the day holding the
    end of a call is recomputed by the next call from the same checkpoint).
    JSON-friendly via ``to_dict``.
    """

    seed: int | None = None
    step_s: int = 60
    last_ts: float | None = None
    day: int | None = None
    totals: dict[str, float] = field(default_factory=dict)
    ar: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "step_s": self.step_s,
            "last_ts": self.last_ts,
            "day": self.day,
            "totals": dict(self.totals),
            "ar": dict(self.ar),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GeneratorState:
        day = d.get("day")
        return cls(
            seed=d.get("seed"),
            step_s=int(d.get("step_s", 60)),
            last_ts=d.get("last_ts"),
            day=None if day is None else int(day),
            totals={k: float(v) for k, v in d.get("totals", {}).items()},
            ar={k: float(v) for k, v in d.get("ar", {}).items()},
        )


def local_day(t: float) -> int:
    """The local (UTC+8) day number, days since 1970-01-01, of epoch seconds ``t``."""
    return int((t + TZ_OFFSET_S) // DAY_S)


def counter_deltas(values: np.ndarray, rollover: float | None = None) -> np.ndarray:
    """Interval quantities from consecutive register readings (length ``len(values)-1``),
    adding ``rollover`` where the register wrapped."""
    d = np.diff(np.asarray(values, dtype=float))
    if rollover:
        d = np.where(d < 0, d + float(rollover), d)
    return d


# ---------------------------------------------------------------------------------------
# Model compilation
# ---------------------------------------------------------------------------------------
_ADDITIVE_KINDS = ("counter", "delta")
_FALLBACK_RATES = {  # carrier -> (base, prod) per hour in the meter's unit
    "electricity": (20.0, 80.0),
    "natural_gas": (2.0, 10.0),
    "steam": (0.05, 0.3),
    "heat": (0.1, 0.5),
    "water": (0.5, 2.0),
    "diesel": (0.0, 5.0),
    "coal": (0.0, 50.0),
}


def _crc(s: str) -> int:
    return zlib.crc32(s.encode("utf-8"))


def _fallback_profile(m: dict[str, Any]) -> dict[str, Any]:
    carrier, kind, unit = m.get("carrier"), m.get("kind"), str(m.get("unit", "")).lower()
    if kind == "gauge":
        if unit in ("kw", "mw") and m.get("parent"):
            return {
                "model": "demand",
                "source": m["parent"],
                "scale": 1e-3 if unit == "mw" else 1.0,
            }
        if unit in ("degc", "°c", "c"):
            return {"model": "ambient", "offset": 0.0}
        return {"model": "constant", "value": 1.0}
    if carrier == "pv_generation":
        return {"model": "pv", "kwp": 500.0}
    if carrier == "grid_export":
        return {"model": "export"}
    base, prod = _FALLBACK_RATES.get(str(carrier), (1.0, 4.0))
    return {
        "model": "load",
        "base": base,
        "prod": prod,
        "sigma": 0.05,
        "tau_min": 20.0,
        "white": 0.02,
    }


@dataclass
class _Model:
    meters: list[dict[str, Any]]  # requested meters (output order)
    sim: dict[str, dict[str, Any]]  # all simulated meters by code
    prof: dict[str, dict[str, Any]]
    children: dict[str, list[str]]  # additive children (same carrier)
    order: list[str]  # additive meters, children before parents
    pv: list[str]
    grids: list[str]
    pv_grid: dict[str, str]  # pv meter -> grid meter it feeds
    gauges: list[str]
    exports: list[str]
    ar_tau: dict[str, float]  # AR(1) stream -> time constant (s)
    white: list[str]  # white-noise streams
    streams: list[str]  # every stream that needs normals, sorted


def _compile(meters: Sequence[dict[str, Any]]) -> _Model:
    requested = list(meters)
    codes = {m["code"] for m in requested}
    if len(codes) != len(requested):
        raise ValueError("duplicate meter codes")
    sim_list = list(requested)
    # Simulate the whole demo plant whenever any demo meter is asked for, so a subset of
    # meters gets exactly the values it would get in the full set (balances stay right).
    if codes & {m["code"] for m in _DEMO_METERS}:
        sim_list += [m for m in _DEMO_METERS if m["code"] not in codes]
    sim = {m["code"]: m for m in sim_list}
    prof = {c: dict(_DEMO_PROFILES.get(c) or _fallback_profile(m)) for c, m in sim.items()}

    def additive(c: str) -> bool:
        return sim[c].get("kind") in _ADDITIVE_KINDS and prof[c]["model"] not in (
            "pv",
            "export",
            "reactive",
        )

    children: dict[str, list[str]] = {}
    for c, m in sim.items():
        p = m.get("parent")
        if p in sim and additive(c) and additive(p) and sim[p].get("carrier") == m.get("carrier"):
            children.setdefault(p, []).append(c)

    order: list[str] = []
    seen: set[str] = set()

    def visit(c: str, stack: tuple[str, ...]) -> None:
        if c in stack:
            raise ValueError(f"meter parent cycle through {c}")
        if c in seen:
            return
        for ch in children.get(c, []):
            visit(ch, stack + (c,))
        seen.add(c)
        order.append(c)

    for c in sim:
        if additive(c):
            visit(c, ())

    pv = [c for c in sim if prof[c]["model"] == "pv"]
    grids = [c for c in sim if prof[c]["model"] == "grid" and additive(c)]
    pv_grid = {}
    for c in pv:
        g = _DEMO_PV_INJECTION.get(c) or prof[c].get("grid")
        if g not in grids and len(grids) == 1:
            g = grids[0]
        if g in grids:
            pv_grid[c] = g
    gauges = [c for c in sim if sim[c].get("kind") == "gauge"]
    exports = [c for c in sim if prof[c]["model"] == "export"]

    ar_tau: dict[str, float] = {}
    white: list[str] = []
    for c in sim:
        p, mdl = prof[c], prof[c]["model"]
        if mdl == "load":
            ar_tau["ar:" + c] = 60.0 * float(p.get("tau_min", 20.0))
            if p.get("white", 0.0):
                white.append("w:" + c)
        elif mdl == "compressor":
            ar_tau["ar:air"] = 1200.0
            white.append("w:" + c)
        elif mdl == "pv":
            ar_tau["ar:clouds"] = 1200.0
        elif mdl in ("demand", "power_factor", "oil_temp", "ambient", "constant", "reactive"):
            white.append("w:" + c)
    streams = sorted(set(ar_tau) | set(white))
    return _Model(
        requested,
        sim,
        prof,
        children,
        order,
        pv,
        grids,
        pv_grid,
        gauges,
        exports,
        ar_tau,
        white,
        streams,
    )


# ---------------------------------------------------------------------------------------
# Numerics
# ---------------------------------------------------------------------------------------
def _ar1(e: np.ndarray, phi: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """Rows x_t = phi * x_{t-1} + e_t, x_{-1} = x0 (vectorized in blocks)."""
    m, n = e.shape
    out = np.empty_like(e)
    if n == 0:
        return out
    lp = -np.log(np.clip(phi, 1e-300, 1.0))
    L = int(max(1, min(512, math.floor(13.8 / max(float(lp.max()), 1e-12)))))
    j = np.arange(L)
    pw = np.exp(-lp[:, None] * j)
    ipw = np.exp(lp[:, None] * j)
    x = np.asarray(x0, dtype=float).copy()
    for s in range(0, n, L):
        ln = min(L, n - s)
        c = np.cumsum(e[:, s : s + ln] * ipw[:, :ln], axis=1)
        seg = pw[:, :ln] * ((phi * x)[:, None] + c)
        out[:, s : s + ln] = seg
        x = seg[:, -1]
    return out


def _trap(h: np.ndarray, a: float, b: float, r: float) -> np.ndarray:
    """1 on [a, b], linear ramps of width r outside, 0 elsewhere."""
    return np.clip((h - (a - r)) / r, 0.0, 1.0) * np.clip(((b + r) - h) / r, 0.0, 1.0)


class _Ctx:
    """Time/weather features of one simulation pass (evaluated at interval midpoints)."""

    def __init__(self, ts: np.ndarray, dt: float, seed: int) -> None:
        mid = ts - dt / 2.0
        loc = mid + TZ_OFFSET_S
        d = np.floor(loc / DAY_S).astype(np.int64)
        h = (loc - d * DAY_S) / 3600.0
        uniq, inv = np.unique(d, return_inverse=True)

        def per_day(offset: int, attr: str) -> np.ndarray:
            vals = np.array(
                [getattr(_day_info(seed, int(u) + offset), attr) for u in uniq], dtype=float
            )
            return vals[inv]

        tcur = per_day(0, "dtype").astype(int)
        tprev = per_day(-1, "dtype").astype(int)
        self.h = h
        self.tcur = tcur
        am = h < 12.0
        self.doy = per_day(0, "doy") + h / 24.0
        # production level shape
        w_day = np.clip((h - 7.5) / 0.75, 0, 1) * np.clip((20.25 - h) / 0.5, 0, 1)
        f_cur, f_prev = per_day(0, "prod"), per_day(-1, "prod")
        lunch = 1.0 - 0.45 * _trap(h, 11.5, 12.5, 0.15)
        nmeal = 1.0 - 0.30 * _trap(h, 0.0, 0.5, 0.1)
        self._day_part = w_day * _SHIFT_LEVEL[tcur, 0] * lunch * f_cur
        night_level = np.where(am, _SHIFT_LEVEL[tprev, 1], _SHIFT_LEVEL[tcur, 1])
        self._night_part = (1 - w_day) * night_level * nmeal * np.where(am, f_prev, f_cur)
        self._prod_cache: dict[float, np.ndarray] = {}
        bf_prev, bf_cur = _BASE_IDLE[tprev], _BASE_IDLE[tcur]
        self.base_f = bf_prev + (bf_cur - bf_prev) * np.clip(h / 6.0, 0, 1)
        self.morning = _trap(h, 6.0, 9.0, 0.5) * _MORNING[tcur]
        self.meals = (_trap(h, 10.75, 12.5, 0.25) + _trap(h, 16.75, 18.5, 0.25)) * _PRESENCE[tcur]
        # temperature: season + smoothly interpolated daily anomaly + diurnal swing
        a_prev, a_cur, a_next = per_day(-1, "anom"), per_day(0, "anom"), per_day(1, "anom")
        anom = np.where(
            am, a_prev + (a_cur - a_prev) * (h + 12) / 24, a_cur + (a_next - a_cur) * (h - 12) / 24
        )
        amp = per_day(0, "amp")
        self.temp = (
            16.7
            - 11.9 * np.cos(2 * np.pi * (self.doy - 20.0) / 365.25)
            + anom
            + amp * np.cos(2 * np.pi * (h - 14.5) / 24.0)
        )
        self.k = per_day(0, "k")
        self.ks = per_day(0, "ks")
        self.mid = mid
        self.ts = ts
        self.dt = dt

    def prod(self, night_mult: float) -> np.ndarray:
        p = self._prod_cache.get(night_mult)
        if p is None:
            p = self._day_part + night_mult * self._night_part
            self._prod_cache[night_mult] = p
        return p

    def sin_elevation(self, lat: float, lon: float) -> np.ndarray:
        doy = self.doy
        decl = np.radians(23.44) * np.sin(2 * np.pi * (284.0 + doy) / 365.0)
        b = 2 * np.pi * (doy - 81.0) / 364.0
        eot = 9.87 * np.sin(2 * b) - 7.53 * np.cos(b) - 1.5 * np.sin(b)  # minutes
        solar_h = self.h + (4.0 * (lon - 120.0) + eot) / 60.0
        ha = np.radians(15.0 * (solar_h - 12.0))
        la = math.radians(lat)
        return math.sin(la) * np.sin(decl) + math.cos(la) * np.cos(decl) * np.cos(ha)


def _simulate(
    model: _Model,
    ts: np.ndarray,
    dt: float,
    normals: dict[str, np.ndarray],
    ar_state: dict[str, float],
    seed: int,
) -> dict[str, np.ndarray]:
    """Engineering quantities per interval (counter/delta) or values (gauge) for ``ts``."""
    cx = _Ctx(ts, dt, seed)
    n = len(ts)
    hours = dt / 3600.0
    zeros = np.zeros(n)

    # AR(1) noise, unit stationary variance, all streams in one pass
    ar: dict[str, np.ndarray] = {}
    names = list(model.ar_tau)
    if names:
        phi = np.exp(-dt / np.array([model.ar_tau[k] for k in names]))
        e = np.stack([normals[k] for k in names]) * np.sqrt(1.0 - phi * phi)[:, None]
        x0 = np.array([ar_state.get(k, 0.0) for k in names])
        x = _ar1(e, phi, x0)
        for i, k in enumerate(names):
            ar[k] = x[i]
            ar_state[k] = float(x[i, -1])

    def wn(c: str) -> np.ndarray:
        return normals.get("w:" + c, zeros)

    q: dict[str, np.ndarray] = {}
    aux: dict[str, dict[str, np.ndarray]] = {}

    # PV first (it does not depend on loads)
    for c in model.pv:
        p = model.prof[c]
        sin_e = cx.sin_elevation(float(p.get("lat", 31.23)), float(p.get("lon", 121.47)))
        clear = np.where(sin_e > 0, 0.9 * np.clip(sin_e, 0, None) ** 1.25, 0.0)
        kk = np.clip(cx.k + cx.ks * ar["ar:clouds"], 0.10, 1.05)
        kwp = float(p.get("kwp", 500.0))
        kw = np.minimum(kwp * float(p.get("pr", 0.82)) * clear * kk, 0.85 * kwp)
        q[c] = kw * hours

    air = None
    for c in model.order:
        p = model.prof[c]
        mdl = p["model"]
        kids = model.children.get(c, [])
        s = sum((q[k] for k in kids), zeros) if kids else zeros
        loss = float(p.get("loss", 0.01 if kids else 0.0))
        if mdl == "load":
            rate = (
                float(p.get("base", 0.0)) * cx.base_f
                + float(p.get("prod", 0.0)) * cx.prod(float(p.get("night_mult", 1.0)))
                + float(p.get("cool", 0.0)) * np.maximum(cx.temp - float(p.get("cool_t", 22.0)), 0)
                + float(p.get("heat", 0.0))
                * np.maximum(float(p.get("heat_t", 12.0)) - cx.temp, 0)
                * (
                    0.55
                    + 0.45 * cx.prod(1.0)  # night/weekend set-back
                    + float(p.get("morning_boost", 0.0)) * cx.morning
                )
                + float(p.get("meals", 0.0)) * cx.meals
            )
            fac = 1.0 + float(p.get("sigma", 0.03)) * ar["ar:" + c]
            if p.get("white"):
                fac = fac + float(p["white"]) * wn(c)
            own = np.maximum(rate * fac, 0.0) * hours
            q[c] = own + s * (1.0 + loss)
        elif mdl == "compressor":
            if air is None:
                air = np.maximum(0.22 + 1.3 * cx.prod(0.8) * (1.0 + 0.06 * ar["ar:air"]), 0.0)
            duty = np.clip(air - float(p.get("start", 0.0)), 0.0, 1.0)
            period = float(p.get("period_s", 300.0))
            ph = float(p.get("phase", 0.0))
            x1 = cx.ts / period + ph
            x0 = x1 - dt / period

            def cum(x: np.ndarray, duty: np.ndarray = duty) -> np.ndarray:
                fl = np.floor(x)
                return fl * duty + np.minimum(x - fl, duty)

            loaded = np.clip((cum(x1) - cum(x0)) * period / dt, 0.0, 1.0)
            unload = float(p.get("unload", 0.3))
            kw = float(p.get("kw", 100.0)) * (loaded + unload * (1.0 - loaded))
            kw = np.where(duty > 0, kw * (1.0 + 0.015 * wn(c)), 0.0)
            q[c] = np.maximum(kw, 0.0) * hours + s * (1.0 + loss)
        elif mdl == "transformer":
            kva = float(p.get("kva", 1000.0))
            k_load = s / hours / (0.95 * kva)
            loss_kw = (
                float(p.get("aux_kw", 0.0))
                + float(p.get("no_load_kw", 0.0))
                + float(p.get("load_loss_kw", 0.0)) * k_load**2
            )
            q[c] = s * (1.0 + float(p.get("loss", 0.003))) + loss_kw * hours
        elif mdl == "grid":
            load = s * (1.0 + float(p.get("loss", 0.002))) + float(p.get("aux_kw", 0.0)) * hours
            pv = sum((q[v] for v, g in model.pv_grid.items() if g == c), zeros)
            used = np.minimum(pv, load)
            q[c] = load - used
            aux[c] = {"load": load, "pv": pv, "export": pv - used}
        else:  # unknown additive model: behave like a pure aggregator
            q[c] = s * (1.0 + loss)

    for c in model.exports:
        g = model.prof[c].get("grid")
        if g not in aux and len(model.grids) == 1:
            g = model.grids[0]
        q[c] = aux[g]["export"] if g in aux else zeros.copy()

    for c in model.gauges:
        p = model.prof[c]
        mdl = p["model"]
        src = p.get("source")
        if mdl == "demand":
            base = q.get(src, zeros) / hours * float(p.get("scale", 1.0))
            q[c] = np.round(np.maximum(base * (1.0 + 0.006 * wn(c)), 0.0), 1)
        elif mdl == "power_factor":
            a = aux.get(src)
            if a is None:
                q[c] = np.round(np.clip(0.96 + 0.005 * wn(c), 0, 1), 3)
                continue
            p_kw = (a["load"] - a["pv"]) / hours
            q_kvar = (0.12 * a["load"] / hours + 120.0) * (1.0 + 0.03 * wn(c))
            q[c] = np.round(np.abs(p_kw) / np.sqrt(p_kw**2 + q_kvar**2 + 1e-9), 3)
        elif mdl == "oil_temp":
            kva = float(p.get("kva", 1000.0))
            k_load = q.get(src, zeros) / hours / (0.95 * kva)
            rise = float(p.get("rated_rise", 55.0)) * ((1 + 6 * k_load**2) / 7.0) ** 0.8
            u = cx.temp + 5.0 + rise
            phi = math.exp(-dt / (60.0 * float(p.get("tau_min", 150.0))))
            name = "lag:" + c
            y = _ar1(
                ((1.0 - phi) * u)[None, :],
                np.array([phi]),
                np.array([ar_state.get(name, float(u[0]))]),
            )[0]
            ar_state[name] = float(y[-1])
            q[c] = np.round(y + 0.15 * wn(c), 1)
        elif mdl == "ambient":
            q[c] = np.round(cx.temp + float(p.get("offset", 0.0)) + 0.1 * wn(c), 1)
        else:  # constant
            q[c] = float(p.get("value", 1.0)) * (1.0 + 0.01 * wn(c))
    for c, p in model.prof.items():  # reactive energy of a grid connection (kvarh per interval)
        if p["model"] == "reactive":
            a = aux.get(p.get("source"))
            load_kw = a["load"] / hours if a is not None else zeros
            q[c] = np.maximum((0.12 * load_kw + 120.0) * (1.0 + 0.03 * wn(c)), 0.0) * hours
    return q


def _initial_total(seed: int, m: dict[str, Any]) -> float:
    """A plausible, nonzero starting register (engineering units), fixed per seed+meter."""
    rng = np.random.default_rng(_key(seed, seed >> 32, _crc(m["code"]), 0x1417))
    span = float(m.get("rollover") or 10_000_000)
    return float(rng.uniform(0.05, 0.6)) * span * float(m.get("multiplier") or 1.0)


def _outputs(
    model: _Model, q: dict[str, np.ndarray], state: GeneratorState
) -> dict[str, np.ndarray]:
    """Raw meter values (register / interval quantity / gauge) for the requested meters."""
    out: dict[str, np.ndarray] = {}
    seed = int(state.seed or 0)
    for m in model.meters:
        c = m["code"]
        mult = float(m.get("multiplier") or 1.0)
        kind = m.get("kind")
        v = q[c]
        if kind == "counter":
            t0 = state.totals.get(c)
            if t0 is None:
                t0 = _initial_total(seed, m)
            tot = t0 + np.cumsum(v)
            state.totals[c] = float(tot[-1])
            raw = tot / mult
            roll = m.get("rollover")
            if roll:
                raw = np.mod(raw, float(roll))
            out[c] = raw
        elif kind == "delta":
            out[c] = v / mult
        else:
            out[c] = v / mult if mult != 1.0 else v
    return out


def _epoch(t: _dt.datetime) -> float:
    """Epoch seconds; naive datetimes are taken as UTC."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return t.timestamp()


def _day_normals(seed: int, d: int, step: int, name: str, n: int) -> np.ndarray:
    rng = np.random.default_rng(_key(seed, seed >> 32, d + 1_000_000, step, _crc(name)))
    return rng.standard_normal(n)


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------
def generate(
    meters: Sequence[dict[str, Any]],
    start: _dt.datetime,
    end: _dt.datetime,
    step_s: int = 60,
    seed: int = 42,
    state: GeneratorState | None = None,
) -> Iterator[MeterChunk]:
    """Yield history for ``meters`` on the ``step_s`` grid (epoch-aligned) in [start, end).

    Chunks hold at most one local day of one meter, day-major. Without a checkpoint in
    ``state`` the generation is anchored at the local midnight before ``start``; with one,
    the days from the checkpoint to ``start`` are simulated silently first (a checkpoint
    after ``start`` is an error). Pass the same ``state`` to a following call to continue:
    the values are exactly those of one call over the whole span.
    """
    step = int(step_s)
    if step <= 0:
        raise ValueError("step_s must be positive")
    if state is None:
        state = GeneratorState(seed=seed, step_s=step)
    if state.day is not None and (state.seed, state.step_s) != (seed, step):
        raise ValueError("the state was made with another seed or step")
    state.seed = seed
    state.step_s = step
    model = _compile(meters)
    t0, t1 = _epoch(start), _epoch(end)
    first = math.ceil(t0 / step) * step
    if first >= t1:
        return
    last = math.ceil(t1 / step) * step - step  # last grid point < end
    if state.day is None:
        state.day = local_day(first)
    elif state.day > local_day(first):
        raise ValueError("the state's checkpoint is after start")
    for d in range(state.day, local_day(last) + 1):
        d0 = d * DAY_S - TZ_OFFSET_S
        g0 = math.ceil(d0 / step) * step
        n_full = (d0 + DAY_S - g0 + step - 1) // step
        complete = g0 + step * (n_full - 1) < t1  # the whole day lies before end
        ar = state.ar if complete else dict(state.ar)
        run = state if complete else GeneratorState(seed, step, None, d, dict(state.totals), ar)
        ts = g0 + step * np.arange(n_full, dtype=np.int64)
        normals = {name: _day_normals(seed, d, step, name, n_full) for name in model.streams}
        q = _simulate(model, ts.astype(np.float64), float(step), normals, run.ar, seed)
        out = _outputs(model, q, run)
        if complete:
            state.day = d + 1
        i0 = max(0, (first - g0) // step)
        i1 = min(n_full, (last - g0) // step + 1)
        if i1 <= i0:
            continue
        state.last_ts = float(ts[i1 - 1])
        for m in model.meters:
            yield MeterChunk(m["code"], ts[i0:i1], out[m["code"]][i0:i1])
