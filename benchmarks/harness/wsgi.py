"""Drive a WSGI app in-process: a fresh environ and start_response per request."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.cases import Case

StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class WSGIResult:
    """One request's recorded response."""

    __slots__ = ("body", "headers", "status")

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[[bytes], object]:
        """PEP 3333 start_response: parse the status line, keep the headers."""
        self.status = int(status[:3])
        self.headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        return self._write

    def _write(self, data: bytes) -> None:
        self.body += data


class EnvironFactory:
    """Build a fresh environ per request, as a WSGI server does after parsing a request."""

    __slots__ = ("base", "body")

    def __init__(self, case: Case) -> None:
        self.body = case.body
        self.base: dict[str, Any] = {
            "REQUEST_METHOD": case.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": case.path,
            "QUERY_STRING": case.query.decode("latin-1"),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": "51000",
            "HTTP_HOST": "localhost:8000",
            "HTTP_USER_AGENT": "oakling-bench/1",
            "HTTP_ACCEPT": "*/*",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if case.body:
            self.base["CONTENT_TYPE"] = "application/json"
            self.base["CONTENT_LENGTH"] = str(len(case.body))

    def environ(self) -> dict[str, Any]:
        """Return a new environ dict with a fresh input stream."""
        environ = self.base.copy()
        environ["wsgi.input"] = io.BytesIO(self.body)
        return environ


def request(app: WSGIApp, factory: EnvironFactory) -> WSGIResult:
    """Call the app once, consume its iterable, close it, and return the response."""
    result = WSGIResult()
    iterable = app(factory.environ(), result.start_response)
    try:
        result.body += b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    return result


def run_many(app: WSGIApp, factory: EnvironFactory, n: int) -> WSGIResult:
    """Send n requests back to back; return the last response (for a sanity check)."""
    result = WSGIResult()
    for _ in range(n):
        result = request(app, factory)
    return result
