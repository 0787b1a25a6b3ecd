"""Data-quality checks of carbon figures, as findings (code, subject, detail) the control room
can list, never exceptions that stop at the first problem."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from carbon.series import meter_carbon
from metering import registry


def round_half_up(x: float, places: int = 2) -> float:
    """Round as a plant's report does (0.005 → 0.01), on the decimal value of the float."""
    q = Decimal(1).scaleb(-places)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))


def compare_reported_co2(
    session: Session,
    meter: str,
    reported: str,
    start: datetime,
    end: datetime,
    places: int = 2,
    version: int | None = None,
) -> dict:
    """Compare the engine's interval tCO2 of ``meter`` (rounded to ``places`` decimals) with a
    meter carrying the plant's own interval CO2 figure in t (``reported``), interval by
    interval over (start, end]. Lists every interval where they disagree."""
    computed = meter_carbon(session, meter, start, end, "raw", version)
    ref = registry.get_meter(session, reported)
    rows = session.execute(
        text("SELECT ts, value FROM reading WHERE meter_id = :m AND ts > :s AND ts <= :e"),
        {"m": ref.id, "s": start, "e": end},
    ).all()
    theirs = {ts: v for ts, v in rows}
    findings, agree, compared = [], 0, 0
    for p in computed["points"]:
        if p["ts"] not in theirs or p["co2_t"] is None:
            continue
        compared += 1
        ours = round_half_up(p["co2_t"], places)
        if abs(ours - theirs[p["ts"]]) < 0.5 * 10**-places:
            agree += 1
        else:
            findings.append(
                {
                    "code": "reported_co2_mismatch",
                    "subject": meter,
                    "ts": p["ts"],
                    "activity": p["activity"],
                    "computed_tco2": p["co2_t"],
                    "computed_rounded_tco2": ours,
                    "reported_tco2": theirs[p["ts"]],
                    "detail": f"engine {ours} t vs plant {theirs[p['ts']]} t",
                }
            )
    missing = len(theirs) - compared
    return {
        "meter": meter,
        "reported": reported,
        "version": computed["version"],
        "intervals": compared,
        "agree": agree,
        "agreement": agree / compared if compared else None,
        "reported_without_reading": missing,
        "findings": findings,
    }
