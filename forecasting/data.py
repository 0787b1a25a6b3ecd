"""Any CSV file to one regular series: the input side of ``ecc bench forecast``.

The file may be unsorted, have gaps, repeated rows, off-grid stamps, a repeated or missing
hour at a DST change, naive local or offset timestamps. What comes out is a frame on a
regular grid (``freq`` set on its index) with the target in ``y`` and the exogenous columns
beside it, plus findings that say what was repaired.

Timestamps:

- with an offset (``2018-01-01T00:15+09:00``, ``…Z``): placed on a regular grid in absolute
  time and shown in ``tz`` if given, else in the file's (most common) offset;
- naive with ``tz`` (an IANA zone): localised; of two rows at a repeated wall-clock hour
  (autumn DST) the first is the summer-time one; stamps in the missing spring hour are dropped;
- naive without ``tz``: kept as a wall-clock grid; the two rows of a repeated hour are
  averaged, a missing hour is a gap like any other.

Gaps up to ``fill_limit`` (default one hour) are interpolated; longer ones stay NaN (every
model skips missing targets, backtests score only observed values). Rows at the same stamp
are averaged. A coarser ``freq`` than the file's aggregates by mean into buckets labelled by
their end (interval meters stamp the end of the interval), a finer one is refused.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from core.errors import Invalid
from forecasting.base import TARGET

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%d/%m/%y %H:%M",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%m-%d-%Y %H:%M",
    "%Y%m%d%H%M",
)
_SAMPLE = 2000


@dataclass
class LoadedSeries:
    """A regular series read from a file, and what was done to it."""

    frame: pd.DataFrame
    name: str
    freq: pd.Timedelta
    rows: int
    findings: dict[str, object] = field(default_factory=dict)


def read_series_csv(
    path: Path,
    ts_col: str,
    value_col: str,
    exog_cols: Sequence[str] = (),
    *,
    freq: str | None = None,
    tz: str | None = None,
    ts_format: str | None = None,
    fix_midnight: bool = False,
    fill_limit: str = "1h",
) -> LoadedSeries:
    """Read ``value_col`` (and ``exog_cols``) of a CSV file (``.gz`` too) as a regular series."""
    columns = [ts_col, value_col, *exog_cols]
    if len(set(columns)) != len(columns):
        raise Invalid("columns", "the timestamp, value and exogenous columns must differ")
    raw = _read_columns(Path(path), columns)
    stamps, display = parse_timestamps(
        raw[ts_col], ts_format=ts_format, tz=tz, fix_midnight=fix_midnight
    )
    values = pd.DataFrame({TARGET: _numbers(raw[value_col])}, index=raw.index)
    for col in exog_cols:
        values[col] = _numbers(raw[col])
    ok = stamps.notna().to_numpy()
    if ok.sum() < 0.9 * len(raw):
        example = raw[ts_col][~ok].iloc[0]
        raise Invalid(
            "ts_col",
            f"{(~ok).sum()} of {len(raw)} timestamps do not parse "
            f"(e.g. {example!r}); give --ts-format",
        )
    values.index = pd.DatetimeIndex(stamps)
    values = values[ok]
    frame, step, findings = regularize(values, freq=freq, fill_limit=fill_limit, display_tz=display)
    findings = {"unparsed_ts": int((~ok).sum()), **findings}
    return LoadedSeries(
        frame=frame,
        name=f"{Path(path).name}:{value_col}",
        freq=step,
        rows=len(raw),
        findings=findings,
    )


def _read_columns(path: Path, columns: list[str]) -> pd.DataFrame:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        header = fh.readline()
    sep = max((",", ";", "\t", "|"), key=header.count)
    names = [h.strip() for h in header.rstrip("\r\n").split(sep)]
    missing = [c for c in columns if c not in names]
    if missing:
        raise Invalid(
            "columns", f"not in the file: {', '.join(missing)}; the header has {', '.join(names)}"
        )
    frame = pd.read_csv(
        path,
        sep=sep,
        usecols=columns,
        dtype=str,
        encoding="utf-8-sig",
        skipinitialspace=True,
        keep_default_na=False,
    )
    return frame.reset_index(drop=True)


def _numbers(text: pd.Series) -> np.ndarray:
    return pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(dtype=float)


def parse_timestamps(
    text: pd.Series,
    *,
    ts_format: str | None = None,
    tz: str | None = None,
    fix_midnight: bool = False,
) -> tuple[pd.Series, tzinfo | None]:
    """Timestamps in file order and the zone to show them in: tz-aware UTC if the file or
    ``tz`` gives the zone, naive wall clock (and no zone) otherwise; NaT where a stamp does
    not parse."""
    text = text.astype(str).str.strip()
    filled = text[text != ""]
    offsets = filled.str.contains(_OFFSET) if len(filled) else pd.Series([], dtype=bool)
    aware = bool(len(offsets)) and bool(offsets.all())
    if len(offsets) and offsets.any() and not aware:
        raise Invalid("ts_col", "some timestamps have a UTC offset and some do not")
    stamps = _parse(text, ts_format, aware)
    if fix_midnight:
        stamps = _fix_midnight(stamps)
    display: tzinfo | None = None
    if aware:
        display = _zone(tz) if tz else _common_offset(filled)
    elif tz:
        display = _zone(tz)
        stamps = _localize(stamps, display)
    return stamps, display


def _parse(text: pd.Series, ts_format: str | None, aware: bool) -> pd.Series:
    if ts_format:
        return pd.to_datetime(text, format=ts_format, errors="coerce", utc=aware)
    iso = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=aware)
    if iso.notna().mean() > 0.9:
        return iso
    sample = text.iloc[:_SAMPLE]
    best, best_score = iso, -1.0
    for fmt in _FORMATS:
        if pd.to_datetime(sample, format=fmt, errors="coerce", utc=aware).isna().any():
            continue
        parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=aware)
        score = parsed.notna().mean() + _regularity(parsed)
        if score > best_score:
            best, best_score = parsed, score
    return best


def _regularity(stamps: pd.Series) -> float:
    """Share of steps equal to the most common step (1 for a clean regular series)."""
    diffs = stamps.dropna().sort_values().diff().dropna()
    diffs = diffs[diffs > pd.Timedelta(0)]
    return float(diffs.value_counts(normalize=True).iloc[0]) if len(diffs) else 0.0


def _fix_midnight(stamps: pd.Series) -> pd.Series:
    """A 00:00 stamp not later than the row before it ends the previous day: add one day."""
    previous = stamps.shift(1)
    at_midnight = (stamps.dt.hour == 0) & (stamps.dt.minute == 0) & (stamps.dt.second == 0)
    wrong = at_midnight & (stamps <= previous)
    return stamps.where(~wrong, stamps + pd.Timedelta(days=1))


def _zone(name: str) -> tzinfo:
    if name.upper() in ("Z", "UTC"):
        return UTC
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name)
    if match:
        delta = timedelta(hours=int(match[2]), minutes=int(match[3]))
        return timezone(delta if match[1] == "+" else -delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("tz", f"unknown timezone {name!r}") from None


def _common_offset(text: pd.Series) -> tzinfo:
    found = text.str.extract(r"(Z|[+-]\d{2}:?\d{2})$")[0].value_counts()
    return _zone(str(found.index[0]))


def _localize(stamps: pd.Series, zone: tzinfo) -> pd.Series:
    """Naive wall-clock stamps in ``zone`` → UTC. Of two rows at the same ambiguous wall
    time (file order) the first is summer time; stamps in a skipped hour become NaT."""
    order = stamps.sort_values(kind="stable")
    first = ~order.duplicated(keep="first")
    index = pd.DatetimeIndex(order)
    local = index.tz_localize(zone, ambiguous=first.to_numpy(), nonexistent="NaT")
    out = pd.Series(local.tz_convert("UTC"), index=order.index)
    return out.reindex(stamps.index)


def detect_freq(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The series' step: the greatest common divisor of the differences between consecutive
    distinct stamps that make up at least a tenth of them (so gaps of two steps do not hide
    the step, and a rare jittered stamp does not shrink it)."""
    stamps = index.dropna().unique().sort_values()
    if len(stamps) < 3:
        raise Invalid("freq", "need at least three distinct timestamps to detect the frequency")
    counts = pd.Series(stamps[1:] - stamps[:-1]).value_counts()
    common = counts[counts >= 0.1 * counts.sum()].index
    nanoseconds = np.array([pd.Timedelta(d).value for d in common], dtype=np.int64)
    return pd.Timedelta(int(np.gcd.reduce(nanoseconds)))


