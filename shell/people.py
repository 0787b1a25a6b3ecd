"""What the CLI asks of the accounts room: audited sessions, durations, tables."""

from __future__ import annotations

import getpass
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from accounts import audit
from core.errors import Invalid

_DURATION = re.compile(r"^(\d+)([hdw])$")


@contextmanager
def audited_session(engine: Engine) -> Iterator[Session]:
    """A session whose audited changes are recorded as ``cli:<os user>``."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    audit.install(sessions)
    with sessions() as session:
        session.info["audit"] = audit.Context(actor=f"cli:{getpass.getuser()}", method="CLI")
        yield session


def parse_expiry(value: str | None, now: datetime) -> datetime | None:
    """``90d``, ``12h``, ``2w`` from now, or an ISO 8601 time with a timezone."""
    if not value:
        return None
    m = _DURATION.match(value.strip())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        return now + timedelta(hours=n * {"h": 1, "d": 24, "w": 168}[unit])
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("expires", "a duration like 90d/12h/2w or an ISO time") from None
    if at.tzinfo is None:
        raise Invalid("expires", "an ISO time needs a timezone (e.g. +08:00 or Z)")
    return at.astimezone(UTC)


def fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(v, list):
        return ",".join(map(str, v))
    return str(v)
