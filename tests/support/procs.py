"""The processes a test module started and left running (uvicorn servers, the dashboard,
Chromium, Ray, PGlite, demo children): read from ``/proc``, so Linux only (CI is).

A module that leaves one behind loads the two-core CI box for the rest of the suite (a late
test then misses its startup timeout), so ``tests/conftest.py`` checks after every module that
the pytest process has no live descendants left, ends the ones it finds and fails the module's
last test naming them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a process, or None when it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and ")"
    return int(rest[1]), rest[0]


def _cmdline(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()[:200]


def live_descendants(root: int | None = None) -> dict[int, str]:
    """Live (not zombie) descendants of ``root`` (this process): pid → command line."""
    if not PROC.is_dir():
        return {}
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    states: dict[int, str] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        found = _stat(int(entry.name))
        if found is not None:
            children.setdefault(found[0], []).append(int(entry.name))
            states[int(entry.name)] = found[1]
    out: dict[int, str] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        if states.get(pid) not in ("Z", "X"):
            out[pid] = _cmdline(pid)
    return out


def left_behind(grace_s: float = 10.0) -> dict[int, str]:
    """Descendants still alive after ``grace_s`` (a stopped server may take a moment)."""
    deadline = time.monotonic() + grace_s
    found = live_descendants()
    while found and time.monotonic() < deadline:
        time.sleep(0.2)
        found = live_descendants()
    return found


def end(pids: dict[int, str]) -> None:
    """SIGTERM, then SIGKILL after 5 s, each of these processes (descendants of this one)."""
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    found = _stat(pid)
    return found is not None and found[1] not in ("Z", "X")
