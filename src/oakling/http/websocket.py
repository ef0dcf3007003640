"""Websockets (ASGI only): accept, send and receive text, bytes or JSON, close."""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING, Any

import msgspec

from oakling.exceptions import OaklingError
from oakling.http.request import Request
from oakling.http.response import json_encode

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from oakling._types import Message, Receive, Scope, Send
    from oakling.app import App

__all__ = ("WebSocket", "WebSocketDisconnect", "WebSocketState", "serve_websocket")

logger = logging.getLogger("oakling.error")


class WebSocketState(enum.Enum):
    """Where a websocket connection is in its life."""

    CONNECTING = 0
    CONNECTED = 1
    CLOSED = 2


class WebSocketDisconnect(OaklingError):
    """The client closed the connection; ``code`` is its close code."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"Websocket closed with code {code}")


class WebSocket(Request):
    """A websocket connection; also a ``Request`` (headers, cookies, query, path params)."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, **kw: Any) -> None:
        super().__init__(scope, receive, **kw)
        self._send = send
        self.state_ = WebSocketState.CONNECTING

    async def accept(
        self, subprotocol: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """Complete the handshake (waits for the client's connect message first)."""
        assert self._receive is not None
        if self.state_ is not WebSocketState.CONNECTING:
            raise RuntimeError("accept() called twice")
        message = await self._receive()
        if message["type"] != "websocket.connect":
            raise WebSocketDisconnect(message.get("code", 1006))
        raw = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
        ]
        await self._send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": raw})
        self.state_ = WebSocketState.CONNECTED

    async def _receive_message(self) -> Message:
        if self.state_ is not WebSocketState.CONNECTED:
            raise RuntimeError("The websocket is not connected: call accept() first")
        assert self._receive is not None
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.state_ = WebSocketState.CLOSED
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason") or "")
        limit = self.limits.max_body_size
        text = message.get("text")
        if text is not None:
            # NOTE: the limit is in bytes; a character is at most 4 bytes in UTF-8, so
            # only a text that might be over it is encoded to be measured.
            size = len(text) if len(text) * 4 <= limit else len(text.encode("utf-8"))
        else:
            size = len(message.get("bytes") or b"")
        if size > limit:
            await self.close(1009, "Message too big")
            raise WebSocketDisconnect(1009, "Message too big")
        return message

    async def receive_text(self) -> str:
        """Wait for a text message."""
        message = await self._receive_message()
        text = message.get("text")
        if text is None:
            await self.close(1003, "Expected a text message")
            raise WebSocketDisconnect(1003, "Expected a text message")
        return str(text)

    async def receive_bytes(self) -> bytes:
        """Wait for a binary message."""
        message = await self._receive_message()
        data = message.get("bytes")
        if data is None:
            await self.close(1003, "Expected a binary message")
            raise WebSocketDisconnect(1003, "Expected a binary message")
        return bytes(data)

    async def receive_json(self, type: Any = Any) -> Any:
        """Wait for a JSON message (text or bytes); invalid JSON closes with 1007."""
        message = await self._receive_message()
        data = message.get("text") or message.get("bytes") or b""
        try:
            return msgspec.json.decode(data, type=type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            await self.close(1007, "Invalid JSON")
            raise WebSocketDisconnect(1007, f"Invalid JSON: {exc}") from None

    async def iter_text(self) -> AsyncIterator[str]:
        """Yield text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_json(self) -> AsyncIterator[Any]:
        """Yield JSON messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            return

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        await self._send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self._send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any) -> None:
        """Send a value as a JSON text message."""
        await self._send({"type": "websocket.send", "text": json_encode(data).decode()})

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (before accept: reject the handshake with 403)."""
        if self.state_ is WebSocketState.CLOSED:
            return
        self.state_ = WebSocketState.CLOSED
        await self._send({"type": "websocket.close", "code": code, "reason": reason})


async def serve_websocket(app: App, scope: Scope, receive: Receive, send: Send) -> None:
    """Route a websocket connection to its handler."""
    from oakling._internal.injection import RequestContext, solve_async

    scope["app"] = app
    websocket = WebSocket(scope, receive, send, limits=app.limits)
    path = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    match = app.ws_router.lookup("GET", path)
    host_ok = app.hosts.allow_all or app.hosts.allows(websocket.host)
    if match is None or match.endpoint is None or not host_ok:
        await websocket.close(1008 if not host_ok else 4404, "No such websocket route")
        return
    scope["path_params"] = match.params or {}
    endpoint = match.endpoint
    context = RequestContext()
    try:
        kwargs = await solve_async(endpoint.dependant, websocket, context, app.run_sync)
        await endpoint.handler(**kwargs)
    except WebSocketDisconnect:
        pass
    except Exception as exc:
        if not isinstance(exc, OaklingError) or getattr(exc, "status_code", 500) >= 500:
            logger.error("Unhandled %s in websocket %s", type(exc).__name__, path, exc_info=exc)
        await websocket.close(1011 if websocket.state_ is WebSocketState.CONNECTED else 1008)
    finally:
        if context.has_cleanup:
            await context.close_async(app.run_sync)
    if websocket.state_ is WebSocketState.CONNECTED:
        await websocket.close(1000)
