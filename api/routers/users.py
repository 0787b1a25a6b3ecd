"""People: admins create, list, change and disable them (the whole estate: unscoped admins)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from accounts import scope, users
from api.deps import Admin, DbSession, EstateAdmin

router = APIRouter(tags=["users"])


class UserOut(BaseModel):
    login: str
    name: str
    roles: list[str]
    site: str | None
    enabled: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=2, max_length=100)
    name: str | None = Field(default=None, max_length=200)
    roles: list[str] = Field(min_length=1)
    site: str | None = None
    password: str = Field(min_length=users.MIN_PASSWORD, max_length=1000)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    roles: list[str] | None = None
    site: str | None = None
    enabled: bool | None = None
    password: str | None = Field(default=None, min_length=users.MIN_PASSWORD, max_length=1000)


@router.get("/users", response_model=list[UserOut])
def list_users(session: DbSession, _: Admin, __: EstateAdmin) -> list[dict]:
    codes = scope.site_codes(session)
    return [users.out(u, codes) for u in users.list_users(session)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserCreate, session: DbSession, _: Admin, __: EstateAdmin) -> dict:
    user = users.create_user(
        session, body.login, body.name, body.roles, body.password, site=body.site
    )
    session.commit()
    return users.out(user, scope.site_codes(session))


@router.get("/users/{login}", response_model=UserOut)
def get_user(login: str, session: DbSession, _: Admin, __: EstateAdmin) -> dict:
    return users.out(users.get_user(session, login), scope.site_codes(session))


@router.patch("/users/{login}", response_model=UserOut)
def update_user(login: str, body: UserPatch, session: DbSession, _: Admin, __: EstateAdmin) -> dict:
    """Disabling (``enabled: false``) or a new password ends the person's sessions."""
    changes = body.model_dump(exclude_unset=True)
    user = users.update_user(session, login, changes, datetime.now(UTC))
    session.commit()
    return users.out(user, scope.site_codes(session))
