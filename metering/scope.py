"""Which meters count for a site: the one home of the rule "the top meters of a site
subtree, never a sub-meter twice".

A site's quantities (totals per carrier, the carbon boundary, forecast subjects, demand, the
site balance) are summed over the non-gauge meters installed in the site and its
descendants whose parent meter is *not* inside that subtree. A meter whose parent meter is
inside the subtree is a sub-meter: it is listed for drill-down and never added again. A
meter whose parent sits outside the subtree (a workshop feeder below the plant incomer, seen
from the workshop) counts for that subtree.

Every room that needs the rule calls :func:`counted_meters`: ``metering.series.site_totals``,
``metering.balance``, ``carbon.boundary.site_boundary``, ``forecasting.subjects.site_subjects``
and the alarm demand rule; the dashboard reads it through the API (the ``submeter`` flag of
``/sites/{code}/totals`` and the ``meters`` of ``/sites/{code}/load``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from metering import registry
from models import Meter, Site


@dataclass(frozen=True)
class ScopeMeter:
    """What the rooms above need to know about a meter of a site's scope."""

    id: int
    code: str
    site_id: int
    parent_id: int | None
    carrier: str
    canonical_unit: str
    kind: str
    interval_s: int


@dataclass(frozen=True)
class SiteMeters:
    """The meters of a site subtree, split by the counting rule (both in meter id order)."""

    site: str  # code
    site_id: int
    site_ids: list[int]  # the site and its descendants
    counted: list[ScopeMeter]  # the top meters: what a site figure adds up
    submeters: list[ScopeMeter]  # inside the subtree below a counted meter: never added again


def counted_meters(
    db: Session | Connection, site: str | int, carrier: str | None = None
) -> SiteMeters:
    """The top meters of a site subtree, never a sub-meter twice.

    ``site`` is a site code (or id). Gauges measure no quantity and are never part of a
    scope. With ``carrier`` both lists keep only that carrier's meters (the split is made on
    all carriers first: a sub-meter stays a sub-meter whatever its carrier). Works on an ORM
    session or a Core connection (the alarm engine evaluates on one); unknown site → 404.
    """
    column = Site.code if isinstance(site, str) else Site.id
    root = db.execute(select(Site.id, Site.code).where(column == site)).first()
    if root is None:
        raise NotFound("site", f"unknown site {site!r}")
    site_ids = registry.subtree_ids(db, root.id)
    rows = db.execute(
        select(
            Meter.id,
            Meter.code,
            Meter.site_id,
            Meter.parent_id,
            Meter.carrier,
            Meter.canonical_unit,
            Meter.kind,
            Meter.interval_s,
        )
        .where(Meter.site_id.in_(site_ids), Meter.kind != "gauge")
        .order_by(Meter.id)
    ).all()
    meters = [ScopeMeter(*r) for r in rows]
    inside = {m.id for m in meters}
    counted = [m for m in meters if m.parent_id is None or m.parent_id not in inside]
    subs = [m for m in meters if m.parent_id is not None and m.parent_id in inside]
    if carrier is not None:
        counted = [m for m in counted if m.carrier == carrier]
        subs = [m for m in subs if m.carrier == carrier]
    return SiteMeters(root.code, root.id, site_ids, counted, subs)
