"""People: argon2id passwords, roles, an optional site scope, back-off after failed sign-ins,
and sessions (idle and absolute limits) whose bearer tokens are stored as SHA-256.

Sign-in is two steps: a *provider* vouches for a person (``authenticate``: the local password
today; an OpenID Connect provider later maps its ``iss``/``sub`` to ``provider``/``subject``),
then ``start_session`` issues the same kind of session whoever vouched.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts import scope
from accounts.keys import SESSION, Principal, Role, hash_secret, parse_role
from core.errors import Conflict, Invalid, NotFound
from models.accounts import AppUser, UserSession

LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$")
MIN_PASSWORD = 10
MAX_LOCK_S = 900.0
# last_seen_at is written at most this often per session
TOUCH_EVERY_S = 30.0

_hasher = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile


@functools.cache
def _dummy_hash() -> str:
    """A hash of no one's password, made once on first use (not at import: ~130 ms)."""
    return _hasher.hash("not a password of anyone")


class SignInRefused(Exception):
    """Wrong login or password, disabled, or locked: one message for all (no user probing)."""

    def __init__(self, retry_after_s: int | None = None) -> None:
        super().__init__("sign-in refused")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Lockout:
    after: int  # failures before the first lock
    base_s: float  # first lock; doubles with each further failure


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"must be at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def _roles(roles: list[str]) -> list[str]:
    if not roles:
        raise Invalid("roles", "name at least one role")
    return sorted({parse_role(r, "roles").value for r in roles})


def out(user: AppUser, codes: dict[int, str]) -> dict:
    return {
        "login": user.login,
        "name": user.name,
        "roles": list(user.roles),
        "site": codes.get(user.site_id) if user.site_id is not None else None,
        "enabled": user.enabled,
        "locked_until": user.locked_until,
        "last_login_at": user.last_login_at,
        "created_at": user.created_at,
    }


def create_user(
    session: Session,
    login: str,
    name: str | None,
    roles: list[str],
    password: str | None,
    site: str | None = None,
) -> AppUser:
    if not LOGIN_RE.match(login):
        raise Invalid("login", "2–100 letters, digits, '.', '_', '@' or '-'")
    if session.scalar(select(AppUser.id).where(AppUser.login == login)) is not None:
        raise Conflict("login", f"a user {login!r} exists")
    user = AppUser(
        login=login,
        name=(name or login).strip() or login,
        roles=_roles(roles),
        site_id=scope.site_id(session, site) if site else None,
        password_hash=hash_password(password) if password is not None else None,
        enabled=True,
        provider="local",
        subject=login,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, login: str) -> AppUser:
    user = session.scalar(select(AppUser).where(AppUser.login == login))
    if user is None:
        raise NotFound("login", f"no user {login!r}")
    return user


def list_users(session: Session) -> list[AppUser]:
    return list(session.scalars(select(AppUser).order_by(AppUser.login)))


def update_user(session: Session, login: str, changes: dict, now: datetime) -> AppUser:
    """Change name, roles, site (``None`` clears it), enabled or password. Disabling ends the
    person's sessions; a new password ends them too and lifts a lockout."""
    user = get_user(session, login)
    if "name" in changes:
        if not (changes["name"] or "").strip():
            raise Invalid("name", "must not be empty")
        user.name = changes["name"].strip()
    if "roles" in changes:
        user.roles = _roles(changes["roles"] or [])
    if "site" in changes:
        user.site_id = scope.site_id(session, changes["site"]) if changes["site"] else None
    end_sessions = False
    if "enabled" in changes and changes["enabled"] is not None:
        user.enabled = bool(changes["enabled"])
        end_sessions = not user.enabled
    if changes.get("password") is not None:
        user.password_hash = hash_password(changes["password"])
        user.failed_logins, user.locked_until = 0, None
        end_sessions = True
    if end_sessions:
        end_user_sessions(session, user.id, now)
    session.flush()
    return user


def end_user_sessions(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def authenticate(
    session: Session, login: str, password: str, now: datetime, lockout: Lockout
) -> AppUser:
    """The person if the password is right; counts failures and locks with back-off.

    The caller commits even on refusal (the failure count must stick)."""
    user = session.scalar(
        select(AppUser).where(AppUser.login == login, AppUser.provider == "local").with_for_update()
    )
    if user is None or user.password_hash is None:
        _verify(_dummy_hash(), password)  # same work as a real check: no login probing by timing
        raise SignInRefused()
    if user.locked_until is not None and user.locked_until > now:
        raise SignInRefused(retry_after_s=max(1, int((user.locked_until - now).total_seconds())))
    if not _verify(user.password_hash, password) or not user.enabled:
        user.failed_logins += 1
        over = user.failed_logins - lockout.after
        if over >= 0:
            lock_s = min(MAX_LOCK_S, lockout.base_s * 2**over)
            user.locked_until = now + timedelta(seconds=lock_s)
        session.flush()
        raise SignInRefused()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    session.flush()
    return user


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def start_session(
    session: Session, user: AppUser, now: datetime, absolute_s: float, client: str | None
) -> tuple[str, datetime]:
    """A new session; returns its bearer token (shown once) and its absolute expiry."""
    token = f"ecs_{secrets.token_urlsafe(32)}"
    expires_at = now + timedelta(seconds=absolute_s)
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=hash_secret(token),
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            client=(client or "")[:100] or None,
        )
    )
    session.flush()
    return token, expires_at


def session_principal(
    session: Session, token: str, now: datetime, idle_s: float
) -> Principal | None:
    """The person behind a session token, or None when ended, idle too long, past its
    absolute limit, or the person is disabled. Slides the idle limit."""
    row = session.execute(
        select(UserSession, AppUser)
        .join(AppUser, AppUser.id == UserSession.user_id)
        .where(UserSession.token_hash == hash_secret(token), UserSession.ended_at.is_(None))
    ).first()
    if row is None:
        return None
    sess, user = row
    idle_end = sess.last_seen_at + timedelta(seconds=idle_s)
    if not user.enabled or sess.expires_at <= now or idle_end <= now:
        return None
    if (now - sess.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
        session.execute(
            update(UserSession).where(UserSession.id == sess.id).values(last_seen_at=now)
        )
        session.commit()
        idle_end = now + timedelta(seconds=idle_s)
    return principal_of(session, user, min(sess.expires_at, idle_end))


def principal_of(session: Session, user: AppUser, expires_at: datetime | None) -> Principal:
    return Principal(
        name=user.name,
        roles=frozenset(Role(r) for r in user.roles),
        kind=SESSION,
        login=user.login,
        site_id=user.site_id,
        sites=scope.subtree(session, user.site_id) if user.site_id is not None else None,
        expires_at=expires_at,
    )


def end_session(session: Session, token: str, now: datetime) -> bool:
    done = session.execute(
        update(UserSession)
        .where(UserSession.token_hash == hash_secret(token), UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return bool(getattr(done, "rowcount", 0))
