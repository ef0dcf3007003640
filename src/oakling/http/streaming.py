"""Streamed responses: a body sent chunk by chunk, and Server-Sent Events.

``StreamingResponse`` sends what an iterable yields, as it yields it, with no
Content-Length (chunked). ``EventSourceResponse`` does the same with
Server-Sent Events (``text/event-stream``), built from ``ServerSentEvent``
objects, strings or JSON-encodable values.

Under ASGI a sync iterator is advanced in the app's thread pool, so a blocking
generator does not block the event loop; an async iterable is iterated on the
loop. While streaming, the response listens for ``http.disconnect``: when the
client goes away, iteration stops and the generator is closed, so its
``finally`` blocks run. Under WSGI a sync iterable is handed to the server as
is and an async one is driven on the worker thread's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from oakling.http.response import Response, json_encode, status_line, wsgi_headers

if TYPE_CHECKING:
    from collections.abc import Mapping

    from oakling._types import Message, Receive, Scope, Send, StartResponse, WSGIEnviron

__all__ = (
    "ContentStream",
    "EventSourceResponse",
    "RunSync",
    "ServerSentEvent",
    "StreamingResponse",
    "encode_event",
    "sync_runner",
)

ContentStream: TypeAlias = Iterable[bytes | str] | AsyncIterable[bytes | str]
"""What ``StreamingResponse`` accepts: a sync or async iterable of ``bytes`` or ``str``."""

RunSync: TypeAlias = Callable[..., Awaitable[Any]]
"""``await run_sync(fn, *args)``: call a blocking function in a worker thread."""

logger = logging.getLogger("oakling.error")

_DONE: Final = object()


def sync_runner(scope: Scope) -> RunSync:
    """Return how to run blocking calls for this ASGI ``scope``.

    The app's thread pool (``scope["app"].run_sync``) when the scope has an app
    that offers one, else ``asyncio.to_thread``.
    """
    run_sync: RunSync | None = getattr(scope.get("app"), "run_sync", None)
    return run_sync if run_sync is not None else asyncio.to_thread


def _final_body() -> Message:
    return {"type": "http.response.body", "body": b"", "more_body": False}


def _without_body(status_code: int, method: str | None) -> bool:
    return method == "HEAD" or status_code in (204, 304) or status_code < 200


class StreamingResponse(Response):
    """A response whose body is sent as an iterable yields it.

    Args:
        content: A sync or async iterable (a generator, say) of ``bytes`` or ``str``;
            ``str`` chunks are encoded as UTF-8.
        status_code: The HTTP status.
        headers: Extra headers.
        media_type: The Content-Type without charset; ``text/*`` gets ``; charset=utf-8``.

    A streaming response can be sent once: the iterable is consumed (or closed,
    for HEAD requests, without being started).
    """

    sets_content_length = False

    # NOTE: a keep-alive chunk sent after this many seconds without a chunk (ASGI only);
    # EventSourceResponse sets it per instance.
    _keep_alive: float | None = None
    _keep_alive_chunk: bytes = b""

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(None, status_code, headers, media_type)
        self.body_iterator: Iterable[Any] | AsyncIterable[Any] = content

    def render_chunk(self, chunk: Any) -> bytes:
        """Turn one item of the iterable into body bytes; subclasses override this."""
        if isinstance(chunk, bytes):
            return chunk
        if isinstance(chunk, str):
            return chunk.encode(self.charset)
        if isinstance(chunk, bytearray | memoryview):
            return bytes(chunk)
        raise TypeError(
            f"{type(self).__name__} chunks must be bytes or str, not {type(chunk).__name__}"
        )

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send this response over ASGI, stopping early if the client disconnects."""
        source = _source_for(self.body_iterator, sync_runner(scope))
        try:
            try:
                await send(
                    {
                        "type": "http.response.start",
                        "status": self.status_code,
                        "headers": self.raw_headers,
                    }
                )
                if _without_body(self.status_code, scope.get("method")):
                    await send(_final_body())
                    return
            except OSError:
                # NOTE: the server's send() raises an OSError once the client is gone.
                return
            await self._stream(source, receive, send)
        finally:
            await source.aclose()

    async def _stream(self, source: _Source, receive: Receive, send: Send) -> None:
        sender = _Sender(send)
        stream = asyncio.ensure_future(self._pump(source, sender))
        watchers = [asyncio.ensure_future(_wait_for_disconnect(receive))]
        if self._keep_alive is not None:
            watchers.append(
                asyncio.ensure_future(_keep_alive(sender, self._keep_alive, self._keep_alive_chunk))
            )
        try:
            await asyncio.wait([stream, *watchers], return_when=asyncio.FIRST_COMPLETED)
            # NOTE: result() raises what the iterable raised: the server aborts the response.
            if stream.done() and stream.result():
                async with sender.lock:
                    # NOTE: with the lock held, no keep-alive is cut off half sent.
                    await _cancel(watchers)
                    with contextlib.suppress(OSError):
                        await send(_final_body())
            # Otherwise the client disconnected: stop the stream; __call__ closes the source.
        finally:
            await _cancel(watchers if stream.done() else [stream, *watchers])

    async def _pump(self, source: _Source, sender: _Sender) -> bool:
        """Send every chunk; False if the client went away meanwhile."""
        render = self.render_chunk
        while True:
            item = await source.next()
            if item is _DONE:
                return True
            body = render(item)
            if body:
                try:
                    await sender.send(body)
                except OSError:
                    return False

    # -- WSGI ----------------------------------------------------------------------------

    def to_wsgi(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        """Send this response over WSGI: the server iterates (and closes) the body."""
        start_response(status_line(self.status_code), wsgi_headers(self.raw_headers))
        body = _WSGIBody(self.body_iterator, self.render_chunk)
        if _without_body(self.status_code, environ.get("REQUEST_METHOD")):
            body.close()
            return []
        return body


# -- sources: one way to pull chunks, whatever the iterable ------------------------------


class _Source:
    """Pull items from an iterable (``_DONE`` at the end) and close it."""

    async def next(self) -> Any:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError


class _AsyncSource(_Source):
    def __init__(self, iterable: AsyncIterable[Any]) -> None:
        self.iterator: AsyncIterator[Any] = aiter(iterable)

    async def next(self) -> Any:
        try:
            return await anext(self.iterator)
        except StopAsyncIteration:
            return _DONE

    async def aclose(self) -> None:
        aclose = getattr(self.iterator, "aclose", None)
        if aclose is not None:
            await aclose()


class _ListSource(_Source):
    """Items already in memory (a list or tuple): no thread needed."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.iterator = iter(items)

    async def next(self) -> Any:
        return next(self.iterator, _DONE)

    async def aclose(self) -> None:
        return


class _ThreadSource(_Source):
    """A sync iterator advanced in worker threads.

    The lock makes ``close`` wait for a step still running in a thread (after a
    disconnect cancelled the wait for it): closing a generator that is running
    raises ``ValueError``.
    """

    def __init__(self, iterable: Iterable[Any], run_sync: RunSync) -> None:
        self.iterator = iter(iterable)
        self.run_sync = run_sync
        self.lock = threading.Lock()
        self.finished = False

    def _step(self) -> Any:
        with self.lock:
            if self.finished:
                return _DONE
            item = next(self.iterator, _DONE)
            if item is _DONE:
                self.finished = True
            return item

    def _close(self) -> None:
        with self.lock:
            if self.finished:
                return
            self.finished = True
            close = getattr(self.iterator, "close", None)
            if close is not None:
                close()

    async def next(self) -> Any:
        return await self.run_sync(self._step)

    async def aclose(self) -> None:
        if not self.finished:
            await self.run_sync(self._close)


def _source_for(content: Iterable[Any] | AsyncIterable[Any], run_sync: RunSync) -> _Source:
    if isinstance(content, AsyncIterable):
        return _AsyncSource(content)
    if isinstance(content, list | tuple):
        return _ListSource(content)
    return _ThreadSource(content, run_sync)


class _Sender:
    """Send body chunks one at a time (chunks and keep-alives never interleave)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()
        self.last_sent = self.loop.time()

    async def send(self, body: bytes) -> None:
        async with self.lock:
            await self._send({"type": "http.response.body", "body": body, "more_body": True})
            self.last_sent = self.loop.time()


async def _wait_for_disconnect(receive: Receive) -> None:
    body_ended = False
    while True:
        message: Message = await receive()
        kind = message.get("type")
        if kind == "http.disconnect":
            return
        if kind == "http.request" and not message.get("more_body", False):
            if body_ended:
                # NOTE: this receive() repeats the end of the body instead of waiting for
                # the disconnect (not ASGI-compliant): stop listening rather than spin.
                await asyncio.get_running_loop().create_future()
            body_ended = True


async def _keep_alive(sender: _Sender, interval: float, chunk: bytes) -> None:
    loop = sender.loop
    while True:
        delay = sender.last_sent + interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
            continue
        try:
            await sender.send(chunk)
        except OSError:
            return


async def _cancel(tasks: Sequence[asyncio.Future[Any]]) -> None:
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    for task in tasks:
        if task.cancelled():
            continue
        exc = task.exception()
        if exc is not None and not isinstance(exc, OSError):
            # NOTE: raised while stopping after a disconnect (by the generator's cleanup,
            # say): the client is gone and the response already ended, so log it.
            logger.error("Error while closing a streaming response", exc_info=exc)


# -- WSGI ---------------------------------------------------------------------------------


class _WSGIBody:
    """A WSGI body over a sync or async iterable; ``close()`` closes the iterable."""

    def __init__(
        self, content: Iterable[Any] | AsyncIterable[Any], render: Callable[[Any], bytes]
    ) -> None:
        self.content = content
        self.render = render
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        render = self.render
        content = self.content
        if isinstance(content, AsyncIterable):
            from oakling.wsgi import run_coroutine  # imported late: the WSGI layer is above

            iterator = aiter(content)
            self.content = iterator
            while not self.closed:
                item = run_coroutine(_anext_or_done(iterator))
                if item is _DONE:
                    return
                yield render(item)
        else:
            for item in content:
                yield render(item)

    def close(self) -> None:
        """Close the iterable (runs a generator's ``finally`` if it was started)."""
        if self.closed:
            return
        self.closed = True
        content = self.content
        aclose = getattr(content, "aclose", None)
        if aclose is not None:
            from oakling.wsgi import run_coroutine

            run_coroutine(aclose())
            return
        close = getattr(content, "close", None)
        if close is not None:
            close()


async def _anext_or_done(iterator: AsyncIterator[Any]) -> Any:
    try:
        return await anext(iterator)
    except StopAsyncIteration:
        return _DONE


# -- Server-Sent Events -------------------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class ServerSentEvent:
    """One Server-Sent Event.

    Args:
        data: The payload: a ``str`` as is (several lines become several ``data:``
            lines), ``None`` for no data field, anything else JSON-encoded.
        event: The event type (``addEventListener(type, ...)`` in the browser).
        id: The event id, sent back by a reconnecting browser as ``Last-Event-ID``.
        retry: The browser's reconnection delay, in milliseconds.
        comment: A comment line (ignored by browsers; useful to keep a connection open).

    Raises:
        ValueError: ``event`` or ``id`` contains a line break (or ``id`` a NUL), or
            ``retry`` is negative.
    """

    __slots__ = ("comment", "data", "event", "id", "retry")

    def __init__(
        self,
        data: Any = None,
        event: str | None = None,
        id: str | None = None,  # the field's name in the SSE format
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        if event is not None and _LINE_BREAK.search(event):
            raise ValueError(f"A Server-Sent Event type cannot contain a line break: {event!r}")
        if id is not None and (_LINE_BREAK.search(id) or "\0" in id):
            raise ValueError(f"A Server-Sent Event id cannot contain a line break or NUL: {id!r}")
        if retry is not None and (isinstance(retry, bool) or not isinstance(retry, int)):
            raise TypeError(f"retry must be an int (milliseconds), not {type(retry).__name__}")
        if retry is not None and retry < 0:
            raise ValueError(f"retry must be zero or more milliseconds, got {retry}")
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def encode(self) -> bytes:
        """Return the event in the ``text/event-stream`` format, blank line included."""
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" for line in _LINE_BREAK.split(self.comment))
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        data = self.data
        if data is not None:
            text = data if isinstance(data, str) else json_encode(data).decode("utf-8")
            lines.extend(f"data: {line}" for line in _LINE_BREAK.split(text))
        lines.append("\n")
        return "\n".join(lines).encode("utf-8")

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("data", "event", "id", "retry", "comment")
            if getattr(self, name) is not None
        )
        return f"ServerSentEvent({fields})"


def encode_event(event: Any) -> bytes:
    """Encode one item of an event stream.

    A ``ServerSentEvent`` as is; a ``str`` as the data of an unnamed event;
    anything else (dict, list, Struct...) JSON-encoded as the data.
    """
    if isinstance(event, ServerSentEvent):
        return event.encode()
    return ServerSentEvent(event).encode()


class EventSourceResponse(StreamingResponse):
    """A stream of Server-Sent Events (``text/event-stream``).

    Args:
        events: A sync or async iterable of ``ServerSentEvent``, ``str`` (the data of
            an unnamed event) or any JSON-encodable value (the data, as JSON).
        ping: Under ASGI, send a ``: ping`` comment after this many seconds without an
            event, so proxies keep the connection open; ``None`` disables it.
        status_code: The HTTP status.
        headers: Extra headers.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        events: Iterable[Any] | AsyncIterable[Any],
        ping: float | None = 15.0,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if ping is not None and ping <= 0:
            raise ValueError(f"ping must be a positive number of seconds or None, got {ping}")
        super().__init__(events, status_code, headers)
        mutable = self.headers
        mutable.setdefault("cache-control", "no-cache")
        # NOTE: tells nginx not to buffer the stream (it would hold events back).
        mutable.setdefault("x-accel-buffering", "no")
        self._keep_alive = ping
        self._keep_alive_chunk = b": ping\n\n"

    def render_chunk(self, chunk: Any) -> bytes:
        """Encode one event."""
        return encode_event(chunk)
