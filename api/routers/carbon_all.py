"""The carbon accounting routers, in the order they appear in the OpenAPI docs."""

from __future__ import annotations

from api.routers import (
    activity,
    carbon,
    emission_sources,
    factors,
    green_certificates,
    kpis,
    production,
    reports,
)

ROUTERS = [
    factors.router,
    emission_sources.router,
    activity.router,
    production.router,
    green_certificates.router,
    carbon.router,
    kpis.router,
    reports.router,
]
