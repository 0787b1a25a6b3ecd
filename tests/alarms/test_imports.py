"""Alarms import the floors below them at the top of the module; an import inside a function
is only for a module that loads pandas (forecasting, budgets), so that the alarm engine and
the API's rule checks do not load it until such a rule exists."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ALARMS = Path(__file__).resolve().parents[2] / "alarms"


def _deferred() -> list[tuple[str, int, str]]:
    """(file, line, statement) of every import inside a function of the alarms package."""
    found = []
    for path in sorted(ALARMS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    found.append((path.name, node.lineno, ast.unparse(node)))
    return found


def test_the_walk_sees_imports_inside_functions() -> None:
    # the forecast rules defer forecasting (pandas): the walk must find them
    statements = {s for _, _, s in _deferred()}
    assert "from forecasting.subjects import site_subjects" in statements


@pytest.mark.parametrize("where", _deferred(), ids=lambda w: f"{w[0]}:{w[1]}")
def test_an_import_inside_a_function_only_defers_pandas(where: tuple[str, int, str]) -> None:
    _, _, statement = where
    code = f"import sys\n{statement}\nprint('pandas' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ALARMS.parent,
    )
    assert out.stdout.strip() == "True", f"{statement!r} loads no pandas: import it at the top"
