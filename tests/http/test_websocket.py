from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import pytest

from oakling import App, Depends, Header, Query, Settings, Unauthorized
from oakling.http.websocket import WebSocket, WebSocketDisconnect, WebSocketState
from oakling.testing import TestClient, WebSocketClosed, WebSocketRejected

if TYPE_CHECKING:
    from oakling._types import Message, Scope

ClientFactory = Callable[[App], TestClient]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app() -> App:
    return App(settings=Settings(debug=True, max_body_size=16))


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    # NOTE: websockets are ASGI only: no `interface` parametrization here.
    with TestClient(app) as test_client:
        yield test_client


# -- handshake -----------------------------------------------------------------------------


def test_accept_without_subprotocol(app: App, client: TestClient) -> None:
    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        states = [websocket.state_]
        await websocket.accept()
        states.append(websocket.state_)
        assert states == [WebSocketState.CONNECTING, WebSocketState.CONNECTED]
        await websocket.send_text("hello")

    with client.websocket_connect("/ws") as session:
        assert session.accepted_subprotocol is None
        assert session.receive_text() == "hello"


def test_accept_with_a_subprotocol_the_client_offered(app: App, client: TestClient) -> None:
    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        offered = websocket.scope["subprotocols"]
        await websocket.accept(subprotocol="chat.v2" if "chat.v2" in offered else None)
        await websocket.send_json(offered)

    with client.websocket_connect("/ws", subprotocols=["chat.v1", "chat.v2"]) as session:
        assert session.accepted_subprotocol == "chat.v2"
        assert session.receive_json() == ["chat.v1", "chat.v2"]


@pytest.mark.anyio
async def test_accept_sends_extra_headers_and_the_subprotocol(app: App) -> None:
    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept("chat", headers={"X-Server": "oakling"})

    incoming: list[Message] = [{"type": "websocket.connect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "websocket",
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "subprotocols": ["chat"],
    }
    await app(scope, receive, send)
    assert sent == [
        {"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x-server", b"oakling")]},
        {"type": "websocket.close", "code": 1000, "reason": ""},
    ]


async def call_websocket(
    app: App, messages: list[Message], path: str = "/ws", **scope_extra: Any
) -> list[Message]:
    """Run one websocket connection with raw ASGI messages; return what the app sent."""
    incoming = list(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "websocket",
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "subprotocols": [],
    }
    scope.update(scope_extra)
    await app(scope, receive, send)
    return sent


@pytest.mark.anyio
async def test_client_gone_before_the_handshake(app: App) -> None:
    seen: list[int] = []

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        try:
            await websocket.accept()
        except WebSocketDisconnect as exc:
            seen.append(exc.code)
            raise

    sent = await call_websocket(app, [{"type": "websocket.disconnect", "code": 1001}])
    assert sent == []  # nothing to answer
    assert seen == [1001]


@pytest.mark.anyio
async def test_websocket_route_under_a_root_path(app: App) -> None:
    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json([websocket.path, websocket.base_url])

    sent = await call_websocket(
        app, [{"type": "websocket.connect"}], "/api/ws", root_path="/api", raw_path=b"/api/ws"
    )
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert msgspec.json.decode(sent[1]["text"]) == ["/api/ws", "ws://testserver/api/"]


def test_accept_twice_is_an_error(app: App, client: TestClient) -> None:
    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.accept()
        except RuntimeError as exc:
            await websocket.send_text(str(exc))

    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "accept() called twice"


def test_receive_before_accept_is_an_error(app: App, client: TestClient) -> None:
    errors: list[str] = []

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        try:
            await websocket.receive_text()
        except RuntimeError as exc:
            errors.append(str(exc))
        await websocket.close(4000, "go away")

    with pytest.raises(WebSocketRejected) as rejected, client.websocket_connect("/ws"):
        pass
    assert rejected.value.code == 4000
    assert rejected.value.reason == "go away"
    assert errors == ["The websocket is not connected: call accept() first"]


def test_close_before_accept_rejects_the_handshake(app: App, client: TestClient) -> None:
    @app.websocket("/private")
    async def handler(websocket: WebSocket) -> None:
        if websocket.headers.get("x-token") != "secret":
            await websocket.close(4403, "Forbidden")
            return
        await websocket.accept()

    with pytest.raises(WebSocketRejected) as rejected, client.websocket_connect("/private"):
        pass
    assert rejected.value.code == 4403
    assert rejected.value.reason == "Forbidden"
    assert "4403" in str(rejected.value)
    with client.websocket_connect("/private", headers={"x-token": "secret"}):
        pass


