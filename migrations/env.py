"""Alembic environment: a connection handed in by ``migrations.runner``, or ECC settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from models import Base

config = context.config
target_metadata = Base.metadata

# TimescaleDB creates its own schemas and catalog objects; autogenerate must ignore them.
_TIMESCALE_SCHEMAS = {
    "_timescaledb_internal",
    "_timescaledb_catalog",
    "_timescaledb_config",
    "_timescaledb_cache",
    "_timescaledb_functions",
    "timescaledb_information",
    "timescaledb_experimental",
    "toolkit_experimental",
}
_APP_MAINTAINED = {"rollup_1m", "rollup_15m", "rollup_1h", "rollup_1d"}


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    schema = getattr(obj, "schema", None)
    if schema in _TIMESCALE_SCHEMAS:
        return False
    return not (type_ == "table" and name in _APP_MAINTAINED)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        from core.db import database_url
        from core.settings import get_settings

        engine = create_engine(database_url(get_settings()), poolclass=pool.NullPool)
        with engine.connect() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
