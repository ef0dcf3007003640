"""Clients that misbehave at the connection level: slow, gone mid-request or mid-response,
and websocket frames that are too large or malformed; a stream that breaks mid-response.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import struct
import time

import httpx
import pytest
from tests.integration.conftest import Server

from .conftest import is_granian, parse_replies, request_bytes, still_serves, stored

pytestmark = pytest.mark.server

RECORD = (
    b'{"text":"t","count":1,"price":1.5,"active":true,"tags":[],"scores":{},'
    b'"ident":"12345678-1234-5678-1234-567812345678","when":"2024-01-01T00:00:00Z",'
    b'"day":"2024-01-01","kind":"a","colour":"red","point":{"x":1,"y":2}}'
)


def connect(server: Server, timeout: float = 10) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def eventually(check: object, what: str, timeout: float = 15.0) -> None:
    """Poll ``check()`` until it is true (the server notices a disconnect asynchronously)."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def temp_files(server: Server) -> int:
    return int(httpx.get(f"{server.url}/_temp_files", timeout=5).json()["count"])


def log_count(server: Server, text: str) -> int:
    return server.output().count(text)


# -- slow clients -------------------------------------------------------------------------


def test_body_sent_byte_by_byte_is_served(server: Server) -> None:
    before = stored(server)
    head = request_bytes("POST", "/records", [("Content-Type", "application/json")], RECORD)
    split = head.index(b"\r\n\r\n") + 4
    with connect(server) as sock:
        sock.sendall(head[:split])
        for byte in RECORD:
            sock.sendall(bytes([byte]))
            time.sleep(0.002)
        # meanwhile the server answers others
        still_serves(server)
        [reply] = parse_replies(read_all(sock))
    assert reply.status == 201, reply.text
    assert stored(server) == before + 1


def test_headers_sent_byte_by_byte_do_not_block_others(server: Server) -> None:
    data = request_bytes(headers=[("X-Slow", "s" * 50)])
    with connect(server) as sock:
        for index in range(len(data) - 4):
            sock.sendall(data[index : index + 1])
            if index == 20:
                still_serves(server)
        sock.sendall(data[len(data) - 4 :])
        [reply] = parse_replies(read_all(sock))
    assert reply.status == 200


# -- clients that go away -----------------------------------------------------------------


def test_client_gone_mid_json_body_stores_nothing(server: Server) -> None:
    before = stored(server)
    data = request_bytes("POST", "/records", [("Content-Type", "application/json")], RECORD)
    with connect(server) as sock:
        sock.sendall(data[: len(data) - 40])
    still_serves(server)
    assert stored(server) == before


def test_client_gone_mid_upload_leaves_no_temp_file(server: Server) -> None:
    before = stored(server)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n'
        b'--b\r\nContent-Disposition: form-data; name="document"; filename="a.bin"\r\n\r\n'
        + b"x"
        * 20_000  # over spool_max_size: on disk
    )
    head = (
        b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 60000\r\n\r\n"
    )
    baseline = temp_files(server)  # gunicorn's worker keeps a heartbeat file there
    for _ in range(2):
        with connect(server) as sock:
            sock.sendall(head + body)
            if is_granian(server):
                # NOTE: gunicorn's wsgi.input.read(n) waits for all n bytes, so under WSGI
                # the part never reaches the spool before the client is gone.
                eventually(lambda: temp_files(server) > baseline, "the upload is spooled")
    eventually(lambda: temp_files(server) == baseline, "the spooled upload files are closed")
    assert stored(server) == before
    still_serves(server)


def test_client_gone_mid_response_is_no_error(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(request_bytes(target="/stream/long"))
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # the session's end checks that the server logged no exception for it
    still_serves(server)


# -- a handler whose stream breaks ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/stream/broken", "/stream/abroken"])
def test_stream_that_raises_is_cut_short_and_logged_once(server: Server, path: str) -> None:
    marker = "RuntimeError: broken stream on purpose"
    logged = log_count(server, marker)
    with connect(server) as sock:
        sock.sendall(request_bytes(target=path))
        data = read_all(sock)  # the server closes the connection
    [reply] = parse_replies(data)
    assert reply.status == 200  # the headers were sent before the error
    assert reply.body.startswith(b"first chunk\n")
    assert not reply.complete  # no last chunk: the client can tell it is truncated
    eventually(lambda: log_count(server, marker) > logged, "the error is logged")
    still_serves(server)  # a later request: by now a second log of the error would show
    assert log_count(server, marker) == logged + 1
    still_serves(server)


# -- websockets ---------------------------------------------------------------------------


def ws_connect(server: Server, path: str = "/ws/echo") -> socket.socket:
    sock = connect(server, timeout=5)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def frame(payload: bytes, opcode: int = 1, *, mask: bool = True, fin: bool = True) -> bytes:
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", first, (0x80 if mask else 0) | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", first, (0x80 if mask else 0) | 126, length)
    else:
        header = struct.pack("!BBQ", first, (0x80 if mask else 0) | 127, length)
    if not mask:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close_code(sock: socket.socket) -> int | None:
    """Read frames until a close frame (its code) or the end of the connection (None)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
            while len(data) >= 2:
                opcode, length = data[0] & 0x0F, data[1] & 0x7F
                offset = 2
                if length == 126:
                    (length,) = struct.unpack("!H", data[2:4])
                    offset = 4
                elif length == 127:
                    (length,) = struct.unpack("!Q", data[2:10])
                    offset = 10
                if len(data) < offset + length:
                    break
                payload, data = data[offset : offset + length], data[offset + length :]
                if opcode == 8:
                    return int(struct.unpack("!H", payload[:2])[0]) if payload else 1005
    except (ConnectionResetError, TimeoutError):
        pass
    return None


def test_websocket_echo_works(granian: Server) -> None:
    with ws_connect(granian) as sock:
        sock.sendall(frame(b"hi"))
        reply = sock.recv(100)
    assert reply[2:] == b"echo: hi"


WS_BAD = {
    # granian closes with an empty close frame (1005) on a protocol error
    "unmasked client frame": (frame(b"hi", mask=False), {1005}),
    "reserved opcode 3": (frame(b"hi", opcode=3), {1005}),
    "RSV bits set": (bytes([0xF1]) + frame(b"hi")[1:], {1005}),
    "invalid UTF-8 text": (frame(b"\xff\xfe"), {1005}),
    "fragmented control frame": (frame(b"", opcode=9, fin=False), {1005}),
    "continuation without a start": (frame(b"hi", opcode=0), {1005}),
    "close with a bad code": (frame(struct.pack("!H", 999), opcode=8), {1002, 1005, None}),
    "2 MiB message": (frame(b"x" * (2 << 20)), {1009, 1000, None}),
}


@pytest.mark.parametrize("name", list(WS_BAD))
def test_malformed_websocket_frame_closes_the_connection(granian: Server, name: str) -> None:
    data, codes = WS_BAD[name]
    with ws_connect(granian) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        code = close_code(sock)
    assert code in codes, code
    still_serves(granian)


def test_websocket_bad_json_closes_with_1007(granian: Server) -> None:
    with ws_connect(granian, "/ws/json") as sock:
        sock.sendall(frame(b'{"x": "not an int"}'))
        assert close_code(sock) == 1007
    still_serves(granian)


def test_websocket_over_wsgi_is_426(gunicorn: Server) -> None:
    with connect(gunicorn) as sock:
        sock.sendall(
            b"GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        sock.shutdown(socket.SHUT_WR)
        [reply] = parse_replies(read_all(sock))
    assert reply.status == 426
    assert "websocket" in reply.text
