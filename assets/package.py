"""The verifier's package (碳核查支撑): one zip from which a third party recomputes every figure
of a site's year offline, with ``verify.py`` (``assets/verify_package.py``) inside.

Contents: ``index.json`` (which derivation is the year, which are the months), ``derivations/``
(every derivation as JSON with its hash: inputs, formulas, results), ``readings_monthly.csv``
(energy per meter and month, and per year, in the meter's canonical unit), ``factors.csv``
(factor rows with sources and verification), ``factor_log.csv`` (every change to the factor
library), ``assets.json`` (ledger entries and their transactions), ``offsets.json``,
``ets_position.json``, ``scorecard.json``, ``inventory.json``, ``README.txt`` and
``manifest.json`` (sha256 of every other file).
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable
from datetime import UTC, date, datetime
from importlib import resources

from sqlalchemy.orm import Session

from assets import ledger
from assets import offsets as offsets_mod
from assets import scorecard as scorecard_mod
from carbon import derivation, engine, factors, report
from metering import clock, registry

FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # identical inputs give identical bytes

README = """Verifier's package: {site}, {year}
Created {created} UTC.

Run `python verify.py` with this zip as its argument (Python 3.11+, standard library only).
It checks every file against manifest.json, recomputes every derivation's hash from its inputs
and formulas, re-adds scope totals from their source rows, recomputes grid-electricity
emissions from kWh and the factor rows, re-adds months to the year and meters' months to their
year, and recomputes net emissions from the ledger's retirements.

Hash rule: sha256 of the canonical JSON (sorted keys, separators ',' ':', UTF-8) of
{{"formulas": formulas, "inputs": inputs}}.
"""


def _json(obj: object) -> bytes:
    return derivation.canonical_json(obj).encode("utf-8")


def _csv(rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in rows:
        w.writerow(["'" + c if isinstance(c, str) and c[:1] in "=+-@\t\r" else c for c in r])
    return buf.getvalue().encode("utf-8")


def _readings(body: dict, label: str) -> list[list[object]]:
    per: dict[tuple[str, str], float] = {}
    for r in body["inputs"]["readings"]:
        key = (r["meter"], r["unit"])
        per[key] = per.get(key, 0.0) + r["energy"]
    return [[m, label, e, u] for (m, u), e in sorted(per.items())]


def _derivation(session: Session, site: str, lo: datetime, hi: datetime, version: int) -> dict:
    """The full derivation body (inputs, formulas, results, hash) of a period's emissions."""
    calc = engine.calculate(session, site, lo, hi, version=version)
    calc.result(session)
    assert calc.derivation is not None
    return calc.derivation


def build(
    session: Session, site: str, year: int, served_paths: Iterable[str], now: datetime
) -> bytes:
    inv = report.inventory(session, site, year)
    start, end = offsets_mod.year_bounds(session, site, year)
    zone = clock.site_zone(session, site)
    year_body = _derivation(session, site, start, end, inv["version"])
    month_bodies = [
        _derivation(
            session, site, *clock.period_bounds("month", date(year, m, 1), zone), inv["version"]
        )
        for m in range(1, 13)
    ]
    if year_body["hash"] != inv["derivation_hash"]:
        raise RuntimeError("the year's derivation did not recompute to the inventory's hash")
    files: dict[str, bytes] = {}
    for body in [year_body, *month_bodies]:
        files[f"derivations/{body['hash']}.json"] = _json(body)
    files["index.json"] = _json(
        {
            "site": site,
            "year": year,
            "period": {"start": start.isoformat(), "end": end.isoformat()},
            "year_derivation": inv["derivation_hash"],
            "month_derivations": [m["derivation_hash"] for m in inv["monthly"]],
        }
    )
    rows: list[list[object]] = [["meter", "month", "energy", "unit"]]
    for m, body in zip(inv["monthly"], month_bodies, strict=True):
        rows += _readings(body, m["month"])
    rows += _readings(year_body, "year")
    files["readings_monthly.csv"] = _csv(rows)
    used = year_body["inputs"]["factors"]
    cols = sorted({k for f in used for k in f})
    files["factors.csv"] = _csv([cols] + [[f.get(c) for c in cols] for f in used])
    log = factors.factor_log(session)
    used_ids = {f["id"] for f in used}
    header: list[object] = ["factor_id", "action", "actor", "at", "old_value", "new_value"]
    header.append("detail")
    files["factor_log.csv"] = _csv(
        [header]
        + [
            [r.factor_id, r.action, r.actor, r.at.isoformat(), r.old_value, r.new_value, r.detail]
            for r in log
            if r.factor_id in used_ids
        ]
    )
    sites = registry.site_codes(session)
    files["assets.json"] = _json(
        {
            "assets": [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "serial": a.serial,
                    "serial_from": a.serial_from,
                    "serial_to": a.serial_to,
                    "quantity": a.quantity,
                    "unit": a.unit,
                    "vintage": a.vintage,
                    "site": sites[a.site_id],
                    "registry": a.registry_name,
                    "project": a.project,
                    "evidence": a.evidence,
                    "status": a.status,
                    "transactions": [
                        {
                            "action": t.action,
                            "quantity": t.quantity,
                            "purpose": t.purpose,
                            "period_start": t.period_start,
                            "period_end": t.period_end,
                            "counterparty": t.counterparty,
                            "at": t.at,
                            "actor": t.actor,
                        }
                        for t in ledger.history(session, a.id)
                    ],
                }
                for a in ledger.list_assets(session, site, None, None)
            ]
        }
    )
    files["offsets.json"] = _json(offsets_mod.offsets(session, site, year))
    files["ets_position.json"] = _json(offsets_mod.ets_position(session, site, year))
    files["scorecard.json"] = _json(scorecard_mod.scorecard(session, site, year, served_paths))
    files["inventory.json"] = _json(inv)
    files["verify.py"] = (
        resources.files("assets").joinpath("verify_package.py").read_text("utf-8").encode()
    )
    files["README.txt"] = README.format(
        site=site, year=year, created=now.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    ).encode("utf-8")
    manifest = {
        "site": site,
        "year": year,
        "created": now.astimezone(UTC).isoformat(),
        "files": {n: hashlib.sha256(b).hexdigest() for n, b in sorted(files.items())},
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            z.writestr(zipfile.ZipInfo(name, FIXED_ZIP_TIME), data)
        z.writestr(zipfile.ZipInfo("manifest.json", FIXED_ZIP_TIME), _json(manifest))
    return buf.getvalue()
