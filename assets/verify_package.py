"""Recompute a verifier's package offline: ``python verify.py package.zip``.

Standard library only; reads nothing but the zip. Checks, and prints as one JSON document:

1. every file's sha256 against ``manifest.json``;
2. every derivation's hash: sha256 of the canonical JSON of ``{"formulas", "inputs"}``;
3. in every derivation, scope 1 and scope 2 (location) equal the sum of their source rows;
4. every grid-electricity row: tCO₂ = kWh ÷ 1,000 × factor (tCO₂/MWh) of the factor row it names;
5. each meter's year of readings equals the sum of its twelve months (``readings_monthly.csv``);
6. the year's scope 1, scope 2 (location) and energy equal the sum of the months;
7. net emissions = max(0, scope 1 + scope 2 market-based − reductions) − offsets retired,
   the offsets recomputed from the ledger's retirement transactions.

Exit status 0 when every check holds, 1 otherwise. This file is shipped inside each package.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
import zipfile
from datetime import datetime
from decimal import Decimal

TOL = 1e-6


def canonical(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def verify(path: str) -> dict:
    failures: list[str] = []
    checks = 0
    z = zipfile.ZipFile(path)
    manifest = json.loads(z.read("manifest.json"))
    for name, digest in manifest["files"].items():
        checks += 1
        if hashlib.sha256(z.read(name)).hexdigest() != digest:
            failures.append(f"sha256 of {name} differs from the manifest")
    derivations = {}
    for name in z.namelist():
        if name.startswith("derivations/") and name.endswith(".json"):
            d = json.loads(z.read(name))
            derivations[d["hash"]] = d
            checks += 1
            blob = canonical({"formulas": d["formulas"], "inputs": d["inputs"]})
            if hashlib.sha256(blob.encode("utf-8")).hexdigest() != d["hash"]:
                failures.append(f"{name}: content hash does not match its inputs and formulas")
            res = d["results"]
            for scope, key, col in (
                (1, "scope1_tco2e", "tco2e"),
                (2, "scope2_location_tco2", "tco2"),
            ):
                rows = [r for r in res["by_source"] if r["scope"] == scope and r[col] is not None]
                checks += 1
                if not close(sum(r[col] for r in rows), res[key]):
                    failures.append(f"{name}: {key} is not the sum of its source rows")
            factors = {f["id"]: f for f in d["inputs"]["factors"]}
            for r in res["by_source"]:
                f = factors.get(r.get("factor_id"))
                if f and r["unit"] == "kWh" and f["unit"] == "tCO2/MWh" and r["tco2"] is not None:
                    checks += 1
                    if not close(r["activity"] / 1000.0 * f["value"], r["tco2"]):
                        failures.append(f"{name}: {r.get('meter')} tCO2 ≠ kWh × factor")
    index = json.loads(z.read("index.json"))
    year = derivations[index["year_derivation"]]["results"]
    months = [derivations[h]["results"] for h in index["month_derivations"]]
    for key in ("scope1_tco2e", "scope2_location_tco2", "energy_tce"):
        checks += 1
        if not close(sum(m[key] for m in months), year[key]):
            failures.append(f"the year's {key} is not the sum of its months")
    per_meter: dict[str, float] = {}
    per_meter_year: dict[str, float] = {}
    for row in csv.DictReader(io.StringIO(z.read("readings_monthly.csv").decode("utf-8"))):
        target = per_meter_year if row["month"] == "year" else per_meter
        target[row["meter"]] = target.get(row["meter"], 0.0) + float(row["energy"])
    for meter, total in per_meter_year.items():
        checks += 1
        if not close(per_meter.get(meter, 0.0), total):
            failures.append(f"readings of {meter}: months do not add up to the year")
    ledger = json.loads(z.read("assets.json"))
    lo, hi = (datetime.fromisoformat(index["period"][k]) for k in ("start", "end"))
    offsets = Decimal(0)
    for a in ledger["assets"]:
        for t in a["transactions"]:
            if t["purpose"] == "offset" and t["period_end"]:
                end = datetime.fromisoformat(t["period_end"])
                if lo < end <= hi:
                    offsets += Decimal(t["quantity"])
    net = json.loads(z.read("offsets.json"))
    gross = Decimal(str(year["scope1_tco2e"])) + Decimal(str(year["scope2_market_tco2"]))
    residual = max(Decimal(0), gross - Decimal(net["reductions_tco2"]))
    recomputed = residual - offsets
    checks += 2
    if abs(offsets - Decimal(net["offsets_tco2"])) > Decimal("0.000001"):
        failures.append("offsets retired in the ledger differ from the reported offsets")
    if abs(recomputed - Decimal(net["net_tco2"])) > Decimal("0.00001"):
        failures.append("net emissions do not recompute")
    return {
        "checks": checks,
        "failures": failures,
        "figures": {
            "scope1_tco2e": year["scope1_tco2e"],
            "scope2_location_tco2": year["scope2_location_tco2"],
            "scope2_market_tco2": year["scope2_market_tco2"],
            "energy_tce": year["energy_tce"],
            "offsets_tco2": str(offsets),
            "net_tco2": str(recomputed.quantize(Decimal("0.000001"))),
        },
    }


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python verify.py PACKAGE.zip", file=sys.stderr)
        return 2
    out = verify(sys.argv[1])
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0 if not out["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
