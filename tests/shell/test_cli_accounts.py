"""`ecc users …`, `ecc keys list|revoke`, `--expires`, `ecc displays create` on a server."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.support.paths import REPO_ROOT


def _ecc(
    args: list[str], db_url: str, tmp: Path, stdin: str | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    env.update({"ECC_DATABASE_URL": db_url, "ECC_DATA_DIR": str(tmp)})
    return subprocess.run(
        [sys.executable, "-m", "shell.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_users_from_the_command_line(
    tmp_path: Path,
    db_url: str,
    client: TestClient,
    engine,  # noqa: ANN001
) -> None:
    login = f"op{uuid.uuid4().hex[:6]}"
    out = _ecc(
        ["users", "create", "--login", login, "--role", "engineer", "--password-stdin"],
        db_url,
        tmp_path,
        stdin="a long enough password\n",
    )
    assert out.returncode == 0, out.stderr
    assert "a long enough password" not in out.stdout + out.stderr
    r = client.post(
        "/api/v1/auth/login", json={"login": login, "password": "a long enough password"}
    )
    assert r.status_code == 200 and r.json()["user"]["roles"] == ["engineer"]
    listed = _ecc(["users", "list"], db_url, tmp_path)
    assert any(
        line.startswith(f"{login}\t") and "engineer" in line for line in listed.stdout.splitlines()
    )
    assert _ecc(["users", "disable", login], db_url, tmp_path).returncode == 0
    r = client.post(
        "/api/v1/auth/login", json={"login": login, "password": "a long enough password"}
    )
    assert r.status_code == 401
    with engine.connect() as conn:
        actor = conn.execute(
            text(
                "SELECT actor FROM audit_log WHERE entity = 'app_user' AND entity_id = :l "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"l": login},
        ).scalar_one()
    assert actor.startswith("cli:")


def test_generated_password_is_shown_once(tmp_path: Path, db_url: str) -> None:
    out = _ecc(
        ["users", "create", "--login", f"g{uuid.uuid4().hex[:6]}", "--role", "viewer"],
        db_url,
        tmp_path,
    )
    assert out.returncode == 0 and len(out.stdout.strip()) >= 12


def test_key_lifecycle_from_the_command_line(
    tmp_path: Path, db_url: str, client: TestClient
) -> None:
    name = f"gw-{uuid.uuid4().hex[:6]}"
    out = _ecc(
        ["keys", "create", "--role", "ingest", "--name", name, "--expires", "90d"], db_url, tmp_path
    )
    assert out.returncode == 0, out.stderr
    secret = out.stdout.strip()
    bad = _ecc(
        ["keys", "create", "--role", "ingest", "--name", "x" + name, "--expires", "soon"],
        db_url,
        tmp_path,
    )
    assert bad.returncode != 0 and "expires" in bad.stderr
    listed = _ecc(["keys", "list"], db_url, tmp_path).stdout.splitlines()
    row = next(line.split("\t") for line in listed if line.startswith(f"{name}\t"))
    header = listed[0].split("\t")
    assert row[header.index("expires_at")] != "-" and row[header.index("revoked_at")] == "-"
    assert _ecc(["keys", "revoke", name], db_url, tmp_path).returncode == 0
    listed = _ecc(["keys", "list"], db_url, tmp_path).stdout.splitlines()
    row = next(line.split("\t") for line in listed if line.startswith(f"{name}\t"))
    assert row[header.index("revoked_at")] != "-"
    h = {"Authorization": f"Bearer {secret}"}
    assert client.post("/api/v1/readings", json={"readings": []}, headers=h).status_code == 401


def test_display_token_from_the_command_line(
    tmp_path: Path, db_url: str, client: TestClient, admin_headers: dict
) -> None:
    site = f"D-{uuid.uuid4().hex[:6]}"
    assert (
        client.post(
            "/api/v1/sites", json={"code": site, "name": "d"}, headers=admin_headers
        ).status_code
        == 201
    )
    out = _ecc(["displays", "create", "--site", site], db_url, tmp_path)
    assert out.returncode == 0, out.stderr
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {out.stdout.strip()}"})
    assert me.json()["kind"] == "display" and me.json()["site"] == site
