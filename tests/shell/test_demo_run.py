"""The demo as a plant would run it: a restart fills its gap exactly, children are
supervised, and the console fits 80 columns (clocks injected, never the wall clock)."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import text

from shell.demo import METERS, generate
from shell.demo.run import (
    Streamer,
    backfill,
    database_label,
    ensure_plant,
    print_banner,
    print_lines,
    progress_columns,
    resume,
)
from shell.processes import Child, ChildFailed, DidNotStart, Supervisor, wait_until_answering

CST = timezone(timedelta(hours=8))


def _stored(engine, lo: datetime, hi: datetime) -> dict[str, tuple[list, list]]:  # noqa: ANN001
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.code, r.ts, r.value FROM reading r JOIN meter m ON m.id = r.meter_id "
                "WHERE m.code = ANY(:codes) AND r.ts >= :lo AND r.ts < :hi ORDER BY m.code, r.ts"
            ),
            {"codes": [m["code"] for m in METERS], "lo": lo, "hi": hi},
        ).all()
    out: dict[str, tuple[list, list]] = {}
    for code, ts, value in rows:
        out.setdefault(code, ([], []))
        out[code][0].append(int(ts.timestamp()))
        out[code][1].append(value)
    return out


def test_restart_fills_the_gap_with_the_uninterrupted_readings(
    engine, client: TestClient, admin_headers: dict[str, str], tmp_path: Path
) -> None:  # noqa: ANN001
    """A day of history, 3 minutes of live stream, a stop of 3 h 7 min across midnight, a
    restart (gap filled by the backfill) and 5 more minutes of stream: in the database,
    every meter has one reading per minute and exactly the values of one uninterrupted
    generation: no hole, no duplicate, no spike at either hand-over."""
    ensure_plant(engine)
    console = Console(file=io.StringIO(), width=80)
    path = tmp_path / "state.json"
    t0 = datetime(2025, 2, 17, 22, 50, tzinfo=CST)  # a Monday evening, in the past

    def post(rows: list[dict]) -> int:
        r = client.post("/api/v1/readings", json={"readings": rows}, headers=admin_headers)
        assert r.status_code == 200, r.text
        assert not r.json()["rejected"]
        return r.json()["accepted"]

    def run(now: datetime, stream_for: timedelta) -> None:
        state, start = resume(path, now, 1, console.print)
        backfill(engine, state, start, now, console)
        streamer = Streamer(state, path, post)
        t = now
        while t < now + stream_for:  # a tick every 5 s of the injected clock
            t += timedelta(seconds=5)
            streamer.tick(t)

    run(t0, timedelta(minutes=3))
    again = t0 + timedelta(hours=3, minutes=10)  # restarted at 01:00 the next day
    run(again, timedelta(minutes=5))

    lo, hi = t0 - timedelta(days=1), again + timedelta(minutes=5, seconds=1)
    got = _stored(engine, lo, hi)
    whole: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for ch in generate(METERS, lo, hi, step_s=60, seed=42):
        ts, v = whole.get(ch.meter, (np.array([], dtype=np.int64), np.array([])))
        whole[ch.meter] = (np.concatenate([ts, ch.ts]), np.concatenate([v, ch.value]))
    minutes = int((hi - lo).total_seconds() // 60) + 1  # both ends are grid minutes
    assert set(got) == {m["code"] for m in METERS}
    for code, (ts, v) in whole.items():
        assert len(ts) == minutes
        assert got[code][0] == ts.tolist(), code  # one reading per minute: no hole, no duplicate
        np.testing.assert_allclose(got[code][1], v, rtol=1e-12, err_msg=code)


def test_a_tick_that_fails_is_sent_again() -> None:
    """Nothing is lost while the API does not answer: the state advances only once the
    sink has taken the readings."""
    from shell.demo import GeneratorState

    state = GeneratorState(seed=42, step_s=60)
    t = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    list(generate(METERS, t - timedelta(hours=1), t, seed=42, state=state))
    taken: list[list[dict]] = []

    def down(rows: list[dict]) -> int:
        raise OSError("refused")

    s = Streamer(state, Path("/nonexistent/state.json"), down)
    with pytest.raises(OSError):
        s.tick(t + timedelta(minutes=2, seconds=3))
    assert state.last_ts == (t - timedelta(minutes=1)).timestamp()
    s.sink = lambda rows: taken.append(rows) or len(rows)
    s.path = Path("/tmp") / f"h4-state-{id(s)}.json"
    assert s.tick(t + timedelta(minutes=2, seconds=8)) == 3 * len(METERS)
    assert sorted({r["ts"] for r in taken[0]}) == [
        (t + timedelta(minutes=k)).isoformat() for k in range(3)
    ]
    s.path.unlink()


# --------------------------------------------------------------------------- supervision
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_child(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_answering(proc, f"http://127.0.0.1:{port}/", "the API", timeout_s=20)
    return proc


def test_a_killed_child_is_started_again() -> None:
    port = _free_port()
    said: list[str] = []
    waits: list[float] = []
    sup = Supervisor(said.append, sleep=waits.append)
    child = sup.add(Child("the API", lambda: _http_child(port)))
    first = child.proc
    try:
        first.kill()
        first.wait(10)
        t = time.monotonic()
        sup.check()
        assert time.monotonic() - t < 20  # within the bound of one start
        assert child.proc is not first and child.proc.poll() is None
        assert waits == [1.0]
        assert said == ["the API exited with code -9; restarting in 1 s", "the API running again"]
    finally:
        sup.stop_all()


def test_a_child_that_keeps_dying_stops_the_demo_with_a_clear_message(tmp_path: Path) -> None:
    said: list[str] = []
    waits: list[float] = []
    clock = iter(range(0, 1000, 10))
    starts = 0

    def start() -> subprocess.Popen:
        nonlocal starts
        starts += 1
        if starts == 1:
            return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        raise DidNotStart("the API exited with code 3")

    sup = Supervisor(said.append, sleep=waits.append, clock=lambda: next(clock))
    sup.add(Child("the API", start, True, tmp_path / "api.log"))
    sup.children["the API"].proc.wait(10)
    with pytest.raises(ChildFailed) as err:
        sup.check()
    assert waits == [1.0, 2.0, 4.0]  # bounded, with back-off; then it gives up
    assert starts == 4
    assert str(err.value) == (
        f"the API exited with code 3, 3 restarts in 600 s did not keep it up; "
        f"log: {tmp_path / 'api.log'}"
    )
    assert sup.children == {}


def test_an_optional_child_is_dropped_with_a_warning() -> None:
    said: list[str] = []
    sup = Supervisor(said.append, max_restarts=1, sleep=lambda s: None)

    def start() -> subprocess.Popen:
        if "the dashboard" in sup.children:
            raise DidNotStart("the dashboard did not answer")
        return subprocess.Popen([sys.executable, "-c", "pass"])

    sup.add(Child("the dashboard", start, required=False))
    sup.children["the dashboard"].proc.wait(10)
    sup.check()
    assert "the dashboard" not in sup.children
    assert said[-1].endswith("going on without it")


# --------------------------------------------------------------------------- 80 columns
def _lines(console: Console) -> list[str]:
    return console.file.getvalue().splitlines()  # type: ignore[attr-defined]


def test_console_lines_fit_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    console = Console(file=io.StringIO(), force_terminal=False)
    assert console.width == 80
    long_dir = Path.cwd() / ".ecc"  # the default data_dir
    print_lines(console, "database", [database_label("", True, long_dir)])
    print_lines(
        console,
        "database",
        [database_label("postgresql+psycopg://ecc:secret@db.example:5432/ecc", False, long_dir)],
    )
    key = "ecc_admin_1a2b3c4d_" + "x" * 32
    print_banner(
        console,
        api="http://127.0.0.1:8000",
        ui="http://127.0.0.1:8050",
        first_password="p" * 16,
        admin_key=key,
        key_path=long_dir / "demo" / "admin.key",
    )
    lines = _lines(console)
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    text_ = "\n".join(lines)
    assert key in text_ and "secret" not in text_
    assert "ecc@db.example:5432/ecc" in text_


def test_progress_bar_is_not_cut_at_80_columns() -> None:
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    with Progress(*progress_columns(), console=console, auto_refresh=False) as progress:
        task = progress.add_task("backfill", total=3_628_800)
        progress.update(task, completed=1_814_400)
        progress.refresh()
    raw = console.file.getvalue()  # type: ignore[attr-defined]
    frames = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", f).rstrip("\n") for f in raw.split("\r")]
    last = [f for f in frames if f.strip()][-1]
    # the whole line is there: label, bar, percent and time left (nothing cut off)
    assert re.fullmatch(r"backfill ━{20} +50% -:--:--", last), last
    assert len(last) <= 80


def test_resume_a_first_run_a_saved_state_and_an_earlier_versions_state(tmp_path: Path) -> None:
    from shell.demo import GeneratorState

    path = tmp_path / "state.json"
    now = datetime(2026, 12, 3, 21, 43, tzinfo=UTC)
    said: list[str] = []
    state, start = resume(path, now, 90, said.append)
    assert (state.day, start) == (None, now - timedelta(days=90))
    saved = GeneratorState(seed=42, step_s=60, last_ts=now.timestamp(), day=20_425)
    path.write_text(json.dumps(saved.to_dict()))
    state, start = resume(path, now + timedelta(minutes=3), 90, said.append)
    assert (state.day, start) == (20_425, now + timedelta(minutes=1))  # the next minute
    # an earlier version's state has no midnight checkpoint: resume at the next local midnight
    legacy = {"seed": 42, "step_s": 60, "last_ts": now.timestamp(), "totals": {}, "ar": {}}
    path.write_text(json.dumps(legacy))
    state, start = resume(path, now + timedelta(minutes=3), 90, said.append)
    assert start == datetime(2026, 12, 5, tzinfo=CST)  # 05:43 local on the 4th → next midnight
    assert state.day == history_day(start) and said[-1].startswith("state of an earlier version")


def history_day(t: datetime) -> int:
    from shell.demo.history import local_day

    return local_day(t.timestamp())
