"""A site of hourly electricity meters with their readings, built through the HTTP API: what
``ecc bench cluster`` seeds and what the forecasting tests build their groups from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import httpx


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


def _check(response: httpx.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{what}: {response.status_code} {response.text}")
