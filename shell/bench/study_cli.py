"""The command line the studies of recorded folds share (``interval_study``,
``combination_study``): ``collect OUT.pkl [--folds N] [--week-hourly]`` records from the
shared data, every other action reads a record written so."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from shell.bench.forecast_suite import DATA


def parser(prog: str, actions: Sequence[str], folds: int) -> argparse.ArgumentParser:
    """The study's parser: its ``actions`` (``collect`` first), the record's path, the
    folds and horizon to record; a study adds its own options."""
    made = argparse.ArgumentParser(prog=f"python -m shell.bench.{prog}")
    made.add_argument("action", choices=tuple(actions))
    made.add_argument("path", type=Path)
    made.add_argument("--folds", type=int, default=folds)
    made.add_argument("--week-hourly", action="store_true")
    return made


def collected(
    made: argparse.ArgumentParser,
    args: argparse.Namespace,
    collect: Callable[[Path, int, bool], None],
) -> bool:
    """Check the common arguments; run ``collect`` for the ``collect`` action (True), or make
    sure the record to read is there (False). A bad argument exits with the parser's error."""
    if args.folds < 1:
        made.error("--folds: at least 1")
    if args.action == "collect":
        if not DATA.is_dir():
            made.error(f"the shared data are not at {DATA} (set ECC_SHARED_DATA)")
        collect(args.path, args.folds, args.week_hourly)
        return True
    if not args.path.is_file():
        made.error(f"path: {args.path} is not a file (write it with collect first)")
    return False
