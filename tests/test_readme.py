"""The README documents every setting (the configuration table is the user's reference)."""

from __future__ import annotations

from core.settings import Settings
from tests.support.paths import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [
        f"ECC_{name.upper()}"
        for name in Settings.model_fields
        if f"| `ECC_{name.upper()}` |" not in README
    ]
    assert missing == []


def test_readme_names_the_test_command_that_ci_runs() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "python3 -m pytest" in README and "python3 -m pytest" in ci
