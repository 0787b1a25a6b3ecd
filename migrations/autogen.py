"""What Alembic's autogenerate compares: the models against the migrated schema, minus the
objects TimescaleDB or the application maintain themselves (used by ``env.py`` and the test that
proves models and migrations agree)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

# TimescaleDB creates its own schemas and catalog objects; autogenerate must ignore them.
TIMESCALE_SCHEMAS = frozenset(
    {
        "_timescaledb_internal",
        "_timescaledb_catalog",
        "_timescaledb_config",
        "_timescaledb_cache",
        "_timescaledb_functions",
        "timescaledb_information",
        "timescaledb_experimental",
        "toolkit_experimental",
    }
)
# Rollups: continuous aggregates on TimescaleDB, tables kept by metering on plain PostgreSQL.
APP_MAINTAINED = frozenset({"rollup_1m", "rollup_15m", "rollup_1h", "rollup_1d"})
# Indexes ``create_hypertable`` adds on the TimescaleDB path (``<table>_<time column>_idx``).
HYPERTABLE_INDEXES = frozenset({"reading_ts_idx"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    schema = getattr(obj, "schema", None)
    if schema in TIMESCALE_SCHEMAS:
        return False
    if type_ == "index" and reflected and name in HYPERTABLE_INDEXES:
        return False
    return not (type_ == "table" and name in APP_MAINTAINED)


def schema_differences(connection: Connection) -> list[Any]:
    """What ``alembic revision --autogenerate`` would write for this database: the difference
    between the ORM models and the migrated schema (types and server defaults compared)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from models import Base

    ctx = MigrationContext.configure(
        connection,
        opts={
            "include_object": include_object,
            "compare_type": True,
            "compare_server_default": True,
        },
    )
    return list(compare_metadata(ctx, Base.metadata))
