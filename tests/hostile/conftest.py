"""Servers and raw-socket helpers for the hostile-input catalogue.

One granian (ASGI) and one gunicorn (WSGI) server serve ``hostileapp.py`` for the
whole session (per xdist worker), started on first use; when the session ends
each must stop cleanly and must not have logged an exception that no test
provoked on purpose.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from tests.integration.conftest import Kind, Server, Servers

HERE = Path(__file__).resolve().parent

KINDS = {
    "granian": Kind(
        "granian-asgi",
        "asgi",
        "granian",
        "granian",
        (
            *("-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"),
            *("--port", "{port}", "--workers", "1", "--no-access-log"),
            "hostileapp:app",
        ),
    ),
    "gunicorn": Kind(
        "gunicorn",
        "wsgi",
        "gunicorn",
        "gunicorn",
        (
            *("-m", "gunicorn", "--bind", "127.0.0.1:{port}", "--workers", "1"),
            *("--worker-class", "gthread", "--threads", "4", "--graceful-timeout", "5"),
            *("--timeout", "30", "--no-control-socket"),
            "hostileapp:wsgi_app",
        ),
    ),
}
# The exceptions the tests provoke on purpose (the broken streams).
EXPECTED_ERRORS = ("RuntimeError: broken stream on purpose",)


@pytest.fixture(scope="session")
def hostile_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    env = {"PYTHONPATH": str(HERE), "MALLOC_ARENA_MAX": "2"}
    pool = Servers(tmp_path_factory.mktemp("hostile-logs"), KINDS, env, EXPECTED_ERRORS)
    try:
        yield pool
    finally:
        problems = pool.stop_all()
    if problems:
        pytest.fail("a hostile-test server failed:\n" + "\n".join(problems))


@pytest.fixture(scope="session", params=list(KINDS))
def server(request: pytest.FixtureRequest, hostile_pool: Servers) -> Server:
    """granian (ASGI) and gunicorn (WSGI): each test runs once on each."""
    return hostile_pool.get(request.param)


@pytest.fixture(scope="session")
def granian(hostile_pool: Servers) -> Server:
    return hostile_pool.get("granian")


@pytest.fixture(scope="session")
def gunicorn(hostile_pool: Servers) -> Server:
    return hostile_pool.get("gunicorn")


# --- raw HTTP ----------------------------------------------------------------------------


@dataclass
class Reply:
    """One HTTP response parsed from the bytes a server sent back."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    complete: bool = True
    extra: list[Reply] = field(default_factory=list)  # further responses on the connection

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def parse_replies(data: bytes) -> list[Reply]:
    """Parse every full (or the last, truncated) HTTP/1.1 response in ``data``."""
    replies: list[Reply] = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        version, _, status_reason = lines[0].partition(" ")
        if not version.startswith("HTTP/"):
            break
        status, _, reason = status_reason.partition(" ")
        headers = [
            (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])
        ]
        reply = Reply(int(status), reason, headers)
        length = reply.header("content-length")
        if (reply.header("transfer-encoding") or "").lower() == "chunked":
            body, rest, complete = _dechunk(rest)
            reply.body, reply.complete = body, complete
        elif length is not None:
            reply.body = rest[: int(length)]
            reply.complete = len(reply.body) == int(length)
            rest = rest[int(length) :]
        elif reply.status in (204, 304) or 100 <= reply.status < 200:
            pass
        else:
            reply.body, rest = rest, b""
        replies.append(reply)
        data = rest
    return replies


def _dechunk(data: bytes) -> tuple[bytes, bytes, bool]:
    body = b""
    while True:
        line, sep, data = data.partition(b"\r\n")
        if not sep:
            return body, b"", False
        size = int(line.split(b";")[0] or b"0", 16)
        if size == 0:
            _, _, data = data.partition(b"\r\n")
            return body, data, True
        if len(data) < size + 2:
            return body + data[:size], b"", False
        body += data[:size]
        data = data[size + 2 :]


def send_raw(
    server: Server, data: bytes | list[bytes], *, timeout: float = 5.0, half_close: bool = False
) -> bytes:
    """Send ``data`` (pieces sent one by one) and read until the server closes.

    With ``half_close`` the client then shuts its side down (an end of input
    mid-request); otherwise the server is expected to close after answering.
    """
    pieces = [data] if isinstance(data, bytes) else data
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        try:
            for piece in pieces:
                sock.sendall(piece)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed early: read what it said
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except OSError:
                break
            if not chunk:
                break
            received += chunk
    return received


def raw(
    server: Server, data: bytes | list[bytes], *, timeout: float = 5.0, half_close: bool = False
) -> Reply | None:
    """Send raw bytes; return the first response (the others in ``.extra``), or None."""
    replies = parse_replies(send_raw(server, data, timeout=timeout, half_close=half_close))
    if not replies:
        return None
    first = replies[0]
    first.extra = replies[1:]
    return first


def request_bytes(
    method: str = "GET",
    target: str | bytes = "/plain",
    headers: list[tuple[str, str]] | list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
    *,
    host: bytes = b"127.0.0.1",
    length: bool = True,
    version: bytes = b"HTTP/1.1",
) -> bytes:
    """Build one request as bytes, exactly as given (Host and Content-Length added)."""
    target_bytes = target.encode("latin-1") if isinstance(target, str) else target
    lines = [method.encode("latin-1") + b" " + target_bytes + b" " + version]
    if host:
        lines.append(b"Host: " + host)
    for key, value in headers or []:
        k = key.encode("latin-1") if isinstance(key, str) else key
        v = value.encode("latin-1") if isinstance(value, str) else value
        lines.append(k + b": " + v)
    if length and body:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def stored(server: Server) -> int:
    """How many writes the app has stored so far."""
    response = httpx.get(f"{server.url}/_stored", timeout=5)
    assert response.status_code == 200
    return int(response.json()["count"])


def still_serves(server: Server) -> None:
    """The server answers a normal request on a fresh connection."""
    response = httpx.get(f"{server.url}/plain", timeout=5)
    assert response.status_code == 200
    assert response.text == "hello, world"


def is_granian(server: Server) -> bool:
    return server.kind.name.startswith("granian")


def os_pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
