"""Alembic environment: a connection handed in by ``migrations.runner``, or ECC settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from migrations.autogen import include_object
from models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    if "day_timezone" not in config.attributes:  # the ``alembic`` CLI, not migrations.runner
        from core.settings import get_settings

        config.attributes["day_timezone"] = get_settings().timezone
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
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
