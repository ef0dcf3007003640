"""Real servers (granian, uvicorn, gunicorn) serving ``serverapp.py`` on 127.0.0.1.

Each kind of server is started at most once per test module, on first use, and
stopped when the module's tests are done. Its output goes to a log file, shown
when it fails to start or to stop cleanly.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Kind:
    """How to start one kind of server; ``{port}`` is filled in."""

    name: str
    interface: str  # "asgi" or "wsgi"
    server_header: str
    module: str  # the package that must be installed
    argv: tuple[str, ...]


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "granian-asgi",
            "asgi",
            "granian",
            "granian",
            (
                *("-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"),
                *("--port", "{port}", "--workers", "1", "--no-access-log"),
                "serverapp:app",
            ),
        ),
        Kind(
            "uvicorn",
            "asgi",
            "uvicorn",
            "uvicorn",
            (
                *("-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}"),
                *("--lifespan", "on", "--no-access-log", "--log-level", "warning"),
                "serverapp:app",
            ),
        ),
        Kind(
            "gunicorn",
            "wsgi",
            "gunicorn",
            "gunicorn",
            (
                *("-m", "gunicorn", "--bind", "127.0.0.1:{port}", "--workers", "1"),
                *("--worker-class", "gthread", "--threads", "4", "--graceful-timeout", "5"),
                "serverapp:wsgi_app",
            ),
        ),
        Kind(
            "granian-wsgi",
            "wsgi",
            "granian",
            "granian",
            (
                *("-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1"),
                *("--port", "{port}", "--workers", "1", "--no-access-log"),
                "serverapp:app.wsgi",  # granian, unlike gunicorn, loads a dotted attribute
            ),
        ),
    )
}
ASGI_KINDS = [name for name, kind in KINDS.items() if kind.interface == "asgi"]
WSGI_KINDS = [name for name, kind in KINDS.items() if kind.interface == "wsgi"]


@dataclass
class Server:
    """A running server process and an HTTP client kept open to it."""

    kind: Kind
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def require(module: str) -> None:
    """Skip when ``module`` is not installed; when ``CI`` is set, fail instead."""
    if importlib.util.find_spec(module) is not None:
        return
    message = f"{module} is not installed (pip install -e '.[dev]')"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run every server test")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OAKLING_", "GRANIAN_", "UVICORN_", "GUNICORN_", "WEB_CONCURRENCY"))
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(HERE), env.get("PYTHONPATH"))))
    env["PYTHONUNBUFFERED"] = "1"
    return {**env, **extra}


def _argv(kind: Kind, port: int) -> list[str]:
    argv = [sys.executable, *(arg.format(port=port) for arg in kind.argv)]
    if kind.name == "gunicorn" and int(importlib.metadata.version("gunicorn").split(".")[0]) >= 27:
        # NOTE: gunicorn 27 opens a control socket in ~/.gunicorn by default, which
        # concurrent test servers would fight over.
        argv.insert(-1, "--no-control-socket")
    return argv


def start(kind: Kind, log: Path, env: dict[str, str] | None = None) -> Server:
    """Start ``kind`` on a free port, ``env`` added to its environment.

    Return once it answers HTTP requests; fail with its output if it exits or
    does not answer in time.
    """
    require(kind.module)
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            _argv(kind, port),
            cwd=HERE,
            env=_environment(env or {}),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: workers are stopped with it
        )
    server = Server(kind, process, port, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            server.client.close()
            pytest.fail(
                f"{kind.name} exited with {process.returncode} before answering:\n{server.output()}"
            )
        try:
            httpx.get(f"{server.url}/plain", timeout=1)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                stop(server)
                pytest.fail(
                    f"{kind.name} did not answer on {server.url} within {START_TIMEOUT} s:\n"
                    f"{server.output()}"
                )
            time.sleep(0.05)
        else:
            return server


def stop(server: Server) -> int:
    """Stop the server with SIGTERM (SIGKILL if it hangs); return its exit status."""
    server.client.close()
    process = server.process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return -signal.SIGKILL
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        pass
    else:  # a worker outlived its master
        os.killpg(process.pid, signal.SIGKILL)
        return -signal.SIGKILL
    return process.returncode


EXPECTED_ERRORS = ("RuntimeError: secret internal detail",)  # from serverapp's /boom routes


def unexpected_errors(output: str, expected: tuple[str, ...] = EXPECTED_ERRORS) -> list[str]:
    """The exceptions in a server's output other than the ones the tests provoke."""
    errors = []
    lines = iter(output.splitlines())
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            for last in lines:  # the exception line is the first one not indented
                if last and not last[0].isspace():
                    if not last.startswith(expected):
                        errors.append(last)
                    break
    return errors


class Servers:
    """A set of servers, each started on first use.

    Args:
        logs: The folder of their output files.
        kinds: The servers by name (default: every kind above).
        env: Added to each server's environment.
        expected: Exception lines the tests provoke on purpose.
    """

    def __init__(
        self,
        logs: Path,
        kinds: dict[str, Kind] | None = None,
        env: dict[str, str] | None = None,
        expected: tuple[str, ...] = EXPECTED_ERRORS,
    ) -> None:
        self.logs = logs
        self.kinds = KINDS if kinds is None else kinds
        self.env = env
        self.expected = expected
        self.running: dict[str, Server] = {}

    def get(self, name: str) -> Server:
        if name not in self.running:
            self.running[name] = start(self.kinds[name], self.logs / f"{name}.log", self.env)
        return self.running[name]

    def stop_all(self) -> list[str]:
        problems = []
        for name, server in self.running.items():
            status = stop(server)
            # NOTE: uvicorn re-raises the SIGTERM it handled once it has shut down.
            if status not in (0, -signal.SIGTERM):
                problems.append(f"{name} exited with {status}:\n{server.output()}")
            elif errors := unexpected_errors(server.output(), self.expected):
                problems.append(f"{name} logged {errors}:\n{server.output()[-5000:]}")
        self.running.clear()
        return problems


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    pool = Servers(tmp_path_factory.mktemp("server-logs"))
    try:
        yield pool
    finally:
        problems = pool.stop_all()
    if problems:
        pytest.fail("a server failed:\n" + "\n".join(problems))


@pytest.fixture(scope="module", params=list(KINDS))
def server(request: pytest.FixtureRequest, servers: Servers) -> Server:
    """Every kind of server, each test once per kind."""
    return servers.get(request.param)


@pytest.fixture(scope="module", params=ASGI_KINDS)
def asgi_server(request: pytest.FixtureRequest, servers: Servers) -> Server:
    return servers.get(request.param)


@pytest.fixture(scope="module", params=WSGI_KINDS)
def wsgi_server(request: pytest.FixtureRequest, servers: Servers) -> Server:
    return servers.get(request.param)
