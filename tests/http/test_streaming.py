from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from oakling import App
from oakling.http.streaming import (
    EventSourceResponse,
    ServerSentEvent,
    StreamingResponse,
    encode_event,
)
from oakling.testing import TestClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from oakling._types import ASGIApp, Message, Receive, Scope, Send
    from oakling.http.response import Response


@pytest.fixture
def anyio_backend() -> str:
    # NOTE: the core runs on asyncio (thread pool via run_in_executor / to_thread).
    return "asyncio"


@pytest.fixture
def app() -> App:
    return App(debug=True)


@pytest.fixture
def client(interface: str, app: App) -> Iterator[TestClient]:
    # NOTE: `interface` (tests/conftest.py) is parametrized ["asgi", "wsgi"].
    with TestClient(app, wsgi=(interface == "wsgi")) as client:
        yield client


# -- raw ASGI helpers ----------------------------------------------------------------------


def http_scope(method: str = "GET", **extra: Any) -> Scope:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "extensions": {},
    }
    scope.update(extra)
    return scope


class Recorder:
    """A fake ASGI server side: records what is sent, controls what is received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.first_chunk = asyncio.Event()
        self.disconnect = asyncio.Event()

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            self.first_chunk.set()

    async def receive_disconnect_now(self) -> Message:
        return {"type": "http.disconnect"}

    async def receive_disconnect_after_first_chunk(self) -> Message:
        await self.first_chunk.wait()
        return {"type": "http.disconnect"}

    async def receive_never(self) -> Message:
        await self.disconnect.wait()
        return {"type": "http.disconnect"}

    @property
    def bodies(self) -> list[bytes]:
        return [m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"]

    @property
    def ended(self) -> bool:
        last = self.messages[-1]
        return last["type"] == "http.response.body" and not last.get("more_body", False)


async def call(response: ASGIApp, receive: Receive, send: Send, scope: Scope | None = None) -> None:
    await asyncio.wait_for(response(scope or http_scope(), receive, send), timeout=5)


# -- over both interfaces ------------------------------------------------------------------


def test_sync_generator_is_streamed(app: App, client: TestClient) -> None:
    closed: list[bool] = []

    def numbers() -> Iterator[bytes | str]:
        try:
            yield b"one,"
            yield "two,"
            yield b"three"
        finally:
            closed.append(True)

    @app.get("/")
    def index() -> Response:
        return StreamingResponse(numbers(), media_type="text/csv")

    response = client.get("/")
    assert response.status_code == 200
    assert response.content == b"one,two,three"
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert closed == [True]


def test_async_generator_is_streamed(app: App, client: TestClient) -> None:
    closed: list[bool] = []

    async def numbers() -> AsyncIterator[bytes | str]:
        try:
            for number in range(3):
                await asyncio.sleep(0)
                yield f"{number};"
        finally:
            closed.append(True)

    @app.get("/")
    async def index() -> Response:
        return StreamingResponse(numbers())

    response = client.get("/")
    assert response.status_code == 200
    assert response.content == b"0;1;2;"
    assert closed == [True]


def test_async_generator_from_sync_handler(app: App, client: TestClient) -> None:
    async def numbers() -> AsyncIterator[str]:
        yield "a"
        yield "b"

    @app.get("/")
    def index() -> Response:
        return StreamingResponse(numbers())

    assert client.get("/").content == b"ab"


def test_list_of_chunks_status_and_headers(app: App, client: TestClient) -> None:
    @app.get("/")
    def index() -> Response:
        return StreamingResponse([b"a", "b", b"", "c"], status_code=201, headers={"X-Kind": "list"})

    response = client.get("/")
    assert response.status_code == 201
    assert response.headers["x-kind"] == "list"
    assert response.content == b"abc"


def test_str_chunks_are_utf8(app: App, client: TestClient) -> None:
    @app.get("/")
    def index() -> Response:
        return StreamingResponse(iter(["héllo ", "wörld ", "✓"]), media_type="text/plain")

    response = client.get("/")
    assert response.content == "héllo wörld ✓".encode()
    assert response.text == "héllo wörld ✓"


def test_no_content_length_is_sent(app: App) -> None:
    # NOTE: over WSGI only: the ASGI TestClient adds Content-Length to what it collected.
    @app.get("/")
    def index() -> Response:
        return StreamingResponse(iter([b"abc"]))

    with TestClient(app, wsgi=True) as client:
        response = client.get("/")
    assert response.content == b"abc"
    assert "content-length" not in response.headers


def test_head_sends_no_body_and_does_not_start_the_iterator(app: App, client: TestClient) -> None:
    started: list[bool] = []

    def sync_body() -> Iterator[bytes]:
        started.append(True)
        yield b"never"

    async def async_body() -> AsyncIterator[bytes]:
        started.append(True)
        yield b"never"

    @app.get("/sync")
    def sync_index() -> Response:
        return StreamingResponse(sync_body(), headers={"X-Stream": "1"})

    @app.get("/async")
    def async_index() -> Response:
        return StreamingResponse(async_body())

    for path in ("/sync", "/async"):
        response = client.head(path)
        assert response.status_code == 200
        assert response.content == b""
    assert client.head("/sync").headers["x-stream"] == "1"
    assert started == []


def test_chunk_of_wrong_type_is_an_error(app: App, client: TestClient) -> None:
    @app.get("/")
    def index() -> Response:
        chunks: list[Any] = [b"ok", 42]
        return StreamingResponse(iter(chunks))

    with pytest.raises(TypeError, match="chunks must be bytes or str, not int"):
        client.get("/")


def test_streaming_over_wsgi_through_asgi_middleware() -> None:
    # NOTE: with ASGI middleware, WSGI requests run through the ASGI chain and a bridge
    # whose receive() repeats the end of the body: the stream must still finish.
    def passthrough(inner: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            await inner(scope, receive, send)

        return middleware

    app = App(debug=True, middleware=[(passthrough, {})])

    @app.get("/")
    def index() -> Response:
        return StreamingResponse(iter([b"through ", b"middleware"]))

    with TestClient(app, wsgi=True) as client:
        assert client.get("/").content == b"through middleware"


# -- Server-Sent Events --------------------------------------------------------------------


def test_event_source_response_formats_events(app: App, client: TestClient) -> None:
    async def events() -> AsyncIterator[Any]:
        yield "hello"
        yield {"price": 3, "name": "é"}
        yield ServerSentEvent("line one\nline two\r\nline three", event="update", id="7")
        yield ServerSentEvent(None, retry=2500, comment="just a comment")
        yield [1, 2]

    @app.get("/events")
    def stream() -> Response:
        return EventSourceResponse(events())

    response = client.get("/events")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.text == (
        "data: hello\n\n"
        'data: {"price":3,"name":"é"}\n\n'
        "event: update\nid: 7\ndata: line one\ndata: line two\ndata: line three\n\n"
        ": just a comment\nretry: 2500\n\n"
        "data: [1,2]\n\n"
    )


def test_event_source_response_from_sync_generator(app: App, client: TestClient) -> None:
    def events() -> Iterator[str]:
        yield "a"
        yield "b"

    @app.get("/events")
    def stream() -> Response:
        return EventSourceResponse(events(), headers={"Cache-Control": "no-store"})

    response = client.get("/events")
    assert response.text == "data: a\n\ndata: b\n\n"
    assert response.headers["cache-control"] == "no-store"


def test_server_sent_event_encoding() -> None:
    assert ServerSentEvent("x").encode() == b"data: x\n\n"
    assert ServerSentEvent("").encode() == b"data: \n\n"
    assert ServerSentEvent(" spaced").encode() == b"data:  spaced\n\n"
    assert ServerSentEvent("a\n").encode() == b"data: a\ndata: \n\n"
    assert ServerSentEvent({"a": None}).encode() == b'data: {"a":null}\n\n'
    assert ServerSentEvent(None, comment="a\nb").encode() == b": a\n: b\n\n"
    assert ServerSentEvent("\u2028").encode() == "data: \u2028\n\n".encode()
    assert encode_event("x") == b"data: x\n\n"
    assert encode_event(ServerSentEvent(1, id="")) == b"id: \ndata: 1\n\n"
    assert repr(ServerSentEvent("x", event="e")) == "ServerSentEvent(data='x', event='e')"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"event": "a\nb"},
        {"event": "a\rb"},
        {"id": "1\n"},
        {"id": "1\r\n2"},
        {"id": "1\x002"},
        {"retry": -1},
    ],
)
def test_server_sent_event_rejects_bad_fields(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"line break|zero or more"):
        ServerSentEvent("data", **kwargs)


@pytest.mark.parametrize("retry", [1.5, "10", True])
def test_server_sent_event_retry_must_be_an_int(retry: Any) -> None:
    with pytest.raises(TypeError, match="retry must be an int"):
        ServerSentEvent("data", retry=retry)


@pytest.mark.parametrize("ping", [0, -1.0])
def test_event_source_ping_must_be_positive(ping: float) -> None:
    with pytest.raises(ValueError, match="ping must be a positive number"):
        EventSourceResponse([], ping=ping)


# -- raw ASGI: disconnects, threads, keep-alive -------------------------------------------


@pytest.mark.anyio
async def test_disconnect_closes_async_generator() -> None:
    cleaned_up = asyncio.Event()

    async def forever() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"tick"
                await asyncio.sleep(0.01)
        finally:
            cleaned_up.set()

    recorder = Recorder()
    await call(StreamingResponse(forever()), recorder.receive_disconnect_now, recorder.send)
    assert cleaned_up.is_set()
    assert recorder.messages[0]["type"] == "http.response.start"
    assert not recorder.ended


@pytest.mark.anyio
async def test_disconnect_after_first_chunk_closes_sync_generator() -> None:
    cleaned_up = threading.Event()

    def forever() -> Iterator[bytes]:
        try:
            while True:
                yield b"tick"
                time.sleep(0.01)
        finally:
            cleaned_up.set()

    recorder = Recorder()
    await call(
        StreamingResponse(forever()), recorder.receive_disconnect_after_first_chunk, recorder.send
    )
    assert cleaned_up.is_set()
    assert recorder.bodies[0] == b"tick"
    assert not recorder.ended


@pytest.mark.anyio
async def test_disconnect_while_sync_generator_blocks_waits_then_closes_it() -> None:
    # NOTE: a thread cannot be interrupted: the generator is closed once its step returns,
    # before the response returns (so dependency teardown runs after the generator's).
    blocking = threading.Event()
    release = threading.Event()
    cleaned_up = threading.Event()

    def slow() -> Iterator[bytes]:
        try:
            yield b"first"
            blocking.set()
            release.wait(timeout=5)
            yield b"second"
        finally:
            cleaned_up.set()

    recorder = Recorder()

    async def receive() -> Message:
        await asyncio.to_thread(blocking.wait, 5)
        asyncio.get_running_loop().call_later(0.05, release.set)
        return {"type": "http.disconnect"}

    await call(StreamingResponse(slow()), receive, recorder.send)
    assert release.is_set()
    assert cleaned_up.is_set()
    assert recorder.bodies == [b"first"]


@pytest.mark.anyio
async def test_body_messages_are_consumed_before_the_disconnect() -> None:
    cleaned_up = asyncio.Event()
    messages = iter(
        [
            {"type": "http.request", "body": b"ignored", "more_body": True},
            {"type": "http.request", "body": b"", "more_body": False},
        ]
    )
    recorder = Recorder()

    async def receive() -> Message:
        message = next(messages, None)
        if message is not None:
            return message
        return await recorder.receive_disconnect_after_first_chunk()

    async def forever() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x"
                await asyncio.sleep(0.01)
        finally:
            cleaned_up.set()

    await call(StreamingResponse(forever()), receive, recorder.send)
    assert cleaned_up.is_set()


@pytest.mark.anyio
async def test_send_failing_stops_the_stream_quietly() -> None:
    cleaned_up = asyncio.Event()

    async def forever() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            cleaned_up.set()

    recorder = Recorder()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            raise ConnectionResetError("client went away")
        await recorder.send(message)

    await call(StreamingResponse(forever()), recorder.receive_never, send)
    assert cleaned_up.is_set()


@pytest.mark.anyio
async def test_complete_stream_ends_with_final_message() -> None:
    recorder = Recorder()
    await call(StreamingResponse(iter([b"a", b"b"])), recorder.receive_never, recorder.send)
    start = recorder.messages[0]
    assert start["status"] == 200
    assert all(key != b"content-length" for key, _ in start["headers"])
    assert recorder.bodies == [b"a", b"b", b""]
    assert [m.get("more_body") for m in recorder.messages[1:]] == [True, True, False]


@pytest.mark.anyio
async def test_error_in_generator_propagates() -> None:
    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise RuntimeError("boom")

    recorder = Recorder()
    with pytest.raises(RuntimeError, match="boom"):
        await call(StreamingResponse(broken()), recorder.receive_never, recorder.send)
    assert recorder.bodies == [b"partial"]
    assert not recorder.ended


@pytest.mark.anyio
async def test_sync_iterator_runs_in_the_apps_thread_pool() -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    calls: list[str] = []

    def body() -> Iterator[bytes]:
        threads.append(threading.get_ident())
        yield b"x"

    class FakeApp:
        async def run_sync(self, fn: Any, /, *args: Any) -> Any:
            calls.append(fn.__name__)
            return await asyncio.to_thread(fn, *args)

    recorder = Recorder()
    scope = http_scope(app=FakeApp())
    await call(StreamingResponse(body()), recorder.receive_never, recorder.send, scope)
    assert recorder.bodies == [b"x", b""]
    assert threads
    assert threads[0] != loop_thread
    assert "_step" in calls


@pytest.mark.anyio
async def test_sync_iterator_without_app_uses_a_thread() -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def body() -> Iterator[bytes]:
        threads.append(threading.get_ident())
        yield b"x"

    recorder = Recorder()
    await call(StreamingResponse(body()), recorder.receive_never, recorder.send)
    assert threads
    assert threads[0] != loop_thread


@pytest.mark.anyio
async def test_event_source_sends_ping_during_silence() -> None:
    async def slow() -> AsyncIterator[str]:
        yield "first"
        await asyncio.sleep(0.35)
        yield "second"

    recorder = Recorder()
    await call(EventSourceResponse(slow(), ping=0.1), recorder.receive_never, recorder.send)
    bodies = recorder.bodies
    assert bodies[0] == b"data: first\n\n"
    assert bodies[-2:] == [b"data: second\n\n", b""]
    pings = bodies[1:-2]
    # NOTE: about three (every 0.1 s of a 0.35 s silence); fewer on a loaded machine.
    assert pings
    assert set(pings) == {b": ping\n\n"}
    assert recorder.ended


@pytest.mark.anyio
async def test_event_source_ping_none_sends_no_ping() -> None:
    async def slow() -> AsyncIterator[str]:
        await asyncio.sleep(0.2)
        yield "only"

    recorder = Recorder()
    await call(EventSourceResponse(slow(), ping=None), recorder.receive_never, recorder.send)
    assert recorder.bodies == [b"data: only\n\n", b""]


@pytest.mark.anyio
async def test_event_source_ping_stops_after_disconnect() -> None:
    cleaned_up = asyncio.Event()

    async def silent() -> AsyncIterator[str]:
        try:
            await asyncio.sleep(10)
            yield "never"
        finally:
            cleaned_up.set()

    recorder = Recorder()

    async def receive() -> Message:
        await recorder.first_chunk.wait()  # the first ping
        return {"type": "http.disconnect"}

    await call(EventSourceResponse(silent(), ping=0.05), receive, recorder.send)
    assert cleaned_up.is_set()
    assert recorder.bodies == [b": ping\n\n"]
    count = len(recorder.messages)
    await asyncio.sleep(0.15)
    assert len(recorder.messages) == count


# -- raw WSGI ------------------------------------------------------------------------------


def test_wsgi_close_runs_generator_cleanup_midway() -> None:
    cleaned_up: list[bool] = []

    def forever() -> Iterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            cleaned_up.append(True)

    def start_response(status: str, headers: list[tuple[str, str]]) -> Any:
        assert status == "200 OK"
        assert all(name.lower() != "content-length" for name, _ in headers)

    body = StreamingResponse(forever()).to_wsgi({"REQUEST_METHOD": "GET"}, start_response)
    chunks = iter(body)
    assert next(chunks) == b"x"
    body.close()  # type: ignore[attr-defined]
    assert cleaned_up == [True]


def test_wsgi_close_runs_async_generator_cleanup_midway() -> None:
    cleaned_up: list[bool] = []

    async def forever() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            cleaned_up.append(True)

    def start_response(status: str, headers: list[tuple[str, str]]) -> Any:
        return None

    body = StreamingResponse(forever()).to_wsgi({"REQUEST_METHOD": "GET"}, start_response)
    chunks = iter(body)
    assert next(chunks) == b"x"
    assert next(chunks) == b"x"
    body.close()  # type: ignore[attr-defined]
    assert cleaned_up == [True]
