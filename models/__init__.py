"""SQLAlchemy ORM classes of the schema (not machine-learning models: see ``forecasting``)."""

import models.accounts  # noqa: F401  (registers users, sessions and the audit trail)
import models.alarms  # noqa: F401  (registers the alarm tables)
import models.assets  # noqa: F401  (registers the carbon asset ledger tables)
import models.benchmarking  # noqa: F401  (registers processes, equipment, recommendations)
import models.carbon  # noqa: F401  (registers the carbon accounting tables)
import models.collectors  # noqa: F401  (registers the field collector tables)
import models.cost  # noqa: F401  (registers the tariff, cost, bill and budget tables)
import models.exogenous  # noqa: F401  (registers the forecasts' exogenous inputs)
import models.footprints  # noqa: F401  (registers the product footprint tables)
import models.forecasting  # noqa: F401  (registers the forecast tables)
from models.base import Base
from models.metering import (
    ApiKey,
    EccMeta,
    IngestLog,
    Meter,
    Reading,
    ReadingVoid,
    RollupPending,
    Site,
)

__all__ = [
    "ApiKey",
    "Base",
    "EccMeta",
    "IngestLog",
    "Meter",
    "Reading",
    "ReadingVoid",
    "RollupPending",
    "Site",
]
