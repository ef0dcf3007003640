"""Start an app under its server pinned to one core; load it with wrk pinned to the other."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from targets import HERE
from tfb import POOL_SIZE

if TYPE_CHECKING:
    from collections.abc import Iterator

    from targets import Target

BIN = Path(sys.executable).parent
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "1048576", "MALLOC_TRIM_THRESHOLD_": "4194304"}
SERVER_CPU = "0"
LOAD_CPU = "1"
CONNECTIONS = 64
"""wrk's connections: enough to keep one server core and the pool busy."""
LOOP = os.environ.get("TFB_LOOP", "uvloop")
"""granian's event loop for ASGI apps (uvloop, as TechEmpower's Python entries use)."""


def server_env(extra_path: str | None = None) -> dict[str, str]:
    """The environment of every server: malloc thresholds, ``benchmarks/http`` importable."""
    env = dict(os.environ)
    env.update(MALLOC_ENV)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    paths = [p for p in (extra_path, str(HERE), env.get("PYTHONPATH")) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def command(target: Target, port: int) -> list[str]:
    """The server's command line (one worker, one runtime thread, pinned to SERVER_CPU)."""
    pin = ["taskset", "-c", SERVER_CPU]
    if target.server == "gunicorn":
        # NOTE: gthread keeps connections alive (the sync worker closes each one); its
        # threads, like granian's blocking threads, match the pool size: one connection each.
        return [
            *pin, str(BIN / "gunicorn"), "--workers", "1", "--worker-class", "gthread",
            "--threads", str(POOL_SIZE), "--bind", f"127.0.0.1:{port}", "--keep-alive", "75",
            "--log-level", "warning", "--chdir", str(HERE), target.app,
        ]  # fmt: skip
    interface = "asgi" if target.server == "granian-asgi" else "wsgi"
    argv = [
        *pin, str(BIN / "granian"), "--interface", interface, "--workers", "1",
        "--runtime-threads", "1", "--no-ws", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--working-dir", str(HERE),
    ]  # fmt: skip
    if interface == "asgi":
        argv += ["--loop", LOOP]
    else:
        argv += ["--blocking-threads", str(POOL_SIZE)]
    return [*argv, target.app]


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server process (its own process group) and its port."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def log_tail(self, lines: int = 15) -> str:
        """The end of the server's output."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        """CPU time the worker's threads have used so far (ns precision, schedstat)."""
        total = 0
        for task in Path(f"/proc/{self.worker_pid()}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # a thread that just ended
        return total / 1e9

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until the worker has finished the requests of clients that left.

        wrk closes its connections when its time is up, but the server still runs the
        handlers already started (a slow test can leave seconds of work): without this
        wait, that work would be charged to the next measurement. True if it went idle
        (a window of 0.2 s with under 2 ms of CPU).
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = self.cpu_seconds()
            time.sleep(0.2)
            if self.cpu_seconds() - before < 0.002:
                return True
        return False

    def worker_pid(self) -> int:
        """The pid serving requests (granian's worker or gunicorn's, a child of the master)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = children.read_text().split()
        except OSError:
            pids = []
        return int(pids[0]) if pids else self.process.pid


@contextlib.contextmanager
def running(target: Target, logdir: Path, extra_path: str | None = None) -> Iterator[Server]:
    """Start ``target`` and stop it (SIGTERM to its process group, then SIGKILL) on exit.

    Raises:
        RuntimeError: The server did not answer within 30 s.
    """
    port = free_port()
    log = logdir / f"{target.key.replace(':', '_')}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command(target, port),
            env=server_env(extra_path),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        _stop(process)


def _wait_ready(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise RuntimeError(f"the server exited ({code}):\n{server.log_tail()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            conn.request("GET", "/plaintext")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class Load:
    """What wrk measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    """Socket errors plus non-2xx/3xx responses."""
    output: str


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(port: int, path: str, seconds: int, connections: int = CONNECTIONS) -> Load:
    """Load ``path`` for ``seconds`` with wrk (one thread, pinned to LOAD_CPU).

    Raises:
        RuntimeError: wrk failed or printed no rate.
    """
    argv = [
        "taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s",
        "--latency", "--timeout", "8s", f"http://127.0.0.1:{port}{path}",
    ]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    out = proc.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if proc.returncode != 0 or rate is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {out[-500:]} {proc.stderr[-500:]}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    total = re.search(r"(\d+) requests in", out)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Load(
        rps=float(rate.group(1)),
        p50_ms=_ms(latency["50"]) if "50" in latency else float("nan"),
        p99_ms=_ms(latency["99"]) if "99" in latency else float("nan"),
        requests=int(total.group(1)) if total else 0,
        errors=errors,
        output=out,
    )
