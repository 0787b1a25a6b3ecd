"""Try a rule on stored history before saving it: how many alarms it would have raised.

The rule is validated like a saved one, compiled by the engine's own
:func:`alarms.evaluate.compile_rule`, and its compared quantity, arming windows, limits with
deadband and on-/off-delays are the engine's (:func:`alarms.evaluate.quantity`,
:mod:`alarms.conditions`): the answer is what the engine would have done with those readings
(from normal, every condition point on its own, nothing annunciated). Stream types only
(evaluated on readings); clock-driven types answer 422 naming the type.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from alarms import catalog, evaluate
from alarms.conditions import DebounceState, debounce
from alarms.rules import RuleIn, validate
from alarms.store import us_to_dt
from core.errors import Invalid
from models import Meter, Site
from models.alarms import RuleType

US = 1_000_000
MAX_DAYS = 31
MAX_LISTED = 200  # activation times listed; the count is always complete


def _us(t: datetime) -> int:
    return int(t.timestamp() * US)


def try_rule(session: Session, data: RuleIn, end: datetime, days: float = 7.0) -> dict:
    """``{"alarms": N, "raised_at": [...], "raised": [...], "window": {...}}`` for ``data``
    evaluated over the stored readings of (end - days, end]."""
    if not 0 < days <= MAX_DAYS:
        raise Invalid("days", f"must be more than 0 and at most {MAX_DAYS}")
    if end.tzinfo is None:
        raise Invalid("end", "timestamp without UTC offset")
    try:
        start = end - timedelta(days=days)
    except OverflowError:
        raise Invalid("end", "out of range") from None
    for name in ("on_delay_s", "off_delay_s", "window_s"):
        value = getattr(data, name)
        if value is not None and value > MAX_DAYS * 86_400:
            raise Invalid(name, f"at most {MAX_DAYS} days when trying a rule on history")
    values = validate(session, data, unique_name=False)
    rtype = RuleType(values["type"])
    if rtype not in catalog.stream_types():
        stream = ", ".join(t.value for t in catalog.stream_types())
        raise Invalid(
            "type",
            f"a {rtype.value} rule is evaluated on the clock, not on readings: trying on "
            f"history is for {stream} rules",
        )
    meter = session.get(Meter, values["meter_id"])
    assert meter is not None
    site = session.get(Site, meter.site_id)
    rule = evaluate.compile_rule(
        (
            0,
            0,
            rtype.value,
            meter.id,
            None,
            values["high"],
            values["low"],
            values["high_high"],
            values["low_low"],
            values["deadband"],
            values["on_delay_s"],
            values["off_delay_s"],
            values["unit"],
            values["params"],
            values["schedule"],
            0,
            meter.kind,
            meter.interval_s,
            meter.canonical_unit,
            site.timezone if site is not None else "UTC",
            meter.site_id,
        )
    )
    lo, hi = _us(start), _us(end)
    margin = max(2 * rule.window_us, evaluate.WIDTH_US["1d"] + US)  # a rate's or bucket's past
    hist = evaluate.fetch_history(session.connection(), {meter.id: (lo - margin, hi)})[meter.id]
    t = hist.ts[hist.ts > lo]
    raised: list[dict] = []
    if len(t):
        x = evaluate.quantity(rule, t, hist)
        armed = evaluate.armed_mask(rule, t)
        for condition in rule.limits:
            on, off = evaluate.condition_masks(rule, condition, x, armed)
            _, changes = debounce(t, on, off, DebounceState(), rule.on_delay_us, rule.off_delay_us)
            raised += [
                {
                    "at": us_to_dt(int(t[c.index])),
                    "condition": condition,
                    "value": float(x[c.index]) if np.isfinite(x[c.index]) else None,
                }
                for c in changes
                if c.active
            ]
    raised.sort(key=lambda r: r["at"])
    return {
        "alarms": len(raised),
        "raised_at": [r["at"] for r in raised[:MAX_LISTED]],
        "raised": raised[:MAX_LISTED],
        "window": {"start": start, "end": end, "days": days, "readings": int(len(t))},
    }
