"""The same app over real HTTP on granian (ASGI and WSGI), uvicorn and gunicorn.

Each test runs once per kind of server (see ``conftest.py``); the websocket tests
run on the ASGI servers, and the WSGI servers are checked to refuse websockets.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import signal
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from .conftest import KINDS, Server, require, start, stop, unexpected_errors

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.server

MAX_BODY_SIZE = 1024  # serverapp.MAX_BODY_SIZE
FILE_BYTES = bytes(range(256)) * 8  # serverapp.FILE_BYTES
BIG_FILE_BYTES = bytes((n * 7 + n // 256) % 256 for n in range(200_000))  # serverapp's
STREAM_PAUSE = 0.2  # serverapp.STREAM_PAUSE


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Check that ``response`` is a problem details document with ``status``; return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


# --- routing -------------------------------------------------------------------------


def test_plaintext(server: Server) -> None:
    response = server.client.get("/plain")
    assert response.status_code == 200
    assert response.text == "hello, world"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "12"


def test_unknown_path_is_404_problem(server: Server) -> None:
    body = problem(server.client.get("/nope"), 404)
    assert body["title"] == "Not Found"
    assert "/nope" in body["detail"]


def test_wrong_method_is_405_with_allow(server: Server) -> None:
    response = server.client.post("/plain", content=b"x")
    problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_options_lists_the_methods(server: Server) -> None:
    response = server.client.options("/plain")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.content == b""


def test_head_sends_headers_without_body(server: Server) -> None:
    response = server.client.head("/plain")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers.get("content-length", "12") == "12"
    # the connection is still usable: no stray body bytes were sent
    assert server.client.get("/plain").text == "hello, world"


def test_missing_trailing_slash_is_308(server: Server) -> None:
    response = server.client.get("/slash", params={"q": "a b"})
    assert response.status_code == 308
    assert response.headers["location"] == "/slash/?q=a+b"
    followed = server.client.get("/slash", params={"q": "a b"}, follow_redirects=True)
    assert followed.json() == {"q": "a b"}


def test_json(server: Server) -> None:
    response = server.client.get("/json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"answer": 42, "items": [1, 2, 3], "text": "héllo"}
    assert int(response.headers["content-length"]) == len(response.content)


# --- typed parameters ----------------------------------------------------------------


def test_path_and_query_are_typed(server: Server) -> None:
    response = server.client.get(
        "/items/7",
        params=[("q", "café au lait"), ("limit", "5"), ("flags", "true"), ("flags", "0")],
    )
    assert response.status_code == 200
    assert response.json() == {
        "item_id": 7,
        "q": "café au lait",
        "limit": 5,
        "flags": [True, False],
    }
    assert server.client.get("/items/7").json() == {
        "item_id": 7,
        "q": None,
        "limit": 10,
        "flags": None,
    }


def test_path_converter_mismatch_is_404(server: Server) -> None:
    problem(server.client.get("/items/seven"), 404)


def test_bad_path_and_query_values_are_one_422(server: Server) -> None:
    response = server.client.get("/items/5000", params=[("limit", "0"), ("flags", "maybe")])
    body = problem(response, 422)
    locations = sorted(tuple(error["loc"]) for error in body["errors"])
    assert locations == [("path", "item_id"), ("query", "flags"), ("query", "limit")]


# --- bodies --------------------------------------------------------------------------


def test_post_struct_is_201(server: Server) -> None:
    response = server.client.post("/items", json={"name": "oak", "price": 9.5, "tags": ["tree"]})
    assert response.status_code == 201
    assert response.json() == {"name": "oak", "price": 9.5, "tags": ["tree"]}


def test_post_async_handler(server: Server) -> None:
    response = server.client.post("/echo", json={"name": "ash", "price": 1})
    assert response.status_code == 200
    assert response.json() == {"name": "ash", "price": 1.0, "tags": []}


def test_post_invalid_struct_is_422(server: Server) -> None:
    body = problem(server.client.post("/items", json={"name": "oak", "price": -1}), 422)
    assert [error["loc"] for error in body["errors"]] == [["body", "price"]]
    body = problem(server.client.post("/items", json={"price": 1}), 422)
    [error] = body["errors"]
    assert error["loc"][0] == "body"
    assert "`name`" in error["msg"]


def test_post_empty_body_is_422(server: Server) -> None:
    body = problem(server.client.post("/items", content=b""), 422)
    assert [error["loc"] for error in body["errors"]] == [["body"]]


def test_malformed_json_is_400(server: Server) -> None:
    response = server.client.post(
        "/items", content=b'{"name": "oak", "price": ', headers={"Content-Type": "application/json"}
    )
    body = problem(response, 400)
    assert "JSON" in body["detail"]


def test_json_nested_too_deep_is_400(server: Server) -> None:
    response = server.client.post(
        "/items", content=b"[" * 100 + b"]" * 100, headers={"Content-Type": "application/json"}
    )
    assert "OAKLING_MAX_JSON_DEPTH" in problem(response, 400)["detail"]


def test_form_body_fills_the_struct(server: Server) -> None:
    response = server.client.post(
        "/items", data={"name": "form", "price": "3.5", "tags": ["a", "b"]}
    )
    assert response.status_code == 201
    assert response.json() == {"name": "form", "price": 3.5, "tags": ["a", "b"]}


def test_unsupported_content_type_is_415(server: Server) -> None:
    response = server.client.post(
        "/items", content=b"name=oak", headers={"Content-Type": "text/plain"}
    )
    problem(response, 415)


def one_shot(server: Server) -> httpx.Client:
    """A client of its own, for requests after which the server may drop the connection.

    A server may close a keep-alive connection after a response to a request whose
    body the app did not read (gunicorn drains at most 64 KiB of it, then closes
    without saying so); the shared client must not inherit that connection.
    """
    return httpx.Client(base_url=server.url, timeout=10)


@pytest.mark.parametrize("path", ["/items", "/echo"], ids=["sync", "async"])
def test_body_over_the_limit_with_content_length_is_413(server: Server, path: str) -> None:
    payload = json.dumps({"name": "x" * 2000, "price": 1}).encode()
    assert len(payload) > MAX_BODY_SIZE
    with one_shot(server) as client:
        response = client.post(path, content=payload, headers={"Content-Type": "application/json"})
    body = problem(response, 413)
    assert "OAKLING_MAX_BODY_SIZE" in body["detail"]
    assert server.client.get("/plain").status_code == 200


def test_declared_length_over_the_limit_is_refused_before_the_body(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n{"
        )  # and not one byte more: the answer must not wait for the body
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, f"connection closed after {head!r}"
            head += chunk
    assert head.startswith(b"HTTP/1.1 413 "), head


def _chunked(payload: bytes, size: int = 256) -> Iterator[bytes]:
    for offset in range(0, len(payload), size):
        yield payload[offset : offset + size]


@pytest.mark.parametrize(
    ("path", "status"), [("/items", 201), ("/echo", 200)], ids=["sync", "async"]
)
def test_chunked_body_under_the_limit_is_read(server: Server, path: str, status: int) -> None:
    payload = json.dumps({"name": "y" * 500, "price": 2}).encode()
    request = server.client.build_request(
        "POST", path, content=_chunked(payload), headers={"Content-Type": "application/json"}
    )
    assert request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in request.headers
    response = server.client.send(request)
    assert response.status_code == status, response.text
    assert response.json()["name"] == "y" * 500


@pytest.mark.parametrize("path", ["/items", "/echo"], ids=["sync", "async"])
def test_chunked_body_over_the_limit_is_413(server: Server, path: str) -> None:
    payload = json.dumps({"name": "z" * 3000, "price": 3}).encode()
    with one_shot(server) as client:
        request = client.build_request(
            "POST", path, content=_chunked(payload), headers={"Content-Type": "application/json"}
        )
        assert request.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in request.headers
        body = problem(client.send(request), 413)
    assert "OAKLING_MAX_BODY_SIZE" in body["detail"]
    assert server.client.get("/plain").status_code == 200


# --- security and headers ------------------------------------------------------------


def test_unknown_host_is_400(server: Server) -> None:
    response = server.client.get("/plain", headers={"Host": "evil.example"})
    body = problem(response, 400)
    assert "OAKLING_ALLOWED_HOSTS" in body["detail"]
    assert "hello" not in response.text
    assert server.client.get("/plain", headers={"Host": f"localhost:{server.port}"}).is_success


def test_forwarded_host_from_an_untrusted_peer_is_ignored(server: Server) -> None:
    response = server.client.get("/plain", headers={"X-Forwarded-Host": "evil.example"})
    assert response.status_code == 200
    response = server.client.get(
        "/plain", headers={"Host": "evil.example", "X-Forwarded-Host": "localhost"}
    )
    problem(response, 400)


def test_request_id_is_echoed_or_generated(server: Server) -> None:
    response = server.client.get("/plain", headers={"X-Request-ID": "client-id.42_a"})
    assert response.headers["x-request-id"] == "client-id.42_a"
    generated = server.client.get("/plain").headers["x-request-id"]
    assert generated
    insane = server.client.get("/plain", headers={"X-Request-ID": "no spaces, please"})
    assert insane.headers["x-request-id"] not in ("", "no spaces, please", generated)
    body = problem(server.client.get("/nope", headers={"X-Request-ID": "trace-404"}), 404)
    assert body["request_id"] == "trace-404"


def test_server_and_date_headers_come_from_the_server(server: Server) -> None:
    response = server.client.get("/plain")
    assert response.headers.get_list("server") == [server.kind.server_header]
    dates = response.headers.get_list("date")
    assert len(dates) == 1, dates
    sent = email.utils.parsedate_to_datetime(dates[0])
    assert abs((datetime.now(UTC) - sent).total_seconds()) < 60


@pytest.mark.parametrize("path", ["/boom", "/aboom"])
def test_500_hides_the_error_and_the_server_goes_on(server: Server, path: str) -> None:
    response = server.client.get(path)
    body = problem(response, 500)
    for secret in ("Traceback", "RuntimeError", "0xDEADBEEF", "serverapp", ".py"):
        assert secret not in response.text
    assert body["title"] == "Internal Server Error"
    assert server.client.get("/plain").text == "hello, world"
    assert httpx.get(f"{server.url}/json", timeout=10).status_code == 200  # a new connection


def test_percent_encoded_path_and_query(server: Server) -> None:
    assert server.client.get("/hello/Z%C3%BCrich%20x").json() == {"name": "Zürich x"}
    assert server.client.get("/hello/%E2%82%AC+").json() == {"name": "€+"}
    response = server.client.get("/items/7", params={"q": "Zürich/€ & a+b"})
    assert response.json()["q"] == "Zürich/€ & a+b"
    assert "/café" in problem(server.client.get("/caf%C3%A9"), 404)["detail"]


@pytest.mark.parametrize("target", ["/hello/%FF", "/items/7?q=%FF", "/items/7?q=%ZZ%C3"])
def test_bad_percent_encoding_is_400(server: Server, target: str) -> None:
    problem(server.client.get(target), 400)


def test_concurrent_requests(server: Server) -> None:
    def fetch(number: int) -> tuple[int, object]:
        with one_shot(server) as client:
            if number % 2:
                return number, client.get(f"/items/{number}").json()["item_id"]
            return number, client.get("/stream/sync").text

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(fetch, range(8)))
    streamed = "".join(f"sync chunk {n}\n" for n in range(3))
    for number, result in results:
        assert result == (number if number % 2 else streamed)


# --- streaming -----------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_streaming_response_arrives_in_chunks(server: Server, flavour: str) -> None:
    arrivals: list[tuple[float, bytes]] = []
    with server.client.stream("GET", f"/stream/{flavour}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert "content-length" not in response.headers
        assert response.headers.get("transfer-encoding") == "chunked"
        arrivals.extend((time.monotonic(), chunk) for chunk in response.iter_raw())
    body = b"".join(chunk for _, chunk in arrivals)
    assert body == b"".join(f"{flavour} chunk {n}\n".encode() for n in range(3))
    # the first chunk was not held back until the generator finished (2 pauses)
    assert len(arrivals) >= 2
    assert arrivals[-1][0] - arrivals[0][0] >= STREAM_PAUSE


def test_streaming_head_has_no_body(server: Server) -> None:
    response = server.client.head("/stream/sync")
    assert response.status_code == 200
    assert response.content == b""
    assert server.client.get("/plain").text == "hello, world"


def test_client_disconnect_closes_the_generator(server: Server) -> None:
    tag = uuid.uuid4().hex
    with one_shot(server) as client, client.stream("GET", f"/stream/endless/{tag}") as response:
        chunks = response.iter_raw()
        next(chunks)
        next(chunks)
    deadline = time.monotonic() + 5
    while tag not in server.client.get("/stream/closed").json():
        assert time.monotonic() < deadline, "the generator was not closed"
        time.sleep(0.02)


def _parse_events(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            fields[name] = f"{fields[name]}\n{value}" if name in fields else value
        if fields:
            events.append(fields)
    return events


def test_server_sent_events(server: Server) -> None:
    with server.client.stream("GET", "/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache"
        assert "content-length" not in response.headers
        text = response.read().decode()
    assert _parse_events(text) == [
        {"data": "plain text"},
        {"data": '{"n":1}'},
        {"event": "multi", "id": "e2", "data": "two\nlines"},
        {"event": "finished", "id": "e3", "retry": "5000", "data": "done"},
    ]


def test_server_sent_events_keep_alive_pings(asgi_server: Server) -> None:
    with asgi_server.client.stream("GET", "/events/ping") as response:
        text = response.read().decode()
    assert text.startswith("data: first\n\n: ping\n\n")
    assert text.endswith("data: second\n\n")
    assert [event["data"] for event in _parse_events(text)] == ["first", "second"]


# --- files ---------------------------------------------------------------------------


def test_file_is_sent_with_validators(server: Server) -> None:
    response = server.client.get("/file")
    assert response.status_code == 200
    assert response.content == FILE_BYTES
    assert response.headers["content-length"] == str(len(FILE_BYTES))
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"].startswith('"')
    modified = email.utils.parsedate_to_datetime(response.headers["last-modified"])
    assert modified <= datetime.now(UTC)


def test_file_head(server: Server) -> None:
    get = server.client.get("/file")
    head = server.client.head("/file")
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-length", "etag", "last-modified", "content-type"):
        assert head.headers[name] == get.headers[name]


def test_file_not_modified(server: Server) -> None:
    etag = server.client.get("/file").headers["etag"]
    response = server.client.get("/file", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert server.client.get("/file", headers={"If-None-Match": '"other"'}).status_code == 200


def test_file_range(server: Server) -> None:
    response = server.client.get("/file", headers={"Range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.content == FILE_BYTES[10:20]
    assert response.headers["content-range"] == f"bytes 10-19/{len(FILE_BYTES)}"
    assert response.headers["content-length"] == "10"
    suffix = server.client.get("/file", headers={"Range": "bytes=-5"})
    assert suffix.status_code == 206
    assert suffix.content == FILE_BYTES[-5:]


def test_file_if_modified_since(server: Server) -> None:
    modified = server.client.get("/file").headers["last-modified"]
    assert server.client.get("/file", headers={"If-Modified-Since": modified}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert server.client.get("/file", headers={"If-Modified-Since": old}).status_code == 200


def test_file_several_ranges_give_the_whole_file(server: Server) -> None:
    response = server.client.get("/file", headers={"Range": "bytes=0-1,5-6"})
    assert response.status_code == 200
    assert response.content == FILE_BYTES


def test_big_file_whole_and_range_across_chunks(server: Server) -> None:
    response = server.client.get("/file/big")
    assert response.status_code == 200
    assert response.content == BIG_FILE_BYTES
    assert response.headers["content-length"] == str(len(BIG_FILE_BYTES))
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"gro_e datei.bin\"; filename*=UTF-8''gro%C3%9Fe%20datei.bin"
    )
    ranged = server.client.get("/file/big", headers={"Range": "bytes=65530-131080"})
    assert ranged.status_code == 206
    assert ranged.content == BIG_FILE_BYTES[65530:131081]
    assert ranged.headers["content-range"] == f"bytes 65530-131080/{len(BIG_FILE_BYTES)}"
    head = server.client.head("/file/big")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(BIG_FILE_BYTES))


def test_file_unsatisfiable_range_is_416(server: Server) -> None:
    response = server.client.get("/file", headers={"Range": f"bytes={len(FILE_BYTES)}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(FILE_BYTES)}"
    assert server.client.get("/plain").text == "hello, world"


# --- uploads -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [100, 10_000], ids=["in-memory", "spooled"])
def test_multipart_upload_round_trip(server: Server, size: int) -> None:
    content = bytes(range(256)) * (size // 256) + b"\r\n--not-a-boundary\r\n"
    response = server.client.post(
        "/upload",
        data={"title": "Quarterly report"},
        files={"document": ("../../etc/report.csv", content, "text/csv")},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "title": "Quarterly report",
        "filename": "report.csv",
        "content_type": "text/csv",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


def test_chunked_multipart_upload(server: Server) -> None:
    content = b"chunked upload\n" * 400
    request = server.client.build_request(
        "POST", "/upload", data={"title": "t"}, files={"document": ("c.txt", content)}
    )
    body = request.read()
    response = server.client.post(
        "/upload",
        content=_chunked(body, 700),
        headers={"Content-Type": request.headers["content-type"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()


def test_upload_missing_file_is_422(server: Server) -> None:
    body = problem(server.client.post("/upload", data={"title": "t"}, files={"x": b"y"}), 422)
    assert [error["loc"] for error in body["errors"]] == [["file", "document"]]


def test_upload_over_the_limit_is_413(server: Server) -> None:
    with one_shot(server) as client:
        response = client.post(
            "/upload", data={"title": "t"}, files={"document": ("a.bin", b"x" * 70_000)}
        )
    assert "OAKLING_MAX_UPLOAD_SIZE" in problem(response, 413)["detail"]
    assert server.client.get("/plain").status_code == 200


@pytest.mark.parametrize(
    "body",
    [b"--x\r\nbroken", b"no boundary at all"],
    ids=["cut-short", "no-parts"],
)
def test_broken_multipart_is_400(server: Server, body: bytes) -> None:
    response = server.client.post(
        "/upload", content=body, headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    problem(response, 400)


# --- websockets ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ws() -> SimpleNamespace:
    """The ``websockets`` sync client: ``connect``, ``ConnectionClosed``, ``InvalidStatus``."""
    require("websockets")
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    return SimpleNamespace(
        connect=connect, ConnectionClosed=ConnectionClosed, InvalidStatus=InvalidStatus
    )


def test_websocket_route_over_plain_http_is_426(server: Server) -> None:
    response = server.client.get("/ws")
    body = problem(response, 426)
    assert response.headers["upgrade"].lower() == "websocket"
    assert "connect with a websocket client" in body["detail"]
    assert "ASGI" in body["detail"]


def test_websocket_text_round_trip(asgi_server: Server, ws: SimpleNamespace) -> None:
    with ws.connect(f"{asgi_server.ws_url}/ws", open_timeout=5, close_timeout=2) as connection:
        for text in ("hello", "héllo ✓", ""):
            connection.send(text)
            assert connection.recv(timeout=5) == f"echo: {text}"


def test_websocket_json_round_trip(asgi_server: Server, ws: SimpleNamespace) -> None:
    url = f"{asgi_server.ws_url}/ws/json"
    with ws.connect(url, open_timeout=5, close_timeout=2) as connection:
        connection.send(json.dumps({"x": 1, "y": -2}))
        assert json.loads(connection.recv(timeout=5)) == {"x": 2, "y": -4}
        connection.send('{"x": "one"}')
        with pytest.raises(ws.ConnectionClosed) as closed:
            connection.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1007


def test_websocket_message_over_the_limit_closes_1009(
    asgi_server: Server, ws: SimpleNamespace
) -> None:
    with ws.connect(f"{asgi_server.ws_url}/ws", open_timeout=5, close_timeout=2) as connection:
        connection.send("x" * (MAX_BODY_SIZE + 1))
        with pytest.raises(ws.ConnectionClosed) as closed:
            connection.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


def test_unknown_websocket_path_is_refused(asgi_server: Server, ws: SimpleNamespace) -> None:
    with pytest.raises(ws.InvalidStatus) as refused:
        ws.connect(f"{asgi_server.ws_url}/nope", open_timeout=5)
    assert refused.value.response.status_code == 403


def test_websocket_from_unknown_host_is_refused(asgi_server: Server, ws: SimpleNamespace) -> None:
    # the handshake goes to our server, with "Host: evil.example:PORT"
    with (
        socket.create_connection(("127.0.0.1", asgi_server.port), timeout=5) as sock,
        pytest.raises(ws.InvalidStatus) as refused,
    ):
        ws.connect(f"ws://evil.example:{asgi_server.port}/ws", sock=sock, open_timeout=5)
    # closed (1008) before the handshake is accepted: ASGI servers answer 403
    assert refused.value.response.status_code == 403


def test_websocket_handshake_on_wsgi_is_426(wsgi_server: Server, ws: SimpleNamespace) -> None:
    with pytest.raises(ws.InvalidStatus) as refused:
        ws.connect(f"{wsgi_server.ws_url}/ws", open_timeout=5)
    response = refused.value.response
    assert response.status_code == 426
    assert response.headers["Upgrade"].lower() == "websocket"
    assert b"serve the app over ASGI" in response.body


# --- lifespan ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_start_up_lifespan_and_shutdown_run(kind: str, tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    server = start(KINDS[kind], tmp_path / "server.log", {"SERVERAPP_MARKERS": str(markers)})
    try:
        for _ in range(2):  # once, before the first request (by the lifespan or by app.wsgi)
            assert server.client.get("/lifespan").json() == {"startups": 1, "resource": "open"}
        assert list(markers.iterdir()) == []
    finally:
        status = stop(server)
    assert status in (0, -signal.SIGTERM), server.output()
    assert unexpected_errors(server.output()) == [], server.output()
    left = sorted(path.name for path in markers.iterdir())
    assert left == ["lifespan-exit", "shutdown"], server.output()
