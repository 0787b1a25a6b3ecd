"""Sign-in for people: a session token used as ``Authorization: Bearer`` exactly like a key."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from accounts import audit, scope, users
from api.deps import (
    Audit,
    Caller,
    DbSession,
    State,
    Token,
    client_address,
    refuse_if_limited,
)

router = APIRouter(tags=["auth"])


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class UserBrief(BaseModel):
    login: str | None
    name: str
    roles: list[str]
    site: str | None


class LoginOut(BaseModel):
    token: str
    expires_at: datetime = Field(
        description="Absolute end of the session; unused for ECC_SESSION_IDLE_S it ends earlier"
    )
    user: UserBrief


class MeOut(UserBrief):
    kind: str = Field(description="session | key | display")
    may: list[str] = Field(
        description="What the roles allow: read, write_readings, configure, admin, audit, and "
        "estate (an admin limited to no site: people, keys, factors)"
    )


@router.post("/auth/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, session: DbSession, state: State, ctx: Audit) -> dict:
    refuse_if_limited(state, request)
    now, settings = datetime.now(UTC), state.settings
    lockout = users.Lockout(settings.login_lockout_after, settings.login_lockout_s)
    try:
        user = users.authenticate(session, body.login, body.password, now, lockout)
    except users.SignInRefused as exc:
        session.commit()  # the failure count sticks
        state.failures.fail(client_address(request), time.monotonic())
        if exc.retry_after_s is not None:
            raise HTTPException(
                429,
                "too many failed sign-ins for this login; wait",
                headers={"Retry-After": str(exc.retry_after_s)},
            ) from None
        raise HTTPException(401, "wrong login or password") from None
    token, expires_at = users.start_session(
        session, user, now, settings.session_absolute_s, client_address(request)
    )
    ctx.principal = users.principal_of(session, user, expires_at)
    audit.record(session, ctx, "login", "user_session", user.login, site_id=user.site_id)
    session.commit()
    site = scope.site_codes(session).get(user.site_id) if user.site_id else None
    brief = {"login": user.login, "name": user.name, "roles": list(user.roles), "site": site}
    return {"token": token, "expires_at": expires_at, "user": brief}


@router.post("/auth/logout", status_code=204)
def logout(session: DbSession, state: State, who: Caller, token: Token, ctx: Audit) -> Response:
    """Ends the session of the presented token (keys: `POST /keys/{name}/revoke`)."""
    if who.kind != "session" or token is None:
        raise HTTPException(422, "token: only a session token can sign out")
    users.end_session(session, token.credentials, datetime.now(UTC))
    audit.record(session, ctx, "logout", "user_session", who.login, site_id=who.site_id)
    session.commit()
    state.credentials.forget(token.credentials)
    return Response(status_code=204)


@router.get("/auth/me", response_model=MeOut)
def me(who: Caller, session: DbSession) -> dict:
    """Who the presented token is."""
    site = scope.site_codes(session).get(who.site_id) if who.site_id else None
    return {
        "login": who.login,
        "name": who.name,
        "roles": sorted(r.value for r in who.roles),
        "site": site,
        "kind": who.kind,
        "may": who.abilities(),
    }
