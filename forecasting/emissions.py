"""Emissions (tCO₂) from an energy forecast, with the carbon engine's factors in force for
each bucket of the forecast period (location-based; the factors of the current calculation
version, see ``carbon.factors``).

A site's carrier total mixes meters that may sit in different grid regions; its factor is
the meters' factors weighted by their share of the energy in the week before ``origin``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from core.errors import Invalid
from forecasting.subjects import Subject


def co2_per_unit(
    session: Session, subject: Subject, labels: pd.DatetimeIndex, origin: datetime
) -> tuple[np.ndarray, int]:
    """tCO₂ per unit of the subject's energy for each bucket (labelled by start), and the
    calculation version the factors come from."""
    try:
        from carbon import aggregates, factors
        from carbon.boundary import BoundaryMeter, meter_mapping, site_boundary
    except ImportError:
        raise Invalid(
            "target", "co2 forecasts are not available until the carbon engine lands"
        ) from None
    if subject.quantity != "energy":
        raise Invalid("target", f"co2 needs an energy meter; {subject.code} is a kW gauge")
    version = factors.get_version(session, None)
    if subject.kind == "meter":
        meter, mapping = meter_mapping(session, subject.code)
        meters = [
            BoundaryMeter(
                meter.id,
                meter.code,
                meter.site_id,
                meter.carrier,
                meter.canonical_unit,
                meter.kind,
                mapping,
            )
        ]
        weights = {meter.id: 1.0}
    else:
        meters = [
            m for m in site_boundary(session, subject.code).counted if m.code in subject.meters
        ]
        recent = aggregates.energy_by_meter(
            session, [m.id for m in meters], origin - timedelta(days=7), origin
        )
        total = sum(max(a.energy, 0.0) for a in recent.values())
        weights = {
            m.id: (
                max(recent[m.id].energy, 0.0) / total
                if total > 0 and m.id in recent
                else (0.0 if total > 0 else 1.0 / len(meters))
            )
            for m in meters
        }
    assignments = factors.ensure_assignments(session, version, meters)
    ends = (labels + pd.Timedelta(seconds=subject.resolution_s)).tz_convert("UTC")
    coef = np.zeros(len(labels))
    for m in meters:
        for a in assignments.get(m.id, []):
            if a.purpose != "co2" or not a.coef:
                continue
            inside = (ends > pd.Timestamp(a.valid_from)) & (ends <= pd.Timestamp(a.valid_to))
            coef[inside] += weights[m.id] * a.coef
    return coef, version.version
