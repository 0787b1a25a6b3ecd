"""Child services (the API, the dashboard, the scheduler) started by the demo and the
benchmarks, and their supervision: a child that dies is started again a bounded number of
times with back-off; past that the demo stops with a message that says what died and where
its log is, instead of looping on "unreachable" for ever."""

from __future__ import annotations

import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx


class DidNotStart(RuntimeError):
    """A child service exited or did not answer in time (it has been stopped)."""


class ChildFailed(RuntimeError):
    """A required child kept dying: restarting it was given up (the message says why)."""


def wait_until_answering(
    proc: subprocess.Popen, url: str, what: str, timeout_s: float = 30.0, poll_s: float = 0.1
) -> None:
    """Return once ``url`` answers 200; stop ``proc`` and raise :class:`DidNotStart` if it
    exits first or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DidNotStart(f"{what} exited with code {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(poll_s)
    proc.kill()
    proc.wait(10)
    raise DidNotStart(f"{what} did not answer {url} within {timeout_s:g} s")


def stop(proc: subprocess.Popen, timeout_s: float = 10.0, *, interrupt: bool = True) -> None:
    """Ask ``proc`` to stop (SIGINT, else SIGTERM); kill it after ``timeout_s``."""
    if proc.poll() is not None:
        return
    if interrupt:
        import signal

        proc.send_signal(signal.SIGINT)
    else:
        proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout_s)


@dataclass
class Child:
    """One supervised child: how to start it (the function waits until it answers and
    raises :class:`DidNotStart` otherwise), whether the demo can run without it."""

    name: str
    start: Callable[[], subprocess.Popen]
    required: bool = True
    log: Path | None = None
    proc: subprocess.Popen | None = None
    restarts: deque[float] = field(default_factory=deque)


class Supervisor:
    """Keeps children running: :meth:`check` (called from the demo's loop) starts a child
    that has exited again, at most ``max_restarts`` times within ``window_s``, waiting
    ``backoff_s[i]`` before attempt ``i``. A required child that cannot be kept up raises
    :class:`ChildFailed`; an optional one is dropped with a warning."""

    def __init__(
        self,
        say: Callable[[str], None],
        *,
        max_restarts: int = 3,
        window_s: float = 600.0,
        backoff_s: tuple[float, ...] = (1.0, 2.0, 4.0),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.say = say
        self.max_restarts = max_restarts
        self.window_s = window_s
        self.backoff_s = backoff_s
        self.clock = clock
        self.sleep = sleep
        self.children: dict[str, Child] = {}

    def add(self, child: Child) -> Child:
        """Start ``child`` now (a failure of a required child propagates)."""
        child.proc = child.start()
        self.children[child.name] = child
        return child

    def check(self) -> None:
        """Restart every child that has exited."""
        for child in list(self.children.values()):
            if child.proc is not None and child.proc.poll() is not None:
                self.restart(child.name, f"exited with code {child.proc.returncode}")

    def restart(self, name: str, why: str) -> None:
        """Stop ``name`` if it still runs and start it again (bounded, with back-off)."""
        child = self.children[name]
        if child.proc is not None:
            stop(child.proc, 5.0, interrupt=False)
        now = self.clock()
        while child.restarts and now - child.restarts[0] > self.window_s:
            child.restarts.popleft()
        last = why
        while len(child.restarts) < self.max_restarts:
            wait = self.backoff_s[min(len(child.restarts), len(self.backoff_s) - 1)]
            child.restarts.append(now)
            self.say(f"{name} {last}; restarting in {wait:g} s")
            self.sleep(wait)
            try:
                child.proc = child.start()
            except DidNotStart as exc:
                last = str(exc).removeprefix(name).strip() or "did not start"
                now = self.clock()
                continue
            self.say(f"{name} running again")
            return
        child.proc = None
        del self.children[name]
        where = f"; log: {child.log}" if child.log else ""
        message = (
            f"{name} {last}, {self.max_restarts} restarts in {self.window_s:g} s did not "
            f"keep it up{where}"
        )
        if child.required:
            raise ChildFailed(message)
        self.say(message + "; going on without it")

    def stop_all(self) -> None:
        for child in reversed(list(self.children.values())):
            if child.proc is not None:
                stop(child.proc, interrupt=child.name != "dashboard")
        self.children.clear()
