"""API keys and display tokens: created once (the secret is shown once), stored as SHA-256,
listed, revoked, expiring; who a credential is (``Principal``) and what each role may do."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts import scope
from core.errors import Conflict, Invalid, NotFound
from models import ApiKey


class Role(StrEnum):
    INGEST = "ingest"
    VIEWER = "viewer"
    ENGINEER = "engineer"
    MANAGER = "manager"
    ADMIN = "admin"
    AUDITOR = "auditor"


# What each role may do: read data, write readings, configure (meters, sites, rules), read the
# audit trail. An auditor reads everything, the audit trail included, and changes nothing.
READ_ROLES = {Role.VIEWER, Role.ENGINEER, Role.MANAGER, Role.ADMIN, Role.AUDITOR}
WRITE_READINGS_ROLES = {Role.INGEST, Role.ENGINEER, Role.ADMIN}
CONFIGURE_ROLES = {Role.ENGINEER, Role.ADMIN}
ADMIN_ROLES = {Role.ADMIN}
AUDIT_ROLES = {Role.ADMIN, Role.AUDITOR}
# The same sets by name: ``/auth/me`` lists the ones a caller holds (``Principal.abilities``),
# so a client (the dashboard) shows a person only what they may open without restating roles.
ABILITIES = {
    "read": READ_ROLES,
    "write_readings": WRITE_READINGS_ROLES,
    "configure": CONFIGURE_ROLES,
    "admin": ADMIN_ROLES,
    "audit": AUDIT_ROLES,
}
# and "estate": an admin limited to no site, who alone may change the whole estate (people,
# keys, factors: ``api.deps.estate_wide``)
ESTATE = "estate"

KEY = "key"
DISPLAY = "display"
SESSION = "session"
# last_used_at is written at most this often per key (a busy ingest key makes no write storm)
TOUCH_EVERY_S = 60.0


@dataclass(frozen=True)
class Principal:
    """Who is asking: a person's session, a machine key or a wall display token.

    ``name`` is what histories show (a person's display name, a key's name); ``sites`` is the
    site subtree the credential is limited to, ``None`` for the whole estate.
    """

    name: str
    roles: frozenset[Role]
    kind: str = KEY
    login: str | None = None
    site_id: int | None = None
    sites: frozenset[int] | None = None
    expires_at: datetime | None = None

    @property
    def role(self) -> Role:
        """The strongest role (for messages)."""
        order = list(Role)
        return max(self.roles, key=lambda r: (r == Role.ADMIN, order.index(r)))

    def may(self, roles: set[Role]) -> bool:
        return bool(self.roles & roles)

    def abilities(self) -> list[str]:
        """The names in :data:`ABILITIES` (and :data:`ESTATE`) this credential holds."""
        held = [name for name, roles in ABILITIES.items() if self.may(roles)]
        return held + [ESTATE] if self.may(ADMIN_ROLES) and self.sites is None else held

    def sees(self, site_id: int | None) -> bool:
        return self.sites is None or site_id in self.sites


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_role(role: str, field: str = "role") -> Role:
    try:
        return Role(role)
    except ValueError:
        raise Invalid(field, f"must be one of {', '.join(r.value for r in Role)}") from None


def create_key(
    session: Session,
    role: str,
    name: str,
    *,
    expires_at: datetime | None = None,
    site: str | None = None,
    kind: str = KEY,
) -> str:
    """Store a new key and return its secret (never stored in clear)."""
    role_ = parse_role(role)
    if not name.strip():
        raise Invalid("name", "must not be empty")
    if expires_at is not None and expires_at.tzinfo is None:
        raise Invalid("expires", "must carry a timezone")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict("name", f"a key named {name!r} exists")
    site_id = scope.site_id(session, site) if site else None
    prefix = secrets.token_hex(4)
    tag = "ecd" if kind == DISPLAY else "ecc"
    secret = f"{tag}_{prefix}_{secrets.token_urlsafe(24)}"
    session.add(
        ApiKey(
            name=name,
            role=role_.value,
            prefix=prefix,
            secret_hash=hash_secret(secret),
            expires_at=expires_at,
            site_id=site_id,
            kind=kind,
        )
    )
    session.flush()
    return secret


def create_display(session: Session, site: str, name: str | None = None) -> str:
    """A wall-display token: read-only (viewer), one site's subtree, nothing else."""
    return create_key(session, Role.VIEWER, name or f"display-{site}", site=site, kind=DISPLAY)


def list_keys(session: Session) -> list[dict]:
    codes = scope.site_codes(session)
    return [
        {
            "name": k.name,
            "role": k.role,
            "kind": k.kind,
            "prefix": k.prefix,
            "site": None if k.site_id is None else codes.get(k.site_id),
            "created_at": k.created_at,
            "expires_at": k.expires_at,
            "last_used_at": k.last_used_at,
            "revoked_at": k.revoked_at,
        }
        for k in session.scalars(select(ApiKey).order_by(ApiKey.id))
    ]


def revoke_key(session: Session, name: str, now: datetime) -> ApiKey:
    row = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        raise NotFound("name", f"no key named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    return row


def verify(session: Session, secret: str, now: datetime | None = None) -> Principal | None:
    """The key's principal, or None when unknown, revoked or (given ``now``) expired."""
    row = session.scalar(
        select(ApiKey).where(ApiKey.secret_hash == hash_secret(secret), ApiKey.revoked_at.is_(None))
    )
    if row is None or (now is not None and row.expires_at is not None and row.expires_at <= now):
        return None
    if now is not None and (
        row.last_used_at is None or (now - row.last_used_at).total_seconds() >= TOUCH_EVERY_S
    ):
        session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
        session.commit()
    return Principal(
        name=row.name,
        roles=frozenset({Role(row.role)}),
        kind=row.kind,
        site_id=row.site_id,
        sites=scope.subtree(session, row.site_id) if row.site_id is not None else None,
        expires_at=row.expires_at,
    )
