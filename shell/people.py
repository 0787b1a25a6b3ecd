"""What the CLI asks of the accounts room (audited sessions, durations, tables) and the
reading of tariff files for ``ecc tariffs load``."""

from __future__ import annotations

import getpass
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
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


_TARIFF_DATES = ("valid_from", "valid_to")
_TARIFF_MONEY = (
    "power_factor_standard",
    "flat_price_cny_per_kwh",
    "non_floating_cny_per_kwh",
    "funds_cny_per_kwh",
)
_TARIFF_KEYS = {
    "code", "name", "valid_from", "valid_to", "energy_prices", "demand_charge", "template",
    "source", *_TARIFF_MONEY,
}  # fmt: skip


class _DatesAsText(yaml.SafeLoader):
    """Safe YAML (JSON is YAML) that leaves dates as text, so a bad one is named by field."""


_DatesAsText.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def tariff_bodies(path: Path) -> list[dict[str, Any]]:
    """The ``POST /api/v1/tariffs`` bodies of a JSON or YAML file (one body or a list), as
    ``cost.tariffs.TariffIn`` keywords: dates parsed, money as ``Decimal``, unknown keys
    passed on as ``extra`` (the service names them)."""
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), _DatesAsText)  # noqa: S506 - safe
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise Invalid("file", f"{path}: {exc}") from None
    docs = doc if isinstance(doc, list) else [doc]
    out = []
    for n, raw in enumerate(docs):
        where = f"[{n}]" if isinstance(doc, list) else ""
        if not isinstance(raw, dict):
            raise Invalid(f"file{where}", "a tariff is an object")
        body: dict[str, Any] = {k: v for k, v in raw.items() if k in _TARIFF_KEYS}
        body["extra"] = {k: v for k, v in raw.items() if k not in _TARIFF_KEYS}
        for k in _TARIFF_DATES:
            v = body.get(k)
            if isinstance(v, str):
                try:
                    body[k] = date.fromisoformat(v)
                except ValueError:
                    raise Invalid(f"file{where}.{k}", f"not a date: {v!r}") from None
            elif v is not None and not isinstance(v, date):
                raise Invalid(f"file{where}.{k}", f"not a date: {v!r}")
        for k in _TARIFF_MONEY:
            if body.get(k) is not None:
                try:
                    body[k] = Decimal(str(body[k]))
                except InvalidOperation:
                    raise Invalid(f"file{where}.{k}", f"not a number: {body[k]!r}") from None
        for k in ("code", "name", "valid_from"):
            if k not in body:
                raise Invalid(f"file{where}.{k}", "required")
        out.append(body)
    return out