def test_unknown_websocket_path_is_rejected(app: App, client: TestClient) -> None:
    @app.get("/http-only")
    def http_only() -> str:
        return "hi"

    for path in ("/nope", "/http-only"):
        with pytest.raises(WebSocketRejected) as rejected, client.websocket_connect(path):
            pass
        assert rejected.value.code == 4404
        assert rejected.value.reason == "No such websocket route"


def test_websocket_to_a_host_not_allowed_is_rejected() -> None:
    app = App(settings=Settings(allowed_hosts=("example.com",)))

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()

    with TestClient(app, base_url="http://example.com") as client, client.websocket_connect("/ws"):
        pass
    with (
        TestClient(app, base_url="http://evil.test") as client,
        pytest.raises(WebSocketRejected) as rejected,
        client.websocket_connect("/ws"),
    ):
        pass
    assert rejected.value.code == 1008


# -- messages ------------------------------------------------------------------------------


def test_text_bytes_and_json_round_trips(app: App, client: TestClient) -> None:
    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text((await websocket.receive_text()).upper())
        await websocket.send_bytes((await websocket.receive_bytes())[::-1])
        await websocket.send_json({"got": await websocket.receive_json()})
        await websocket.send_json(await websocket.receive_json())  # JSON sent as bytes

    with client.websocket_connect("/echo") as session:
        session.send_text("héllo")
        assert session.receive_text() == "HÉLLO"
        session.send_bytes(b"\x00\x01\xff")
        assert session.receive_bytes() == b"\xff\x01\x00"
        session.send_json({"a": [1, None]})
        assert session.receive_json() == {"got": {"a": [1, None]}}
        session.send_bytes(b"[true]")
        message = session.receive()
        assert message == {"type": "websocket.send", "text": "[true]"}  # JSON goes as text


def test_receive_json_validates_against_a_type(app: App, client: TestClient) -> None:
    class Move(msgspec.Struct):
        x: int
        y: int

    @app.websocket("/game")
    async def game(websocket: WebSocket) -> None:
        await websocket.accept()
        move = await websocket.receive_json(Move)
        await websocket.send_json({"x": move.x * 2, "y": move.y * 2})
        await websocket.receive_json(Move)

    with client.websocket_connect("/game") as session:
        session.send_json({"x": 1, "y": 2})
        assert session.receive_json() == {"x": 2, "y": 4}
        session.send_json({"x": "left"})
        with pytest.raises(WebSocketClosed) as closed:
            session.receive()
        assert closed.value.code == 1007
        assert closed.value.reason == "Invalid JSON"


