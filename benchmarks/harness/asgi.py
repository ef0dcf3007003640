"""Drive an ASGI 3 app in-process: lifespan once, then one scope/receive/send per request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.cases import Case

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

BASE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"host", b"localhost:8000"),
    (b"user-agent", b"oakling-bench/1"),
    (b"accept", b"*/*"),
)
ASGI_VERSION = {"version": "3.0", "spec_version": "2.3"}


class Exchange:
    """One request's receive/send pair; records the response like a server would."""

    __slots__ = ("_body", "_disconnect", "_read", "chunks", "done", "headers", "status")

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._read = False
        self._disconnect: asyncio.Future[None] | None = None
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.done = False

    async def receive(self) -> Message:
        """First call: the whole body. Later calls: block until the response is sent."""
        if not self._read:
            self._read = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        if not self.done:
            self._disconnect = asyncio.get_running_loop().create_future()
            await self._disconnect
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        """Record response start and body messages."""
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", ()))
        elif kind == "http.response.body":
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                self._finish()

    def _finish(self) -> None:
        self.done = True
        if self._disconnect is not None and not self._disconnect.done():
            self._disconnect.set_result(None)

    @property
    def body(self) -> bytes:
        """The full response body."""
        return b"".join(self.chunks)


class RequestFactory:
    """Build a fresh http scope per request, as a server does after parsing a request."""

    __slots__ = ("body", "headers", "method", "path", "query", "raw_path", "state")

    def __init__(self, case: Case, state: dict[str, Any]) -> None:
        self.method = case.method
        self.path = case.path
        self.raw_path = case.path.encode()
        self.query = case.query
        self.body = case.body
        self.state = state
        headers = list(BASE_HEADERS)
        if case.body:
            headers.append((b"content-type", b"application/json"))
            headers.append((b"content-length", str(len(case.body)).encode()))
        self.headers = tuple(headers)

    def scope(self) -> dict[str, Any]:
        """Return a new ASGI http scope."""
        return {
            "type": "http",
            "asgi": ASGI_VERSION,
            "http_version": "1.1",
            "method": self.method,
            "scheme": "http",
            "path": self.path,
            "raw_path": self.raw_path,
            "query_string": self.query,
            "root_path": "",
            "headers": list(self.headers),
            "client": ("127.0.0.1", 51000),
            "server": ("127.0.0.1", 8000),
            "state": self.state.copy(),
        }


async def request(app: ASGIApp, factory: RequestFactory) -> Exchange:
    """Send one request through the app and return the recorded exchange."""
    exchange = Exchange(factory.body)
    await app(factory.scope(), exchange.receive, exchange.send)
    return exchange


async def run_many(app: ASGIApp, factory: RequestFactory, n: int) -> Exchange:
    """Send n requests back to back; return the last exchange (for a sanity check)."""
    exchange = Exchange(factory.body)
    for _ in range(n):
        exchange = Exchange(factory.body)
        await app(factory.scope(), exchange.receive, exchange.send)
    return exchange


class Lifespan:
    """Run the ASGI lifespan protocol; tolerate apps that do not support it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.supported = False
        self._events: asyncio.Queue[Message] = asyncio.Queue()
        self._replies: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        """Send lifespan.startup and wait for the app's answer (or its refusal)."""
        scope = {"type": "lifespan", "asgi": ASGI_VERSION, "state": self.state}
        self._task = asyncio.create_task(self._run(scope))
        await self._events.put({"type": "lifespan.startup"})
        reply = await self._replies.get()
        if reply["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"lifespan startup failed: {reply.get('message', '')}")
        self.supported = reply["type"] == "lifespan.startup.complete"

    async def shutdown(self) -> None:
        """Send lifespan.shutdown if startup succeeded."""
        if not self.supported or self._task is None:
            return
        await self._events.put({"type": "lifespan.shutdown"})
        await self._replies.get()
        await self._task

    async def _run(self, scope: dict[str, Any]) -> None:
        try:
            await self.app(scope, self._events.get, self._send)
        except Exception as exc:  # an app without lifespan support raises or returns
            await self._replies.put({"type": "lifespan.unsupported", "message": repr(exc)})
        else:
            await self._replies.put({"type": "lifespan.unsupported", "message": "returned"})

    async def _send(self, message: Message) -> None:
        await self._replies.put(message)