def parse_freq(freq: str) -> pd.Timedelta:
    try:
        step = pd.Timedelta(freq)
    except ValueError:
        raise Invalid("freq", f"not a frequency like 15min or 1h: {freq!r}") from None
    if step <= pd.Timedelta(0):
        raise Invalid("freq", "must be positive")
    return step


def regularize(
    values: pd.DataFrame,
    *,
    freq: str | None = None,
    fill_limit: str = "1h",
    display_tz: tzinfo | None = None,
) -> tuple[pd.DataFrame, pd.Timedelta, dict[str, object]]:
    """Stamped rows (any order, repeats, gaps) → one row per step of a regular grid.

    ``values`` has a DatetimeIndex (naive wall clock, or tz-aware) and a ``y`` column, plus
    exogenous columns. A tz-aware grid is built in UTC and shown in ``display_tz`` (default:
    the index's zone).
    """
    index = pd.DatetimeIndex(values.index)
    display = display_tz or index.tz
    if index.tz is not None:
        index = index.tz_convert("UTC")
    frame = values.set_axis(index).sort_index(kind="stable")
    findings: dict[str, object] = {"duplicates": int(index.duplicated().sum())}
    frame = frame.groupby(level=0).mean()
    detected = detect_freq(frame.index)
    step = parse_freq(freq) if freq else detected
    findings["detected_freq"] = freq_text(detected)
    if step < detected:
        raise Invalid("freq", f"{freq_text(step)} is finer than the data ({freq_text(detected)})")
    if step > detected:
        frame = frame.resample(step, closed="right", label="right").mean()
        findings["aggregated_from"] = freq_text(detected)
    offset = (frame.index - frame.index[0]) % step
    off_grid = offset != pd.Timedelta(0)
    findings["off_grid"] = int(off_grid.sum())
    if off_grid.any():
        steps = np.round((frame.index - frame.index[0]) / step).astype(np.int64)
        frame = frame.set_axis(frame.index[0] + steps * step).groupby(level=0).mean()
    grid = pd.date_range(frame.index[0], frame.index[-1], freq=step)
    frame = frame.reindex(grid)
    missing = int(frame[TARGET].isna().sum())
    findings["missing_steps"] = missing
    limit = int(pd.Timedelta(fill_limit) / step) if fill_limit else 0
    frame[TARGET] = fill_short_gaps(frame[TARGET], limit)
    for col in frame.columns.drop(TARGET):
        frame[col] = frame[col].interpolate(limit_area="inside").ffill().bfill()
    findings["filled_steps"] = missing - int(frame[TARGET].isna().sum())
    if display is not None:
        frame.index = frame.index.tz_convert(display)
    frame.index.freq = step
    return frame, step, findings


def fill_short_gaps(y: pd.Series, limit: int) -> pd.Series:
    """Linear interpolation of runs of at most ``limit`` missing values between two observed
    ones; longer runs, and missing values at either end, stay NaN."""
    missing = y.isna()
    if limit < 1 or not missing.any():
        return y
    run_length = missing.groupby((~missing).cumsum()).transform("sum")
    inside = y.ffill().notna() & y.bfill().notna()
    fill = missing & (run_length <= limit) & inside
    return y.where(~fill, y.interpolate(limit_area="inside"))


def freq_text(step: pd.Timedelta) -> str:
    seconds = int(step.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
