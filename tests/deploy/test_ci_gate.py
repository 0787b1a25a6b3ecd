"""The CI gate: ``.ci/run`` installs the gate's tools and runs ruff, the import contracts and mypy
before the tests, and each tool really fails on a finding."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tests.support.paths import REPO_ROOT

CI_RUN = REPO_ROOT / ".ci" / "run"
DOMAIN = [
    "core",
    "accounts",
    "metering",
    "ingest",
    "carbon",
    "alarms",
    "forecasting",
    "assets",
    "cost",
    "budgets",
    "footprints",
    "recommendations",
    "benchmarking",
    "collectors",
]
GATE = [
    "python3 -m ruff check .",
    "python3 -m ruff format --check .",
    "lint-imports",
    "python3 -m mypy",
]


def _pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_ci_runs_the_gate_before_the_tests() -> None:
    lines = [line.split("#")[0].strip() for line in CI_RUN.read_text().splitlines()]
    assert CI_RUN.read_text().startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in lines  # a failing step fails the run
    install = next(i for i, line in enumerate(lines) if "pip install" in line)
    assert "[test,dev]" in lines[install]
    at = [lines.index(cmd) for cmd in GATE]
    tests = next(i for i, line in enumerate(lines) if line.startswith("python3 -m pytest"))
    assert install < at[0] and at == sorted(at) and at[-1] < tests


def test_the_gate_tools_are_in_the_dev_extra() -> None:
    dev = " ".join(_pyproject()["project"]["optional-dependencies"]["dev"])
    for tool in ("ruff", "mypy", "import-linter"):
        assert tool in dev


def test_mypy_checks_the_domain_packages() -> None:
    cfg = _pyproject()["tool"]["mypy"]
    assert cfg["files"] == DOMAIN


def test_mypy_with_the_project_settings_fails_on_a_type_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('def energy_kwh() -> float:\n    return "12 kWh"\n')
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(REPO_ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            str(bad),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=240,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Incompatible return value type" in run.stdout


def test_ruff_with_the_project_settings_fails_on_a_finding(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")  # F401: unused import
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--config",
            str(REPO_ROOT / "pyproject.toml"),
            "--no-cache",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1 and "F401" in run.stdout, run.stdout + run.stderr
