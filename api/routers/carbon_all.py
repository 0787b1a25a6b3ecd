"""The carbon accounting routers, in the order they appear in the OpenAPI docs."""

from __future__ import annotations

from api.routers import (
    activity,
    carbon,
    carbon_assets,
    emission_sources,
    factors,
    green_certificates,
    kpis,
    production,
    reports,
    zero_carbon,
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
    carbon_assets.router,
    zero_carbon.router,
]
