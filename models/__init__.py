"""SQLAlchemy ORM classes of the schema (not machine-learning models: see ``forecasting``)."""

from models.base import Base
from models.metering import ApiKey, IngestLog, Meter, Reading, RollupPending, Site

__all__ = ["ApiKey", "Base", "IngestLog", "Meter", "Reading", "RollupPending", "Site"]
