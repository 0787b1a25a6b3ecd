"""API keys and wall display tokens: list, create (secret shown once), revoke."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from accounts import keys
from api.deps import Admin, DbSession, EstateAdmin

router = APIRouter(tags=["keys"])


class KeyOut(BaseModel):
    name: str
    role: str
    kind: str = Field(description="key | display")
    prefix: str
    site: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: str
    site: str | None = None
    expires_at: datetime | None = None


class DisplayCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str
    name: str | None = Field(default=None, max_length=100)


class SecretOut(BaseModel):
    name: str
    secret: str = Field(description="Shown once; only its SHA-256 is stored")


def _one(session: DbSession, name: str) -> dict:
    return next(k for k in keys.list_keys(session) if k["name"] == name)


@router.get("/keys", response_model=list[KeyOut])
def list_keys(session: DbSession, _: Admin, __: EstateAdmin) -> list[dict]:
    return keys.list_keys(session)


@router.post("/keys", response_model=SecretOut, status_code=201)
def create_key(body: KeyCreate, session: DbSession, _: Admin, __: EstateAdmin) -> dict:
    secret = keys.create_key(
        session, body.role, body.name, expires_at=body.expires_at, site=body.site
    )
    session.commit()
    return {"name": body.name, "secret": secret}


@router.post("/keys/{name}/revoke", response_model=KeyOut)
def revoke_key(name: str, session: DbSession, _: Admin, __: EstateAdmin) -> dict:
    """Refused by every API process on its next request, at most ECC_AUTH_CACHE_TTL_S later."""
    keys.revoke_key(session, name, datetime.now(UTC))
    session.commit()
    return _one(session, name)


@router.post("/displays", response_model=SecretOut, status_code=201)
def create_display(body: DisplayCreate, session: DbSession, _: Admin, __: EstateAdmin) -> dict:
    """A read-only token of one site for a wall kiosk."""
    name = body.name or f"display-{body.site}-{datetime.now(UTC):%Y%m%d%H%M%S}"
    secret = keys.create_display(session, body.site, name)
    session.commit()
    return {"name": name, "secret": secret}
