"""Drive an app in-process, without a server: ``TestClient`` (sync) and ``AsyncTestClient``.

``TestClient(app)`` speaks ASGI by default (the app runs on an event loop in a
background thread); ``TestClient(app, wsgi=True)`` calls ``app.wsgi`` directly.
Both have httpx's API (``get``, ``post(json=..., data=..., files=...)``, cookies
kept between requests) and do not follow redirects unless asked to.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import unquote, unquote_to_bytes

try:
    import httpx
except ImportError as exc:  # pragma: no cover - depends on the environment
    from oakling.exceptions import MissingDependency

    raise MissingDependency("httpx", extra="testing") from exc


if TYPE_CHECKING:
    from collections.abc import Coroutine, Iterable
    from concurrent.futures import Future
    from types import TracebackType

    from oakling._types import ASGIApp, Message, Scope, StartResponse, WSGIEnviron

__all__ = (
    "AsyncTestClient",
    "TestClient",
    "WebSocketClosed",
    "WebSocketRejected",
    "WebSocketTestSession",
)

T = TypeVar("T")


class _LoopThread:
    """An event loop running in a daemon thread, for calling an ASGI app from sync code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


def _scope_for(request: httpx.Request, kind: str = "http") -> Scope:
    url = request.url
    raw_path = url.raw_path.split(b"?", 1)[0]
    scheme = url.scheme if kind == "http" else {"http": "ws", "https": "wss"}.get(url.scheme)
    port = url.port or {"http": 80, "https": 443, "ws": 80, "wss": 443}[url.scheme]
    headers = [(k.lower(), v) for k, v in request.headers.raw]
    scope: Scope = {
        "type": kind,
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "scheme": scheme,
        "path": unquote(raw_path.decode("ascii"), errors="surrogateescape"),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": url.query,
        "headers": headers,
        "client": ("testclient", 50000),
        "server": (url.host, port),
        "state": {},
        "extensions": {},
    }
    if kind == "http":
        scope["method"] = request.method
    else:
        scope["subprotocols"] = []
    return scope


async def _call_asgi(app: ASGIApp, request: httpx.Request, body: bytes) -> httpx.Response:
    scope = _scope_for(request)
    sent_body = False
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []
    done = asyncio.Event()

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope, receive, send)
    finally:
        done.set()
    return httpx.Response(
        status, headers=headers, stream=httpx.ByteStream(b"".join(chunks)), request=request
    )


class _ASGITransport(httpx.BaseTransport):
    def __init__(self, app: ASGIApp, portal: _LoopThread) -> None:
        self.app = app
        self.portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        return self.portal.run(_call_asgi(self.app, request, body))


class _AsyncASGITransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        return await _call_asgi(self.app, request, body)


class _WSGITransport(httpx.WSGITransport):
    """httpx's WSGI transport, made faithful to what WSGI servers pass.

    ``PATH_INFO`` is the latin-1 text of the raw path bytes (not httpx's decoded
    text), ``RAW_URI`` is set, repeated headers are joined, and the app is told it
    runs under a test client.
    """

    def __init__(self, app: Any) -> None:
        self._request: httpx.Request | None = None
        super().__init__(app=self._call)
        self._wsgi_app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._request = request
        try:
            return super().handle_request(request)
        finally:
            self._request = None

    def _call(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        request = self._request
        if request is not None:
            raw_path = request.url.raw_path
            path = raw_path.split(b"?", 1)[0]
            environ["RAW_URI"] = raw_path.decode("ascii")
            environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")
            seen: dict[str, list[str]] = {}
            for name, value in request.headers.multi_items():
                seen.setdefault(name.upper().replace("-", "_"), []).append(value)
            for name, values in seen.items():
                if len(values) > 1 and name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                    glue = "; " if name == "COOKIE" else ", "
                    environ[f"HTTP_{name}"] = glue.join(values)
        environ["oakling.testing"] = True
        result: Iterable[bytes] = self._wsgi_app(environ, start_response)
        return result


async def _lifespan(app: ASGIApp, stop: asyncio.Event, started: asyncio.Future[None]) -> None:
    messages = iter([{"type": "lifespan.startup"}])

    async def receive() -> Message:
        message = next(messages, None)
        if message is not None:
            return message
        await stop.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            started.set_result(None)
        elif kind == "lifespan.startup.failed":
            started.set_exception(RuntimeError(f"App start-up failed: {message.get('message')}"))
        elif kind == "lifespan.shutdown.failed":
            raise RuntimeError(f"App shutdown failed: {message.get('message')}")

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}, "oakling.testing": True}
    await app(scope, receive, send)
    if not started.done():
        started.set_result(None)


