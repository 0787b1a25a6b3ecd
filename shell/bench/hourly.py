"""A site of hourly electricity meters with their readings, built through the HTTP API, and
the shift loads they carry: what ``ecc bench cluster`` seeds and what the forecasting tests
build their groups from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import httpx
import numpy as np


def add_hourly_site(
    client: httpx.Client,
    headers: Mapping[str, str],
    site: str,
    series: Mapping[str, Sequence[float] | None],
    stamps: Sequence[datetime],
) -> None:
    """Site ``site`` with one hourly delta meter (electricity, kWh per hour) per code of
    ``series``, and each meter's values at ``stamps`` (None: no readings yet) posted in one
    request; raises ``RuntimeError`` on any refusal."""
    r = client.post("/api/v1/sites", headers=headers, json={"code": site, "name": site})
    _check(r, 201, f"site {site}")
    posted = []
    for code, values in series.items():
        body = {
            "code": code,
            "name": code,
            "site": site,
            "carrier": "electricity",
            "unit": "kWh",
            "kind": "delta",
            "interval_s": 3600,
        }
        _check(client.post("/api/v1/meters", headers=headers, json=body), 201, f"meter {code}")
        if values is not None:
            ts = [t.isoformat() for t in stamps]
            posted.append({"meter": code, "ts": ts, "value": [float(v) for v in values]})
    if not posted:
        return
    r = client.post("/api/v1/readings", headers=headers, json={"series": posted})
    _check(r, 200, f"readings of {site}")
    if r.json()["rejected"]:
        raise RuntimeError(f"readings of {site} rejected: {r.json()['rejected'][:3]}")


def shift_loads(
    hours: np.ndarray,
    weekdays: np.ndarray,
    level: float,
    seed: int,
    *,
    day_sd: float,
    hour_sd: float,
) -> np.ndarray:
    """kWh per hour of a day-shift load (10 kWh 08-18 h on working days, 3 otherwise, times
    ``level``) with relative noise per day (``day_sd``) and per hour (``hour_sd``)."""
    rng = np.random.default_rng(seed)
    work = (hours >= 8) & (hours < 18) & (weekdays < 5)
    days = np.arange(hours.size) // 24
    day = rng.normal(0, day_sd, days.max() + 1)[days]
    base = np.where(work, 10.0, 3.0) * (1 + day)
    return np.round(level * base * (1 + rng.normal(0, hour_sd, hours.size)), 3).clip(0.01)


def _check(response: httpx.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{what}: {response.status_code} {response.text}")
