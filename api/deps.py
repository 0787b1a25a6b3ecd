"""FastAPI dependencies: state, database session, and role checks on the bearer key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from accounts import keys
from api.state import AppState

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer <key>`")


def get_state(request: Request) -> AppState:
    return request.app.state.ecc


State = Annotated[AppState, Depends(get_state)]


def get_session(state: State) -> Iterator[Session]:
    with state.sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]


def principal(
    state: State,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> keys.Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer API key", headers={"WWW-Authenticate": "Bearer"})
    found = state.principal(creds.credentials)
    if found is None:
        raise HTTPException(
            401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return found


def require(roles: set[keys.Role]):  # noqa: ANN201
    def check(p: Annotated[keys.Principal, Depends(principal)]) -> keys.Principal:
        if p.role not in roles:
            raise HTTPException(403, f"role {p.role.value!r} may not do this")
        return p

    return check


Reader = Annotated[keys.Principal, Depends(require(keys.READ_ROLES))]
ReadingWriter = Annotated[keys.Principal, Depends(require(keys.WRITE_READINGS_ROLES))]
Configurer = Annotated[keys.Principal, Depends(require(keys.CONFIGURE_ROLES))]
