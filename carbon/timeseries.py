"""SQL of the carbon rollups: the same views on both database paths.

``carbon_1h`` / ``carbon_1d`` (per meter) and ``carbon_site_1h`` / ``carbon_site_1d`` (per site,
boundary meters of the site and its descendants, sub-meters not counted twice) multiply the
energy rollups (``rollup_1h``/``rollup_1d``: TimescaleDB continuous aggregates, or tables kept by
``metering.rollups`` on plain PostgreSQL) by the factor each meter uses in each period
under each calculation version (``carbon_assignment``). History is never recomputed from
readings: a wall-screen query reads at most one row per meter and bucket from an energy rollup,
and a recalculation only adds assignment rows for a new version, so the figures of every
version stay retrievable (``WHERE version = …``).

Why views and not continuous aggregates: a continuous aggregate that joins the factor table
would freeze each bucket with the factor in force when it was materialised, so a new factor
would mix silently into some buckets and not others, and a version could not be retrieved
afterwards; a join at read time over the pre-aggregated energy is exact, cheap and identical
on both paths. Buckets follow the energy rollups: ``(start, start + width]`` labelled
``start + 1 µs``; an assignment period ``[valid_from, valid_to)`` holds a bucket when
``valid_from < bucket <= valid_to``.
"""

from __future__ import annotations

SITE_METER_VIEW = """
CREATE VIEW carbon_site_meter AS
WITH RECURSIVE tree(ancestor_id, site_id) AS (
  SELECT id, id FROM site
  UNION ALL
  SELECT t.ancestor_id, s.id FROM tree t JOIN site s ON s.parent_id = t.site_id
)
SELECT t.ancestor_id AS site_id, m.id AS meter_id
FROM tree t JOIN meter m ON m.site_id = t.site_id
WHERE m.kind <> 'gauge'
  AND NOT EXISTS (
    SELECT 1 FROM meter p JOIN tree t2 ON t2.site_id = p.site_id
    WHERE p.id = m.parent_id AND t2.ancestor_id = t.ancestor_id)
"""


def _meter_view(level: str) -> str:
    return f"""
CREATE VIEW carbon_{level} AS
SELECT s.version, r.meter_id, m.site_id, r.bucket, s.scope, s.source,
       r.energy AS activity, r.n,
       r.energy * a.coef AS co2_t, a.factor_id AS co2_factor_id,
       r.energy * t.coef AS tce, t.factor_id AS tce_factor_id
FROM carbon_assignment_state s
JOIN rollup_{level} r ON r.meter_id = s.meter_id
JOIN meter m ON m.id = r.meter_id
LEFT JOIN carbon_assignment a ON a.version = s.version AND a.meter_id = s.meter_id
  AND a.purpose = 'co2' AND r.bucket > a.valid_from AND r.bucket <= a.valid_to
LEFT JOIN carbon_assignment t ON t.version = s.version AND t.meter_id = s.meter_id
  AND t.purpose = 'tce' AND r.bucket > t.valid_from AND r.bucket <= t.valid_to
"""


def _site_view(level: str) -> str:
    return f"""
CREATE VIEW carbon_site_{level} AS
SELECT c.version, sm.site_id, c.bucket,
       sum(c.co2_t) FILTER (WHERE c.scope = 1) AS scope1_co2_t,
       sum(c.co2_t) FILTER (WHERE c.scope = 2) AS scope2_co2_t,
       sum(c.co2_t) AS co2_t, sum(c.tce) AS tce
FROM carbon_{level} c JOIN carbon_site_meter sm ON sm.meter_id = c.meter_id
GROUP BY c.version, sm.site_id, c.bucket
"""


VIEWS = [SITE_METER_VIEW, _meter_view("1h"), _meter_view("1d"), _site_view("1h"), _site_view("1d")]
DROP_VIEWS = [
    "DROP VIEW IF EXISTS carbon_site_1d",
    "DROP VIEW IF EXISTS carbon_site_1h",
    "DROP VIEW IF EXISTS carbon_1d",
    "DROP VIEW IF EXISTS carbon_1h",
    "DROP VIEW IF EXISTS carbon_site_meter",
]
