"""People, sessions and scoped credentials for tests."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from accounts import keys, users

PASSWORD = "shift-handover-2026"


def make_user(engine, roles: list[str], site: str | None = None, name: str | None = None) -> str:  # noqa: ANN001
    login = f"u{uuid.uuid4().hex[:8]}"
    with Session(engine) as s:
        users.create_user(s, login, name or login, roles, PASSWORD, site=site)
        s.commit()
    return login


def sign_in(client, login: str, password: str = PASSWORD) -> dict[str, str]:  # noqa: ANN001
    r = client.post("/api/v1/auth/login", json={"login": login, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def scoped_key(engine, role: str, site: str | None = None, **kw) -> str:  # noqa: ANN001, ANN003
    with Session(engine) as s:
        secret = keys.create_key(s, role, f"{role}-{uuid.uuid4().hex[:8]}", site=site, **kw)
        s.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
