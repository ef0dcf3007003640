"""Malformed HTTP/1.1 sent over raw sockets: request lines, headers, framing, smuggling.

httpx would refuse to send most of these, so each is built byte by byte. Many
never reach oakling: the server (granian or gunicorn) answers them itself; the
tables say what each server does, and every case checks that nobody answers 500,
nothing was stored and the server still answers the next request.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass

import pytest
from tests.integration.conftest import Server

from .conftest import Reply, is_granian, parse_replies, raw, request_bytes, still_serves, stored

pytestmark = pytest.mark.server

JSON = ("Content-Type", "application/json")
BODY = b'{"a":1}'


@dataclass(frozen=True)
class Case:
    """One malformed request and what each server answers."""

    data: bytes
    granian: tuple[int, str]  # (status, text in the body; "" when the server sends none)
    gunicorn: tuple[int, str]
    half_close: bool = False  # the client stops sending after the data (a cut-short body)


def post(headers: list[tuple[str, str]], body: bytes = BODY, **kw: object) -> bytes:
    return request_bytes("POST", "/json", [JSON, *headers], body, length=False, **kw)  # type: ignore[arg-type]


def chunked(body: bytes) -> bytes:
    return post([("Transfer-Encoding", "chunked")], body)


SERVER_400 = (400, "")  # granian (hyper) answers 400 with an empty body
NOT_UTF8 = "not valid UTF-8"
PATH_NOT_UTF8 = "The request path is not valid UTF-8"

CASES: dict[str, Case] = {
    # -- request line ------------------------------------------------------------------
    "garbage request line": Case(b"HELLO\r\n\r\n", SERVER_400, (400, "Invalid Request Line")),
    "no HTTP version": Case(
        b"GET /plain\r\nHost: 127.0.0.1\r\n\r\n", SERVER_400, (400, "Invalid Request Line")
    ),
    "unknown HTTP version": Case(
        request_bytes(version=b"HTTP/9.9"), SERVER_400, (400, "Invalid HTTP Version")
    ),
    "space in target": Case(
        request_bytes(target=b"/pl ain"), SERVER_400, (400, "Invalid HTTP Version")
    ),
    "lower-case method": Case(
        request_bytes("get"), (405, "use one of: GET, HEAD, OPTIONS"), (400, "Invalid Method")
    ),
    "unknown method": Case(
        request_bytes("FOO"), (405, "use one of: GET, HEAD, OPTIONS"), (405, "use one of: GET")
    ),
    "target without slash": Case(
        request_bytes(target="plain"), (404, "No route for GET"), (400, "Invalid Request Line")
    ),
    "asterisk target": Case(
        request_bytes("OPTIONS", "*"), (404, "No route for OPTIONS *"), (404, "No route")
    ),
    "CONNECT authority": Case(
        request_bytes("CONNECT", "evil.example:443"), (404, "No route"), (404, "No route")
    ),
    "URI over 64 KiB": Case(
        request_bytes(target="/plain?" + "a" * 70_000), (414, ""), (414, "Request Line is too")
    ),
    # -- headers -----------------------------------------------------------------------
    "header without colon": Case(
        request_bytes(headers=[(b"BadHeader", b"")]).replace(b"BadHeader: ", b"BadHeader"),
        SERVER_400,
        (400, "Invalid HTTP Header"),
    ),
    "space before colon": Case(
        request_bytes(headers=[(b"X-A ", b"1")]).replace(b"X-A : ", b"X-A : "),
        SERVER_400,
        (400, "Invalid HTTP header name"),
    ),
    "obsolete line folding": Case(
        request_bytes(headers=[(b"X-A", b"1\r\n  folded")]), SERVER_400, (400, "line folding")
    ),
    "NUL in a header value": Case(
        request_bytes(headers=[(b"X-A", b"a\x00b")]), SERVER_400, (400, "Invalid HTTP Header")
    ),
    "control byte in a header value": Case(
        request_bytes(headers=[(b"X-A", b"a\x01b")]), SERVER_400, (400, "Invalid HTTP Header")
    ),
    "300 headers": Case(
        request_bytes(headers=[(f"X-H{i}", "v") for i in range(300)]),
        (431, ""),
        (431, "Request Header Fields Too Large"),
    ),
    "one 1 MiB header": Case(
        request_bytes(headers=[("X-Big", "a" * (1 << 20))]),
        (431, ""),
        (431, "Request Header Fields Too Large"),
    ),
    "raw UTF-8 in a header value": Case(
        request_bytes(headers=[(b"X-A", "é".encode())]), (200, "hello"), (200, "hello")
    ),
    "overlong UTF-8 in a header value": Case(
        request_bytes(target="/cookie", headers=[(b"X-A", b"\xc0\xaf")]), (200, "{"), (200, "{")
    ),
    "overlong UTF-8 in a cookie": Case(
        request_bytes(target="/cookie", headers=[(b"Cookie", b"session=\xc0\xaf")]),
        (200, '"session":"'),
        (200, '"session":"'),
    ),
    # granian passes an empty Host on and oakling falls back to the server's address
    # (here 127.0.0.1, an allowed host); gunicorn sets HTTP_HOST to "" and it is refused.
    "empty Host header": Case(
        b"GET /plain HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n",
        (200, "hello"),
        (400, "Invalid Host header ''"),
    ),
    "two Content-Type headers": Case(
        request_bytes("POST", "/json", [JSON, ("Content-Type", "text/plain")], BODY, length=True),
        (201, '"keys":1'),  # the first one counts
        (400, "CONTENT-TYPE"),
    ),
    "chunk extension": Case(
        chunked(b'7;ext=1\r\n{"a":1}\r\n0\r\n\r\n'), (201, '"keys":1'), (201, '"keys":1')
    ),
    # -- path and query ----------------------------------------------------------------
    "raw NUL in query": Case(
        request_bytes(target=b"/search?q=a\x00b"), SERVER_400, (400, "Invalid Request Line")
    ),
    "raw overlong UTF-8 in query": Case(
        request_bytes(target=b"/search?q=\xc0\xae"), SERVER_400, (400, "Invalid Request Line")
    ),
    "raw NUL in path": Case(
        request_bytes(target=b"/hello/a\x00b"), SERVER_400, (400, "Invalid Request Line")
    ),
    "encoded NUL in path": Case(
        request_bytes(target="/hello/a%00b"),
        (400, "contains a NUL byte"),
        (400, "contains a NUL byte"),
    ),
    "invalid percent-escape in path": Case(
        request_bytes(target="/hello/%zz"), (200, '"%zz"'), (200, '"%zz"')
    ),
    "encoded non-UTF-8 byte in path": Case(
        request_bytes(target="/hello/%ff"), (400, PATH_NOT_UTF8), (400, PATH_NOT_UTF8)
    ),
    "encoded overlong UTF-8 in path": Case(
        request_bytes(target="/hello/%c0%af"), (400, PATH_NOT_UTF8), (400, PATH_NOT_UTF8)
    ),
    "raw overlong UTF-8 in path": Case(
        request_bytes(target=b"/hello/\xc0\xaf"), SERVER_400, (400, "Invalid Request Line")
    ),
    "invalid percent-escape in query": Case(
        request_bytes(target="/search?q=%zz"), (200, '"%zz"'), (200, '"%zz"')
    ),
    "encoded non-UTF-8 byte in query": Case(
        request_bytes(target="/search?q=%ff"), (400, NOT_UTF8), (400, NOT_UTF8)
    ),
    "encoded overlong UTF-8 in query": Case(
        request_bytes(target="/search?q=%c0%ae"), (400, NOT_UTF8), (400, NOT_UTF8)
    ),
    "encoded NUL in query": Case(
        request_bytes(target="/search?q=a%00b"), (200, r'"a\u0000b"'), (200, r'"a\u0000b"')
    ),
    "wrong query type": Case(
        request_bytes(target="/search?page=two"), (422, "page"), (422, "page")
    ),
    # -- Content-Length ----------------------------------------------------------------
    "Content-Length longer than the body": Case(
        post([("Content-Length", "100")]), (499, ""), (499, ""), half_close=True
    ),
    "Content-Length shorter than the body": Case(
        post([("Content-Length", "3")]),
        (400, "Malformed JSON in request body"),
        (400, "Malformed JSON in request body"),
    ),
    "Content-Length not a number": Case(
        post([("Content-Length", "abc")]), SERVER_400, (400, "CONTENT-LENGTH")
    ),
    "negative Content-Length": Case(
        post([("Content-Length", "-1")]), SERVER_400, (400, "CONTENT-LENGTH")
    ),
    "Content-Length with a plus sign": Case(
        post([("Content-Length", "+7")]), SERVER_400, (400, "CONTENT-LENGTH")
    ),
    "two different Content-Lengths": Case(
        post([("Content-Length", "7"), ("Content-Length", "8")]),
        SERVER_400,
        (400, "CONTENT-LENGTH"),
    ),
    "two equal Content-Lengths": Case(
        post([("Content-Length", "7"), ("Content-Length", "7")]),
        (201, '"keys":1'),
        (400, "CONTENT-LENGTH"),
    ),
    "Content-Length of 23 digits": Case(
        post([("Content-Length", "9" * 23)]), SERVER_400, (413, "limit of 4096 bytes")
    ),
    "declared length over the limit": Case(
        post([("Content-Length", "100000")]),
        (413, "limit of 4096 bytes"),
        (413, "limit of 4096 bytes"),
    ),
    "body over the limit": Case(
        request_bytes("POST", "/json", [JSON], b'{"a":"' + b"x" * 5000 + b'"}'),
        (413, "limit of 4096 bytes"),
        (413, "limit of 4096 bytes"),
    ),
    "POST without a length": Case(post([], b""), (422, "Field required"), (422, "Field required")),
    # -- chunked framing ---------------------------------------------------------------
    "chunk size not hex": Case(
        chunked(b'zz\r\n{"a":1}\r\n0\r\n\r\n'),
        (499, ""),
        (400, "InvalidChunkSize"),
        half_close=True,
    ),
    "chunk longer than its size": Case(
        chunked(b'3\r\n{"a":1}\r\n0\r\n\r\n'),
        (499, ""),
        (400, "ChunkMissingTerminator"),
        half_close=True,
    ),
    "chunk shorter than its size": Case(
        chunked(b'ff\r\n{"a":1}\r\n0\r\n\r\n'), (499, ""), (499, ""), half_close=True
    ),
    "chunk without its CRLF": Case(
        chunked(b'7\r\n{"a":1}XX0\r\n\r\n'),
        (499, ""),
        (400, "ChunkMissingTerminator"),
        half_close=True,
    ),
    "no last chunk": Case(chunked(b'7\r\n{"a":1}\r\n'), (499, ""), (499, ""), half_close=True),
    "chunk size of 20 hex digits": Case(
        chunked(b"f" * 20 + b'\r\n{"a":1}\r\n0\r\n\r\n'),
        (499, ""),
        (499, ""),  # gunicorn takes it as a huge chunk and waits for it
        half_close=True,
    ),
    "chunked body over the limit": Case(
        chunked(b"1388\r\n" + b"x" * 5000 + b"\r\n0\r\n\r\n"),
        (413, "limit of 4096 bytes"),
        (413, "limit of 4096 bytes"),
    ),
    "chunked on HTTP/1.0": Case(
        post([("Transfer-Encoding", "chunked")], b'7\r\n{"a":1}\r\n0\r\n\r\n', version=b"HTTP/1.0"),
        SERVER_400,
        (400, "TRANSFER-ENCODING"),
    ),
    # -- Transfer-Encoding variants ------------------------------------------------------
    "Transfer-Encoding: xchunked": Case(
        post([("Transfer-Encoding", "xchunked")]), SERVER_400, (501, "xchunked")
    ),
    "Transfer-Encoding: chunked, identity": Case(
        post([("Transfer-Encoding", "chunked, identity")], b'7\r\n{"a":1}\r\n0\r\n\r\n'),
        SERVER_400,
        (400, "TRANSFER-ENCODING"),
    ),
    "two Transfer-Encoding headers": Case(
        post(
            [("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "identity")],
            b'7\r\n{"a":1}\r\n0\r\n\r\n',
        ),
        SERVER_400,
        (400, "TRANSFER-ENCODING"),
    ),
    # Leading white space is optional white space (RFC 9110 §5.6.3): both accept it.
    "Transfer-Encoding with a tab": Case(
        post([("Transfer-Encoding", "\tchunked")], b'7\r\n{"a":1}\r\n0\r\n\r\n'),
        (201, '"keys":1'),
        (201, '"keys":1'),
    ),
}


def check(reply: Reply | None, expected: tuple[int, str], server: Server) -> None:
    assert reply is not None, f"{server.kind.name} sent no response"
    status, text = expected
    assert reply.status == status, (reply.status, reply.text[:300])
    assert reply.status != 500
    assert "Traceback" not in reply.text
    if text:
        assert text in reply.text, reply.text[:300]
    if reply.header("content-type") == "application/problem+json":
        problem = json.loads(reply.body)
        assert problem["status"] == status
        assert problem["detail"]


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_request(server: Server, name: str) -> None:
    case = CASES[name]
    before = stored(server)
    reply = raw(server, case.data, half_close=case.half_close)
    check(reply, case.granian if is_granian(server) else case.gunicorn, server)
    if reply is not None and reply.status != 201:
        assert stored(server) == before
    still_serves(server)


# -- smuggling: what follows a refused or ambiguous request is never served -------------

SMUGGLED = b"GET /_stored HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def keep_alive_post(headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    head = b"POST /json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += b"".join(k + b": " + v + b"\r\n" for k, v in headers)
    return head + b"\r\n" + body


SMUGGLING = {
    # CL.TE: a front end using Content-Length would pass the GET on as part of the body.
    "CL.TE": keep_alive_post(
        [(b"Content-Length", b"50"), (b"Transfer-Encoding", b"chunked")], b"0\r\n\r\n" + SMUGGLED
    ),
    # TE.CL: a front end using Transfer-Encoding would see the GET as the next request.
    "TE.CL": keep_alive_post(
        [(b"Transfer-Encoding", b"chunked"), (b"Content-Length", b"3")],
        b"%x\r\n%s\r\n0\r\n\r\n" % (len(SMUGGLED), SMUGGLED),
    ),
    "TE.TE with an obfuscated second TE": keep_alive_post(
        [(b"Transfer-Encoding", b"chunked"), (b"Transfer-encoding", b"cow")],
        b"0\r\n\r\n" + SMUGGLED,
    ),
    "TE with a space before the colon": keep_alive_post(
        [(b"Transfer-Encoding ", b"chunked"), (b"Content-Length", b"5")], b"0\r\n\r\n" + SMUGGLED
    ),
}


@pytest.mark.parametrize("name", list(SMUGGLING))
def test_smuggling_shape_is_refused_or_closes(server: Server, name: str) -> None:
    before = stored(server)
    reply = raw(server, SMUGGLING[name], timeout=3)
    assert reply is not None
    # Either the server refuses the ambiguous request, or (RFC 9112 §6.1) it may use
    # Transfer-Encoding alone but must then close the connection: never a second answer.
    assert reply.status in (400, 422, 501), (reply.status, reply.text)
    assert reply.extra == [], [(r.status, r.text) for r in reply.extra]
    assert stored(server) == before
    still_serves(server)


@pytest.mark.parametrize(("length", "final"), [(100_000, 413), (7, 201)])
def test_expect_continue(server: Server, length: int, final: int) -> None:
    before = stored(server)
    head = (
        b"POST /json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n" % length
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head)
        first = parse_replies(sock.recv(65536))
        if length == 7:
            assert first[0].status == 100  # both servers invite the body
            sock.sendall(BODY)
        replies = first + parse_replies(_read_to_end(sock))
    statuses = [reply.status for reply in replies]
    if length > 4096 and is_granian(server):
        # the declared length is refused before anything is read: no 100 Continue
        assert statuses == [413]
    else:  # gunicorn always answers 100 Continue itself, before the app runs
        assert statuses == [100, final]
    assert replies[-1].status == final
    assert stored(server) == before + (1 if final == 201 else 0)
    still_serves(server)


def _read_to_end(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data
