"""What every command needs: a database (configured or embedded), migrated, and an engine."""

from __future__ import annotations

import os

from sqlalchemy import Engine

from core.db import database_url, make_engine
from core.settings import Settings
from migrations import runner as migrate


def open_database(settings: Settings, *, upgrade: bool = False) -> tuple[str, Engine]:
    """Resolve the URL (starting the embedded server when none is configured) and connect.

    The resolved URL is exported as ``ECC_DATABASE_URL`` so child processes (API workers,
    the dashboard) use the same server. With ``upgrade`` the schema is migrated to head.
    """
    url = database_url(settings)
    os.environ["ECC_DATABASE_URL"] = url
    engine = make_engine(settings, url)
    if upgrade:
        migrate.upgrade(engine)
    return url, engine
