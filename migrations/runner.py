"""Apply Alembic migrations programmatically (``ecc db upgrade``), then the data steps.

Versions under ``migrations/versions`` are history: they import nothing of the house and read
no runtime settings. What they need from the deployment is handed in here as Alembic config
attributes (``day_timezone``). Shipped reference data (the carbon factor library) is not
schema: it is loaded by the data steps below after the schema reaches head, idempotently, so
``ecc db upgrade`` on an up-to-date database only adds library rows it has not stored yet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

import migrations
from carbon import factors, library
from core.settings import get_settings


def alembic_config(day_timezone: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.attributes["day_timezone"] = day_timezone or get_settings().timezone
    return cfg


def _load_factor_library(conn: Connection) -> None:
    library.load_shipped(conn, actor="ecc db upgrade")


def _store_factor_assignments(conn: Connection) -> None:
    with Session(bind=conn) as session:
        factors.materialise(session)
        session.flush()


# Run in order after ``upgrade`` to head, in one transaction; each is idempotent.
DATA_STEPS: tuple[Callable[[Connection], None], ...] = (
    _load_factor_library,
    _store_factor_assignments,
)


def load_data(engine: Engine) -> None:
    """Run every data step (the schema must be at head)."""
    with engine.begin() as conn:
        for step in DATA_STEPS:
            step(conn)


def upgrade(engine: Engine, revision: str = "head", *, day_timezone: str | None = None) -> None:
    """Migrate the schema to ``revision``; at ``head`` also run the data steps."""
    cfg = alembic_config(day_timezone)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    if revision == "head":
        load_data(engine)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
