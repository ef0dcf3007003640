from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from oakling.cli import cli

APPS = Path(__file__).resolve().parents[1] / "apps"
SECRET = "9f8e7d6c5b4a3210ZYXWVUTSRQPONMLKJIHGFEDCBA_-abcdefghijklmnopqrstuvwxyz"
Invoke = Callable[..., Result]
Start = Callable[[list[str], Path, dict[str, str]], AbstractContextManager["Server"]]


@pytest.fixture
def apps() -> Path:
    """The folder of sample apps: hello, asyncapp, factory, syntax_error..."""
    return APPS


@pytest.fixture
def secret_key() -> str:
    """A secret key that passes every check."""
    return SECRET


@pytest.fixture(autouse=True)
def isolated(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """No OAKLING_* from the outside; sample app modules forgotten after each test."""
    for key in list(os.environ):
        if key.startswith("OAKLING_"):
            monkeypatch.delenv(key)
    modules = set(sys.modules)
    path = list(sys.path)
    yield
    roots = (str(APPS), str(tmp_path_factory.getbasetemp()))
    for name in set(sys.modules) - modules:
        file = getattr(sys.modules[name], "__file__", None) or ""
        if file.startswith(roots):
            del sys.modules[name]
    sys.path[:] = path


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run the ``oakling`` command in-process in a sample app's folder."""

    def run(
        *args: str,
        cwd: Path | str = APPS / "hello",
        env: dict[str, str] | None = None,
        input: str | None = None,
    ) -> Result:
        monkeypatch.chdir(cwd)
        return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)

    return run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def clean_env() -> dict[str, str]:
    """The environment for a subprocess, without OAKLING_* or GRANIAN_* variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("OAKLING_", "GRANIAN_"))}


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    output: str = field(default="")


def _wait_until_up(server: Server, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            out, _ = server.process.communicate()
            pytest.fail(f"the server exited with {server.process.returncode}:\n{out}")
        try:
            httpx.get(server.url + "/", timeout=0.5)
        except httpx.TransportError:
            time.sleep(0.05)
        else:
            return
    pytest.fail(f"the server did not answer on {server.url} in time")


@pytest.fixture
def start() -> Start:
    """``with start(args, cwd, env) as server``: a real ``oakling`` server process."""
    return _running


@contextmanager
def _running(args: list[str], cwd: Path, env: dict[str, str]) -> Iterator[Server]:
    """Start ``oakling ARGS --host 127.0.0.1 --port N`` and stop it (and its children) after."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "oakling.cli", *args, "--host", "127.0.0.1", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        _wait_until_up(server, time.monotonic() + 20)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            out, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, _ = process.communicate()
        server.output = out
