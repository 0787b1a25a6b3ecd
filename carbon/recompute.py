"""Find or recompute a derivation (``GET /api/v1/carbon/derivations/{hash}``).

Reading a figure stores nothing: a derivation is content-addressed, so it is either stored
(by a write that keeps one, or by earlier versions of the service) or recomputed from the
parameters of the figure it explains, which every answer carrying a ``derivation_hash`` also
gives as ``derivation_url``. A recomputed body is returned only when its hash is the one asked
for: the same inputs under the same pinned calculation version give the same hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from carbon import derivation, engine, factors, kpis
from core.errors import Invalid, NotFound

KINDS = ("emissions", "kpi_intensity")


@dataclass(frozen=True)
class FigureParams:
    """The parameters of the figure a derivation explains (``kind`` decides which apply)."""

    kind: str | None = None
    site: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    period: str | None = None
    day: date | None = None
    version: int | None = None
    gwp_set: str = factors.DEFAULT_GWP_SET
    tce_convention: str = "equivalent"
    as_of: datetime | None = None


def _need(value: Any, field: str, kind: str) -> Any:
    if value is None:
        raise Invalid(field, f"required to recompute a {kind} derivation")
    return value


def find_or_recompute(session: Session, digest: str, params: FigureParams) -> dict:
    body = derivation.find(session, digest)
    if body is not None:
        return body
    if params.kind is None:
        raise NotFound(
            "hash",
            f"no stored derivation {digest!r}; give kind and the figure's parameters "
            "(the answer's derivation_url) to recompute it",
        )
    if params.kind == "emissions":
        body = engine.emissions_derivation(
            session,
            _need(params.site, "site", params.kind),
            _need(params.start, "start", params.kind),
            _need(params.end, "end", params.kind),
            version=params.version,
            gwp_set=params.gwp_set,
            tce_convention=params.tce_convention,
        )
    elif params.kind == "kpi_intensity":
        body = kpis.intensity_derivation(
            session,
            _need(params.site, "site", params.kind),
            _need(params.period, "period", params.kind),
            _need(params.day, "date", params.kind),
            as_of=_need(params.as_of, "as_of", params.kind),
            version=params.version,
            gwp_set=params.gwp_set,
            tce_convention=params.tce_convention,
        )
    else:
        raise Invalid("kind", f"one of {', '.join(KINDS)}")
    if body["hash"] != digest:
        raise NotFound("hash", f"these parameters derive {body['hash']}, not {digest!r}")
    return body


def query(kind: str, answer: dict, **params: Any) -> dict[str, str]:
    """Query parameters that recompute ``answer``'s derivation, its calculation version pinned
    (a later recalculation does not change what the hash explains)."""
    out = {"kind": kind, **{k: v for k, v in params.items() if v is not None}}
    out["version"] = answer["version"]
    return {k: v.isoformat() if isinstance(v, date | datetime) else str(v) for k, v in out.items()}
