"""API keys: created once (the secret is shown once), stored as SHA-256, checked per request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid
from models import ApiKey


class Role(StrEnum):
    INGEST = "ingest"
    VIEWER = "viewer"
    ENGINEER = "engineer"
    MANAGER = "manager"
    ADMIN = "admin"


# What each role may do: read data, write readings, configure (meters, sites, rules).
READ_ROLES = {Role.VIEWER, Role.ENGINEER, Role.MANAGER, Role.ADMIN}
WRITE_READINGS_ROLES = {Role.INGEST, Role.ENGINEER, Role.ADMIN}
CONFIGURE_ROLES = {Role.ENGINEER, Role.ADMIN}


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, role: str, name: str) -> str:
    """Store a new key and return its secret (never stored in clear)."""
    try:
        role_ = Role(role)
    except ValueError:
        raise Invalid("role", f"must be one of {', '.join(r.value for r in Role)}") from None
    if not name.strip():
        raise Invalid("name", "must not be empty")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict("name", f"a key named {name!r} exists")
    prefix = secrets.token_hex(4)
    secret = f"ecc_{prefix}_{secrets.token_urlsafe(24)}"
    session.add(ApiKey(name=name, role=role_.value, prefix=prefix, secret_hash=hash_secret(secret)))
    session.flush()
    return secret


def verify(session: Session, secret: str) -> Principal | None:
    row = session.scalar(
        select(ApiKey).where(ApiKey.secret_hash == hash_secret(secret), ApiKey.revoked_at.is_(None))
    )
    return None if row is None else Principal(row.name, Role(row.role))
