"""People: argon2id passwords, back-off after failed sign-ins, sessions with idle and absolute
limits (every time pinned: nothing here reads the wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from accounts import users
from core.errors import Conflict, Invalid

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a shift starts
LOCK = users.Lockout(after=3, base_s=30.0)


@pytest.fixture
def person(session: Session, uid: str) -> str:
    login = f"wang.{uid}"
    users.create_user(session, login, "Wang Wei", ["engineer"], "correct horse battery")
    session.commit()
    return login


def test_password_is_stored_as_argon2id_never_in_clear(session: Session, person: str) -> None:
    user = users.get_user(session, person)
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash


def test_bad_input_names_the_field(session: Session, uid: str) -> None:
    with pytest.raises(Invalid) as e:
        users.create_user(session, f"x{uid}", None, ["engineer"], "short")
    assert e.value.field == "password"
    with pytest.raises(Invalid) as e:
        users.create_user(session, f"x{uid}", None, ["boss"], "long enough pw")
    assert e.value.field == "roles"
    with pytest.raises(Invalid) as e:
        users.create_user(session, "no spaces allowed", None, ["viewer"], "long enough pw")
    assert e.value.field == "login"


def test_a_login_exists_once(session: Session, person: str) -> None:
    with pytest.raises(Conflict):
        users.create_user(session, person, None, ["viewer"], "another password")


def test_failed_sign_ins_lock_with_doubling_back_off(session: Session, person: str) -> None:
    for i in range(2):
        with pytest.raises(users.SignInRefused) as e:
            users.authenticate(session, person, "wrong", T0 + timedelta(seconds=i), LOCK)
        assert e.value.retry_after_s is None
    with pytest.raises(users.SignInRefused):  # third failure: locked for 30 s
        users.authenticate(session, person, "wrong", T0 + timedelta(seconds=2), LOCK)
    # even the right password is refused while locked, with the time left
    with pytest.raises(users.SignInRefused) as e:
        users.authenticate(
            session, person, "correct horse battery", T0 + timedelta(seconds=12), LOCK
        )
    assert e.value.retry_after_s == 20
    with pytest.raises(users.SignInRefused):  # fourth failure after the lock: 60 s
        users.authenticate(session, person, "wrong", T0 + timedelta(seconds=40), LOCK)
    assert users.get_user(session, person).locked_until == T0 + timedelta(seconds=100)
    ok = users.authenticate(
        session, person, "correct horse battery", T0 + timedelta(seconds=101), LOCK
    )
    assert ok.failed_logins == 0 and ok.locked_until is None


def test_disabled_person_cannot_sign_in(session: Session, person: str) -> None:
    users.update_user(session, person, {"enabled": False}, T0)
    with pytest.raises(users.SignInRefused):
        users.authenticate(session, person, "correct horse battery", T0, LOCK)


def test_session_idle_and_absolute_limits(session: Session, person: str) -> None:
    user = users.get_user(session, person)
    token, expires_at = users.start_session(session, user, T0, absolute_s=13 * 3600, client=None)
    session.commit()
    assert token.startswith("ecs_") and expires_at == T0 + timedelta(hours=13)
    idle = 2 * 3600.0
    # used every hour: the idle limit slides; the absolute limit does not
    for h in range(1, 13):
        p = users.session_principal(session, token, T0 + timedelta(hours=h), idle)
        assert p is not None and p.name == "Wang Wei" and p.login == person
    late = T0 + timedelta(hours=13, seconds=1)
    assert users.session_principal(session, token, late, idle) is None


def test_idle_session_ends(session: Session, person: str) -> None:
    user = users.get_user(session, person)
    token, _ = users.start_session(session, user, T0, absolute_s=13 * 3600, client=None)
    session.commit()
    assert users.session_principal(session, token, T0 + timedelta(hours=2, seconds=1), 7200) is None


def test_sign_out_and_disable_end_sessions(session: Session, person: str) -> None:
    user = users.get_user(session, person)
    a, _ = users.start_session(session, user, T0, 13 * 3600, None)
    b, _ = users.start_session(session, user, T0, 13 * 3600, None)
    session.commit()
    assert users.end_session(session, a, T0)
    assert users.session_principal(session, a, T0, 7200) is None
    assert users.session_principal(session, b, T0, 7200) is not None
    users.update_user(session, person, {"enabled": False}, T0)
    assert users.session_principal(session, b, T0, 7200) is None