def test_iter_text_until_the_client_leaves(app: App, client: TestClient) -> None:
    received: list[str] = []

    @app.websocket("/shout")
    async def shout(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            received.append(text)
            await websocket.send_text(text.upper())
        received.append("<done>")

    with client.websocket_connect("/shout") as session:
        for word in ("a", "b", "c"):
            session.send_text(word)
            assert session.receive_text() == word.upper()
    assert received == ["a", "b", "c", "<done>"]


def test_iter_json_until_the_client_leaves(app: App, client: TestClient) -> None:
    total: list[int] = []

    @app.websocket("/sum")
    async def add(websocket: WebSocket) -> None:
        await websocket.accept()
        running = 0
        async for number in websocket.iter_json():
            running += number
            await websocket.send_json({"total": running})
        total.append(running)

    with client.websocket_connect("/sum") as session:
        session.send_json(2)
        assert session.receive_json() == {"total": 2}
        session.send_text("40")
        assert session.receive_json() == {"total": 42}
    assert total == [42]


def test_server_close_with_code_and_reason(app: App, client: TestClient) -> None:
    @app.websocket("/bye")
    async def bye(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("last words")
        await websocket.close(4001, "done here")
        await websocket.close(4002, "ignored: already closed")
        assert websocket.state_ is WebSocketState.CLOSED

    with client.websocket_connect("/bye") as session:
        assert session.receive_text() == "last words"
        with pytest.raises(WebSocketClosed) as closed:
            session.receive_text()
        assert closed.value.code == 4001
        assert closed.value.reason == "done here"
        assert session.close_code == 4001


def test_handler_that_returns_closes_with_1000(app: App, client: TestClient) -> None:
    @app.websocket("/once")
    async def once(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("one")

    with client.websocket_connect("/once") as session:
        assert session.receive_text() == "one"
        with pytest.raises(WebSocketClosed) as closed:
            session.receive()
        assert closed.value.code == 1000


def test_client_disconnect_raises_inside_the_handler_and_finally_runs(
    app: App, client: TestClient
) -> None:
    events: list[Any] = []

    @app.websocket("/chat")
    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnect as exc:
            events.append(("disconnect", exc.code, exc.reason))
            assert websocket.state_ is WebSocketState.CLOSED
            raise
        finally:
            events.append("finally")

    with client.websocket_connect("/chat") as session:
        session.send_text("hi")
        assert session.receive_text() == "hi"
        session.close(1001)
    assert events == [("disconnect", 1001, ""), "finally"]

    events.clear()
    with client.websocket_connect("/chat") as session:
        session.send_text("bye")
        assert session.receive_text() == "bye"
    assert events == [("disconnect", 1000, ""), "finally"]  # leaving the block closes


def test_websocket_disconnect_is_an_oakling_error_with_code() -> None:
    exc = WebSocketDisconnect(1001, "going away")
    assert (exc.code, exc.reason) == (1001, "going away")
    assert str(exc) == "Websocket closed with code 1001"
    assert WebSocketDisconnect().code == 1000


def test_invalid_json_closes_with_1007(app: App, client: TestClient) -> None:
    errors: list[WebSocketDisconnect] = []

    @app.websocket("/json")
    async def as_json(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_json()
        except WebSocketDisconnect as exc:
            errors.append(exc)
            raise

    with client.websocket_connect("/json") as session:
        session.send_text("{not json")
        with pytest.raises(WebSocketClosed) as closed:
            session.receive()
        assert closed.value.code == 1007
        assert closed.value.reason == "Invalid JSON"
    assert errors[0].code == 1007
    assert errors[0].reason.startswith("Invalid JSON: ")


def test_wrong_message_kind_closes_with_1003(app: App, client: TestClient) -> None:
    @app.websocket("/text")
    async def text(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()

    @app.websocket("/bytes")
    async def binary(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_bytes()

    with client.websocket_connect("/text") as session:
        session.send_bytes(b"raw")
        with pytest.raises(WebSocketClosed) as closed:
            session.receive()
        assert (closed.value.code, closed.value.reason) == (1003, "Expected a text message")
    with client.websocket_connect("/bytes") as session:
        session.send_text("text")
        with pytest.raises(WebSocketClosed) as closed:
            session.receive()
        assert (closed.value.code, closed.value.reason) == (1003, "Expected a binary message")


@pytest.mark.parametrize(
    ("kind", "payload", "closes"),
    [
        ("text", "x" * 16, False),
        ("text", "x" * 17, True),
        ("text", "é" * 8, False),  # 16 bytes in UTF-8
        ("text", "é" * 9, True),  # 9 characters, 18 bytes: the limit is in bytes
        ("text", "\U0001f600" * 5, True),  # 5 characters, 20 bytes
        ("bytes", b"x" * 16, False),
        ("bytes", b"x" * 17, True),
    ],
)
def test_message_over_the_size_limit_closes_with_1009(
    app: App, client: TestClient, kind: str, payload: str | bytes, closes: bool
) -> None:
    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        if kind == "text":
            await websocket.send_text(await websocket.receive_text())
        else:
            await websocket.send_bytes(await websocket.receive_bytes())

    with client.websocket_connect("/echo") as session:
        if isinstance(payload, str):
            session.send_text(payload)
        else:
            session.send_bytes(payload)
        if closes:
            with pytest.raises(WebSocketClosed) as closed:
                session.receive()
            assert (closed.value.code, closed.value.reason) == (1009, "Message too big")
        else:
            message = session.receive()
            assert message.get("text", message.get("bytes")) == payload


def test_handler_exception_closes_with_1011_and_is_logged(
    app: App, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.websocket("/boom")
    async def boom(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise LookupError("no such room")

    with (
        caplog.at_level(logging.ERROR, logger="oakling.error"),
        client.websocket_connect("/boom") as session,
    ):
        session.send_text("join")
        with pytest.raises(WebSocketClosed) as closed:
            session.receive()
        assert closed.value.code == 1011
    records = [r for r in caplog.records if r.name == "oakling.error"]
    assert len(records) == 1
    assert records[0].getMessage() == "Unhandled LookupError in websocket /boom"
    assert records[0].exc_info is not None
    assert isinstance(records[0].exc_info[1], LookupError)


def test_exception_before_accept_rejects_and_is_logged(
    app: App, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.websocket("/early")
    async def early(websocket: WebSocket) -> None:
        raise RuntimeError("not ready")

    with (
        caplog.at_level(logging.ERROR, logger="oakling.error"),
        pytest.raises(WebSocketRejected) as rejected,
        client.websocket_connect("/early"),
    ):
        pass
    assert rejected.value.code == 1008
    assert [r.getMessage() for r in caplog.records if r.name == "oakling.error"] == [
        "Unhandled RuntimeError in websocket /early"
    ]


# -- what was asked, and injection ---------------------------------------------------------


def test_websocket_is_a_request(app: App, client: TestClient) -> None:
    @app.websocket("/info/{room}")
    async def info(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(
            {
                "path": websocket.path,
                "params": websocket.path_params,
                "query": websocket.query.getlist("tag"),
                "agent": websocket.headers.get("User-Agent"),
                "cookies": websocket.cookies,
                "scheme": websocket.scheme,
                "secure": websocket.is_secure,
                "url": websocket.url,
                "host": websocket.host,
            }
        )

    headers = {"user-agent": "tester/1", "cookie": "sid=abc; junk"}
    with client.websocket_connect("/info/lobby?tag=a&tag=b", headers=headers) as session:
        assert session.receive_json() == {
            "path": "/info/lobby",
            "params": {"room": "lobby"},
            "query": ["a", "b"],
            "agent": "tester/1",
            "cookies": {"sid": "abc"},
            "scheme": "ws",
            "secure": False,
            "url": "ws://testserver/info/lobby?tag=a&tag=b",
            "host": "testserver",
        }


def test_websocket_over_https_is_wss(app: App) -> None:
    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json([websocket.scheme, websocket.is_secure])

    with (
        TestClient(app, base_url="https://testserver") as client,
        client.websocket_connect("/ws") as session,
    ):
        assert session.receive_json() == ["wss", True]


def test_path_query_header_and_depends_injection(app: App, client: TestClient) -> None:
    events: list[str] = []

    async def current_user(
        token: Annotated[str | None, Header(alias="X-Token")] = None,
    ) -> AsyncIterator[str]:
        if token != "s3cret":
            raise Unauthorized("Bad token")
        events.append("user loaded")
        yield "ada"
        events.append("user released")

    @app.websocket("/rooms/{room_id:int}", name="room")
    async def room(
        websocket: WebSocket,
        room_id: int,
        user: Annotated[str, Depends(current_user)],
        nick: Annotated[str, Query()] = "guest",
        limit: int = 10,
    ) -> None:
        await websocket.accept()
        await websocket.send_json({"room": room_id, "user": user, "nick": nick, "limit": limit})

    assert app.url_for("room", room_id=5) == "/rooms/5"
    headers = {"X-Token": "s3cret"}
    with client.websocket_connect("/rooms/5?nick=al&limit=3", headers=headers) as session:
        assert session.receive_json() == {"room": 5, "user": "ada", "nick": "al", "limit": 3}
    assert events == ["user loaded", "user released"]  # torn down after the handler


def test_failed_injection_rejects_the_handshake_without_logging(
    app: App, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    def current_user(token: Annotated[str | None, Header(alias="X-Token")] = None) -> str:
        if token is None:
            raise Unauthorized("Bad token")
        return token

    @app.websocket("/rooms/{room_id:int}")
    async def room(
        websocket: WebSocket,
        room_id: int,
        limit: int,
        user: Annotated[str, Depends(current_user)],
    ) -> None:
        await websocket.accept()

    with caplog.at_level(logging.ERROR, logger="oakling.error"):
        for path, headers in (
            ("/rooms/1?limit=1", {}),  # 401 from the dependency
            ("/rooms/1", {"X-Token": "t"}),  # missing query parameter: 422
            ("/rooms/1?limit=many", {"X-Token": "t"}),  # not an int: 422
        ):
            with (
                pytest.raises(WebSocketRejected) as rejected,
                client.websocket_connect(path, headers=headers),
            ):
                pass
            assert rejected.value.code == 1008
        with (
            pytest.raises(WebSocketRejected) as rejected,
            client.websocket_connect("/rooms/one?limit=1", headers={"X-Token": "t"}),
        ):
            pass
        assert rejected.value.code == 4404  # the converter does not match
    assert [r for r in caplog.records if r.name == "oakling.error"] == []


def test_sync_dependency_in_a_websocket_handler(app: App, client: TestClient) -> None:
    def settings_name(websocket: WebSocket) -> str:
        return type(websocket).__name__

    @app.websocket("/ws")
    async def handler(websocket: WebSocket, kind: Annotated[str, Depends(settings_name)]) -> None:
        await websocket.accept()
        await websocket.send_text(kind)

    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "WebSocket"


# -- websocket routes and plain HTTP -------------------------------------------------------


def test_http_request_to_a_websocket_route_is_426(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.websocket("/live")
    async def live(websocket: WebSocket) -> None:
        await websocket.accept()

    response = make_client(app).get("/live")
    assert response.status_code == 426
    assert response.headers["upgrade"] == "websocket"
    assert response.json()["detail"] == (
        "This is a websocket route: connect with a websocket client "
        "(and serve the app over ASGI; WSGI has no websockets)"
    )


def test_websocket_connect_needs_asgi() -> None:
    app = App(debug=True)
    with TestClient(app, wsgi=True) as client, pytest.raises(RuntimeError, match="need ASGI"):
        client.websocket_connect("/ws")
