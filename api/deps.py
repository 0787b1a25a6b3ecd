"""FastAPI dependencies: state, database session, who is asking (a person's session, a key or
a display token), role checks, the site scope, and the failed-authentication limit."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from accounts import audit, keys, scope
from api.state import AppState

_bearer = HTTPBearer(
    auto_error=False,
    description="`Authorization: Bearer <token>`: a session token from `POST /auth/login`, "
    "an API key (`ecc keys create`) or a display token (`ecc displays create`).",
)
Token = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
SMALL_BODY = 1 << 20  # JSON bodies scanned for site/meter fields of a scoped caller


def get_state(request: Request) -> AppState:
    return request.app.state.ecc


State = Annotated[AppState, Depends(get_state)]


def audit_context(request: Request) -> audit.Context:
    ctx = getattr(request.state, "audit", None)
    if ctx is None:  # outside the middleware (unit-level apps)
        ctx = request.state.audit = audit.Context(method=request.method, path=request.url.path)
    return ctx


def get_session(state: State, request: Request) -> Iterator[Session]:
    with state.sessions() as session:
        session.info["audit"] = audit_context(request)
        yield session


DbSession = Annotated[Session, Depends(get_session)]
Audit = Annotated[audit.Context, Depends(audit_context)]


def client_address(request: Request) -> str:
    """The caller's address; behind a trusted proxy (the dashboard, a TLS proxy) the last
    address it appended to X-Forwarded-For."""
    peer = request.client.host if request.client else "unknown"
    trusted = getattr(request.app.state, "trusted_proxies", frozenset())
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in trusted:
        return forwarded.rsplit(",", 1)[-1].strip() or peer
    return peer


def refuse_if_limited(state: AppState, request: Request) -> None:
    retry = state.failures.retry_after(client_address(request), time.monotonic())
    if retry is not None:
        raise HTTPException(
            429,
            "too many failed authentications from this address",
            headers={"Retry-After": str(retry)},
        )


async def principal(
    request: Request,
    state: State,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> keys.Principal:
    refuse_if_limited(state, request)
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    found = await run_in_threadpool(state.principal, creds.credentials)
    if found is None:
        state.failures.fail(client_address(request), time.monotonic())
        raise HTTPException(
            401,
            "invalid, expired or revoked token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    audit_context(request).principal = found
    if found.sites is not None:
        await _check_scope(request, state, found)
    return found


Caller = Annotated[keys.Principal, Depends(principal)]


def require(roles: set[keys.Role]):  # noqa: ANN201
    def check(p: Caller) -> keys.Principal:
        if not p.may(roles):
            raise HTTPException(403, f"role {p.role.value!r} may not do this")
        return p

    return check


Reader = Annotated[keys.Principal, Depends(require(keys.READ_ROLES))]
ReadingWriter = Annotated[keys.Principal, Depends(require(keys.WRITE_READINGS_ROLES))]
Configurer = Annotated[keys.Principal, Depends(require(keys.CONFIGURE_ROLES))]
Admin = Annotated[keys.Principal, Depends(require(keys.ADMIN_ROLES))]
AuditReader = Annotated[keys.Principal, Depends(require(keys.AUDIT_ROLES))]


def estate_wide(p: Annotated[keys.Principal, Depends(require(keys.ADMIN_ROLES))]) -> None:
    """Changes of the whole estate (people, keys, factors, recalculations) need an unscoped
    credential (``keys.ESTATE``)."""
    if keys.ESTATE not in p.abilities():
        raise HTTPException(403, "scope: a site-scoped credential may not do this")


EstateAdmin = Annotated[None, Depends(estate_wide)]


# ---- site scope --------------------------------------------------------------------------
# Which path parameter names what, per path prefix; lists named in FILTERED filter their own
# answers; any other route that takes a ``site`` query needs one within scope.
_PATH_SUBJECT = {
    "/sites/{code}": scope.site_of_code,
    "/meters/{code}": scope.site_of_meter,
    "/alarms/{alarm_id}": lambda s, v: scope.site_of_alarm(s, int(v)),
    "/alarm-rules/{rule_id}": lambda s, v: scope.site_of_rule(s, int(v)),
}
FILTERED = {"/sites", "/meters", "/alarms", "/alarms/metrics", "/alarm-rules"}
# writes that reach every site of the estate (event days apply to every site on the tariff)
ESTATE_WRITES = {
    "/factors",
    "/carbon/recalculations",
    "/tariffs/{code}/event-days",
    "/tariffs/{code}/event-days/{day}",
}


async def _check_scope(request: Request, state: AppState, p: keys.Principal) -> None:
    route = request.scope.get("route")
    # the route's template without the API prefix (FastAPI keeps the router-relative path)
    template = getattr(route, "path", request.url.path).removeprefix("/api/v1")
    write = request.method in WRITES
    subjects: list[tuple[str, str, object]] = []  # (field, value, resolver)
    for prefix, resolve in _PATH_SUBJECT.items():
        if template == prefix or template.startswith(prefix + "/"):
            name = prefix.rsplit("{", 1)[1].rstrip("}")
            subjects.append((name, request.path_params.get(name), resolve))
    for name, resolve in (("site", scope.site_of_code), ("meter", scope.site_of_meter)):
        if request.query_params.get(name):
            subjects.append((name, request.query_params[name], resolve))
    if write:
        if template in ESTATE_WRITES:
            raise HTTPException(403, "scope: a site-scoped credential may not do this")
        body = await _small_json(request)
        if template == "/sites" and isinstance(body, dict):
            if not body.get("parent"):
                raise HTTPException(403, "parent: a site-scoped credential creates only below it")
            subjects.append(("parent", body["parent"], scope.site_of_code))
        if isinstance(body, dict):
            for name, resolve in (("site", scope.site_of_code), ("meter", scope.site_of_meter)):
                if isinstance(body.get(name), str):
                    subjects.append((name, body[name], resolve))
    elif (
        not subjects
        and template not in FILTERED
        and route is not None
        and any(getattr(q, "name", None) == "site" for q in _query_params(route))
    ):
        raise HTTPException(403, "site: a site-scoped credential must name a site in its scope")
    if not subjects:
        return
    found = await run_in_threadpool(_sites_of, state, subjects)
    for name, value, site_id in found:
        if site_id is not None and not p.sees(site_id):
            if write and name not in _PATH_SUBJECT_NAMES:
                raise HTTPException(403, f"{name}: {value!r} is outside this credential's site")
            raise HTTPException(404, f"{name}: no {value!r} here")


_PATH_SUBJECT_NAMES = {"code", "alarm_id", "rule_id"}


def _query_params(route: object) -> list:
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return []
    out, stack = [], [dependant]
    while stack:
        d = stack.pop()
        out.extend(d.query_params)
        stack.extend(d.dependencies)
    return out


def _sites_of(state: AppState, subjects: list) -> list[tuple[str, str, int | None]]:
    with state.sessions() as session:
        out = []
        for name, value, resolve in subjects:
            try:
                out.append((name, value, resolve(session, value)))
            except ValueError:
                out.append((name, value, None))
        return out


async def _small_json(request: Request) -> object:
    """The JSON body of a scoped caller's write (never skipped: a body it cannot read is
    refused), except readings, which are checked meter by meter (api/routers/readings.py)."""
    if "json" not in request.headers.get("content-type", "") or request.url.path.endswith(
        "/readings"
    ):
        return None
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > SMALL_BODY:
        raise HTTPException(413, "a site-scoped credential's body is limited to 1 MiB")
    body = await request.body()
    if len(body) > SMALL_BODY:
        raise HTTPException(413, "a site-scoped credential's body is limited to 1 MiB")
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None  # FastAPI answers 422 for it


def visible(p: keys.Principal, session: Session, items: list) -> list:
    """The items of a list whose ``site`` (or, lacking one, ``meter``) lies in the caller's
    scope."""
    if p.sites is None:
        return items
    codes = scope.site_codes(session)
    allowed = {codes[i] for i in p.sites if i in codes}
    meters = scope.meter_sites(session)

    def field(item: object, key: str) -> object:
        return item.get(key) if isinstance(item, dict) else getattr(item, key, None)

    def inside(item: object) -> bool:
        site = field(item, "site")
        if site is not None:
            return site in allowed
        return meters.get(field(item, "meter")) in p.sites

    return [i for i in items if inside(i)]
