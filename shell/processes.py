"""Child services (the API, the dashboard) started by the demo and the benchmarks."""

from __future__ import annotations

import subprocess
import time

import httpx


class DidNotStart(RuntimeError):
    """A child service exited or did not answer in time (it has been stopped)."""


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