class TestClient(httpx.Client):
    """A sync client that drives an app in-process over ASGI, or over WSGI with ``wsgi=True``.

    Use it as a context manager to run the app's start-up and shutdown (lifespan).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: Any,
        *,
        wsgi: bool = False,
        base_url: str = "http://testserver",
        follow_redirects: bool = False,
        **kwargs: Any,
    ) -> None:
        self.app = app
        self.wsgi = wsgi
        self._portal: _LoopThread | None = None
        self._stop: asyncio.Event | None = None
        self._lifespan_task: Future[None] | None = None
        transport: httpx.BaseTransport
        if wsgi:
            transport = _WSGITransport(app.wsgi)
        else:
            self._portal = _LoopThread()
            transport = _ASGITransport(app, self._portal)
        super().__init__(
            transport=transport, base_url=base_url, follow_redirects=follow_redirects, **kwargs
        )

    def __enter__(self) -> Self:
        super().__enter__()
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        if self.wsgi:
            self.app.wsgi.startup(testing=True)
        if self._portal is not None:
            portal = self._portal

            async def start() -> None:
                self._stop = asyncio.Event()
                started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._lifespan_task = portal.submit(_lifespan(self.app, self._stop, started))
                await started

            portal.run(start())

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        try:
            if self._portal is not None and self._stop is not None:
                self._portal.loop.call_soon_threadsafe(self._stop.set)
                if self._lifespan_task is not None:
                    self._lifespan_task.result(timeout=10)
            if self.wsgi:
                self.app.wsgi.shutdown()
        finally:
            super().__exit__(exc_type, exc, tb)
            self.close()

    def close(self) -> None:
        """Close the client and its background event loop."""
        super().close()
        if self._portal is not None:
            self._portal.close()
            self._portal = None

    def websocket_connect(
        self,
        path: str,
        headers: dict[str, str] | None = None,
        subprotocols: list[str] | None = None,
    ) -> WebSocketTestSession:
        """Open a websocket to ``path`` (ASGI only); use it as a context manager."""
        if self._portal is None:
            raise RuntimeError("Websockets need ASGI: create the TestClient without wsgi=True")
        request = self.build_request("GET", path, headers=headers)
        scope = _scope_for(request, "websocket")
        scope["subprotocols"] = subprotocols or []
        return WebSocketTestSession(self.app, scope, self._portal)


class AsyncTestClient(httpx.AsyncClient):
    """An async client that drives an ASGI app in-process; ``async with`` runs its lifespan."""

    __test__ = False

    def __init__(self, app: Any, *, base_url: str = "http://testserver", **kwargs: Any) -> None:
        self.app = app
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        super().__init__(transport=_AsyncASGITransport(app), base_url=base_url, **kwargs)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self._stop = asyncio.Event()
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(_lifespan(self.app, self._stop, started))
        await started
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        if self._stop is not None and self._task is not None:
            self._stop.set()
            await self._task
        await super().__aexit__(exc_type, exc, tb)


class WebSocketTestSession:
    """A websocket connection to an in-process app."""

    def __init__(self, app: ASGIApp, scope: Scope, portal: _LoopThread) -> None:
        self.app = app
        self.scope = scope
        self.portal = portal
        self._to_app: asyncio.Queue[Message] | None = None
        self._from_app: queue.Queue[Message] = queue.Queue()
        self._task: Future[None] | None = None
        self.accepted_subprotocol: str | None = None
        self.close_code: int | None = None

    def __enter__(self) -> Self:
        async def setup() -> None:
            self._to_app = asyncio.Queue()

        self.portal.run(setup())
        self._task = self.portal.submit(self._run())
        self._put({"type": "websocket.connect"})
        message = self._get()
        if message["type"] == "websocket.close":
            self.close_code = message.get("code", 1000)
            raise WebSocketRejected(self.close_code or 1000, message.get("reason", ""))
        self.accepted_subprotocol = message.get("subprotocol")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.close_code is None:
            self._put({"type": "websocket.disconnect", "code": 1000})
        if self._task is not None:
            self._task.result(timeout=10)

    async def _run(self) -> None:
        assert self._to_app is not None
        to_app = self._to_app

        async def receive() -> Message:
            return await to_app.get()

        async def send(message: Message) -> None:
            self._from_app.put(message)

        try:
            await self.app(self.scope, receive, send)
        except BaseException as exc:
            self._from_app.put({"type": "websocket.close", "code": 1011, "reason": repr(exc)})
            raise

    def _put(self, message: Message) -> None:
        assert self._to_app is not None
        self.portal.loop.call_soon_threadsafe(self._to_app.put_nowait, message)

    def _get(self, timeout: float = 10) -> Message:
        return self._from_app.get(timeout=timeout)

    def send_text(self, data: str) -> None:
        """Send a text message."""
        self._put({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        self._put({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any) -> None:
        """Send a JSON text message."""
        import json

        self.send_text(json.dumps(data))

    def receive(self) -> Message:
        """Wait for the next message from the app (raises on close)."""
        message = self._get()
        if message["type"] == "websocket.close":
            self.close_code = message.get("code", 1000)
            raise WebSocketClosed(self.close_code or 1000, message.get("reason", ""))
        return message

    def receive_text(self) -> str:
        """Wait for a text message."""
        return str(self.receive()["text"])

    def receive_bytes(self) -> bytes:
        """Wait for a binary message."""
        return bytes(self.receive()["bytes"])

    def receive_json(self) -> Any:
        """Wait for a JSON message."""
        import json

        message = self.receive()
        return json.loads(message.get("text") or message.get("bytes") or "")

    def close(self, code: int = 1000) -> None:
        """Close the connection from the client side."""
        self._put({"type": "websocket.disconnect", "code": code})
        self.close_code = code


class WebSocketClosed(Exception):
    """The app closed the websocket; ``code`` is its close code."""

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"Websocket closed by the app with code {code} {reason}".strip())


class WebSocketRejected(WebSocketClosed):
    """The app refused the websocket handshake."""
