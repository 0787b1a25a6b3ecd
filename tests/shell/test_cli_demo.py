"""The zero-setup path: `ecc` with no database URL runs on an embedded PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher

from core.db import embedded_url, stop_embedded
from core.settings import Settings
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT


def _ecc(
    args: list[str], data_dir: Path, timeout: int = 300, **env: str
) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "ECC_DATABASE_URL"}
    environ.update({"ECC_DATA_DIR": str(data_dir), **env})
    return subprocess.run(
        [sys.executable, "-m", "shell.cli", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def world_dir() -> Path:
    """As root, the embedded server runs as an unprivileged user: give it a reachable folder."""
    path = Path(tempfile.mkdtemp(prefix="ecc-embedded-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_demo_backfills_and_reuses_embedded_database(world_dir: Path) -> None:
    tmp_path = world_dir
    first = _ecc(
        ["demo", "--days", "2", "--no-stream"],
        tmp_path,
        ECC_API_PORT="8093",
        ECC_DASHBOARD_PORT="8094",
        COLUMNS="80",
    )
    assert first.returncode == 0, first.stderr[-2000:]
    assert "history:   80,640 readings written" in first.stderr  # 2 days x 1440 min x 28 meters
    assert "cost:      tariff DEMO-JS-TWO-PART\n" in first.stderr
    assert "           budget DEMO-PLANT electricity_kwh\n" in first.stderr
    wide = [line for line in first.stderr.splitlines() if len(line) > 80]
    assert not wide, wide  # COLUMNS=80: nothing wraps
    key = (tmp_path / "demo" / "admin.key").read_text().strip()
    assert key in first.stderr
    # the first admin: a password generated once, printed once, stored only as argon2id
    password = re.search(r"first admin: login admin\s+password (\S+)", first.stderr).group(1)
    wall = (tmp_path / "demo" / "display.key").read_text().strip()

    conninfo = embedded_url(Settings(data_dir=tmp_path))  # the same embedded server, reused
    try:
        with psycopg.connect(conninfo) as conn:
            n = conn.execute("SELECT count(*) FROM reading").fetchone()[0]
            path = conn.execute("SELECT value FROM ecc_meta WHERE key='timeseries_path'").fetchone()
            (stored,) = conn.execute(
                "SELECT password_hash FROM app_user WHERE login = 'admin'"
            ).fetchone()
            kind = conn.execute(
                "SELECT kind, role FROM api_key WHERE secret_hash = %s",
                (hashlib.sha256(wall.encode()).hexdigest(),),
            ).fetchone()
    finally:
        stop_embedded()
    assert stored.startswith("$argon2id$") and password not in stored
    assert PasswordHasher().verify(stored, password)
    assert kind == ("display", "viewer")  # the wall runs on a read-only display token
    assert n == 80_640
    assert path == ("postgresql",)

    second = _ecc(
        ["demo", "--days", "2", "--no-stream"],
        tmp_path,
        ECC_API_PORT="8093",
        ECC_DASHBOARD_PORT="8094",
    )
    assert second.returncode == 0, second.stderr[-2000:]
    assert key in second.stderr  # same key, same data
    assert "80,640 readings written" not in second.stderr
    assert password not in second.stderr and "first admin" not in second.stderr
    assert "cost:" not in second.stderr  # tariff, budgets and the budget rule exist


def test_keys_and_load_csv_on_a_server(tmp_path: Path, db_url: str) -> None:
    csv = tmp_path / "m.csv"
    csv.write_text("when,a,b\n2026-01-01 00:15,1.5,2\n2026-01-01 00:30,2.5,x\n")
    out = _ecc(
        [
            "load-csv",
            str(csv),
            "--ts-col",
            "when",
            "--tz",
            "+08:00",
            "--map",
            "CSV-A=a",
            "--map",
            "CSV-B=b",
            "--create-site",
            "CSV-SITE",
            "--ts-format",
            "%Y-%m-%d %H:%M",
        ],
        tmp_path,
        ECC_DATABASE_URL=db_url,
    )
    assert out.returncode == 1  # one value was rejected
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary == {"file": str(csv), "rows": 2, "accepted": 3, "duplicates": 0, "rejected": 1}
    assert "row 3: value: not a number: 'x'" in out.stderr
    again = _ecc(
        [
            "load-csv",
            str(csv),
            "--ts-col",
            "when",
            "--tz",
            "+08:00",
            "--map",
            "CSV-A=a",
            "--ts-format",
            "%Y-%m-%d %H:%M",
        ],
        tmp_path,
        ECC_DATABASE_URL=db_url,
    )
    assert json.loads(again.stdout.strip().splitlines()[-1])["duplicates"] == 2

    key = _ecc(
        ["keys", "create", "--role", "viewer", "--name", "cli-test"],
        tmp_path,
        ECC_DATABASE_URL=db_url,
    )
    assert key.returncode == 0, key.stderr
    assert key.stdout.strip().startswith("ecc_")
    dup = _ecc(
        ["keys", "create", "--role", "viewer", "--name", "cli-test"],
        tmp_path,
        ECC_DATABASE_URL=db_url,
    )
    assert dup.returncode != 0
    assert "a key named 'cli-test' exists" in dup.stderr + dup.stdout
