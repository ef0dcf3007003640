"""Hostile bodies, cookies, hosts and redirects, sent over real HTTP to granian and gunicorn.

These requests reach oakling (httpx sends them as given), so both servers must
give the same answer: the exact status, a problem document whose detail says
what is wrong, nothing stored, and a server that still answers.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.integration.conftest import Server

from .conftest import raw, request_bytes, still_serves, stored

pytestmark = pytest.mark.server

JSON_TYPE = {"content-type": "application/json"}
FORM_TYPE = {"content-type": "application/x-www-form-urlencoded"}

GOOD: dict[str, Any] = {
    "text": "t",
    "count": 1,
    "price": 1.5,
    "active": True,
    "tags": ["a"],
    "scores": {"a": 1},
    "ident": "12345678-1234-5678-1234-567812345678",
    "when": "2024-01-01T00:00:00Z",
    "day": "2024-01-01",
    "kind": "a",
    "colour": "red",
    "point": {"x": 1, "y": 2},
}


def problem(response: httpx.Response, status: int, text: str) -> dict[str, Any]:
    """Check ``response`` is a problem document with ``status`` and ``text`` in its detail."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert text in body["detail"] or text in json.dumps(body.get("errors", [])), body
    return body


def refused(server: Server, send: Any, status: int, text: str) -> dict[str, Any]:
    """Send with ``send(client)``; check the answer, that nothing was stored, that it serves."""
    before = stored(server)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        body = problem(send(client), status, text)
    assert stored(server) == before
    still_serves(server)
    return body


def test_the_good_record_is_stored(server: Server) -> None:
    before = stored(server)
    response = server.client.post("/records", json=GOOD)
    assert response.status_code == 201
    assert stored(server) == before + 1


# -- JSON ---------------------------------------------------------------------------------

RAW_JSON = {
    "malformed": (b'{"a": }', 400, "Malformed JSON in request body"),
    "truncated": (b'{"a": [1, 2', 400, "Malformed JSON in request body"),
    "NaN": (b'{"a": NaN}', 400, "Malformed JSON in request body"),
    "Infinity": (b'{"a": Infinity}', 400, "Malformed JSON in request body"),
    "number past float range": (b'{"a": 1e999999}', 422, "Number out of range"),
    "nested 10000 deep": (b"[" * 2000 + b"]" * 2000, 400, "nested deeper than 32 levels"),
    "nested objects 40 deep": (b'{"a":' * 40 + b"1" + b"}" * 40, 400, "nested deeper than 32"),
    "over the size limit": (b'{"a": "' + b"x" * 5000 + b'"}', 413, "limit of 4096 bytes"),
    "a list, not an object": (b"[1, 2]", 422, "Expected `object`, got `array`"),
    "a bare string": (b'"text"', 422, "Expected `object`, got `str`"),
    "invalid UTF-8": (b'{"a": "\xff\xfe"}', 400, "Malformed request body: 'utf-8' codec"),
    "overlong UTF-8 slash": (b'{"a": "\xc0\xaf"}', 400, "Malformed request body: 'utf-8'"),
    "trailing garbage": (b'{"a": 1} x', 400, "Malformed JSON"),
    "BOM first": (b'\xef\xbb\xbf{"a": 1}', 400, "Malformed JSON"),
    "empty body": (b"", 422, "Field required"),
}


@pytest.mark.parametrize("name", list(RAW_JSON))
def test_hostile_json_is_refused(server: Server, name: str) -> None:
    content, status, text = RAW_JSON[name]
    refused(server, lambda c: c.post("/json", content=content, headers=JSON_TYPE), status, text)


def test_json_duplicate_keys_keep_the_last(server: Server) -> None:
    # Like JavaScript's JSON.parse: the last value wins; documented in docs/reliability.md.
    response = server.client.post("/json", content=b'{"a": 1, "a": 2}', headers=JSON_TYPE)
    assert response.status_code == 201
    assert response.json() == {"keys": 1}


WRONG_TYPES = [
    ("text", 5, "Expected `str`, got `int`", ["body", "text"]),
    ("count", "1", "Expected `int`, got `str`", ["body", "count"]),
    ("count", 1.5, "Expected `int`, got `float`", ["body", "count"]),
    ("count", True, "Expected `int`, got `bool`", ["body", "count"]),
    ("price", "1.5", "Expected `float`, got `str`", ["body", "price"]),
    ("active", "true", "Expected `bool`, got `str`", ["body", "active"]),
    ("active", 1, "Expected `bool`, got `int`", ["body", "active"]),
    ("tags", "a", "Expected `array`, got `str`", ["body", "tags"]),
    ("tags", [1], "Expected `str`, got `int`", ["body", "tags", 0]),
    ("scores", [], "Expected `object`, got `array`", ["body", "scores"]),
    ("scores", {"a": "x"}, "Expected `int`, got `str`", ["body", "scores"]),
    ("ident", "not-a-uuid", "Invalid UUID", ["body", "ident"]),
    ("when", "yesterday", "Invalid RFC3339 encoded datetime", ["body", "when"]),
    ("day", "2024-13-01", "Invalid RFC3339 encoded date", ["body", "day"]),
    ("kind", "c", "Invalid enum value 'c'", ["body", "kind"]),
    ("colour", "blue", "Invalid enum value 'blue'", ["body", "colour"]),
    ("point", {"x": 1}, "missing required field `y`", ["body", "point", "y"]),
    ("point", [1, 2], "Expected `object`, got `array`", ["body", "point"]),
    ("maybe", "x", "Expected `int | null`, got `str`", ["body", "maybe"]),
    ("limited", 11, "Expected `int` <= 10", ["body", "limited"]),
    ("unknown", 1, "unknown field `unknown`", ["body", "unknown"]),
    ("text", None, "Expected `str`, got `null`", ["body", "text"]),
]


@pytest.mark.parametrize(
    ("field", "value", "message", "loc"),
    WRONG_TYPES,
    ids=[f"{f}={json.dumps(v)}" for f, v, _, _ in WRONG_TYPES],
)
def test_wrong_json_type_is_422_at_its_field(
    server: Server, field: str, value: object, message: str, loc: list[object]
) -> None:
    body = refused(server, lambda c: c.post("/records", json={**GOOD, field: value}), 422, message)
    assert [error["loc"] for error in body["errors"]] == [loc]


def test_missing_field_is_422(server: Server) -> None:
    record = {k: v for k, v in GOOD.items() if k != "price"}
    body = refused(server, lambda c: c.post("/records", json=record), 422, "price")
    assert body["errors"][0]["type"] == "missing"


def test_unsupported_media_type_is_415(server: Server) -> None:
    refused(
        server,
        lambda c: c.post("/json", content=b"<a/>", headers={"content-type": "application/xml"}),
        415,
        "application/xml",
    )


# -- urlencoded forms ---------------------------------------------------------------------

FORMS = {
    "field bomb": (b"name=n" + b"&x=1" * 1000, 413, "Too many form fields (over 50)"),
    "one huge field": (b"name=" + b"v" * 5000, 413, "limit of 4096 bytes"),
    "too many fields": (b"name=n" + b"&x" * 60, 413, "Too many form fields"),
    "bad percent-escape": (b"name=%zz", 400, "Invalid percent-encoding in form body"),
    "not UTF-8": (b"name=%ff%fe", 400, "not valid UTF-8"),
    "overlong UTF-8": (b"name=%c0%af", 400, "not valid UTF-8"),
    "missing required field": (b"note=x", 422, "name"),
}


@pytest.mark.parametrize("name", list(FORMS))
def test_hostile_urlencoded_form_is_refused(server: Server, name: str) -> None:
    content, status, text = FORMS[name]
    refused(server, lambda c: c.post("/form", content=content, headers=FORM_TYPE), status, text)


# -- multipart ----------------------------------------------------------------------------


def part(name: str | bytes, value: bytes, filename: bytes | None = None) -> bytes:
    disposition = b'form-data; name="%s"' % (name.encode() if isinstance(name, str) else name)
    if filename is not None:
        disposition += b'; filename="%s"' % filename
    return b"--b\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + value + b"\r\n"


def multipart(body: bytes, content_type: str = "multipart/form-data; boundary=b") -> Any:
    return lambda c: c.post("/upload", content=body, headers={"content-type": content_type})


END = b"--b--\r\n"
TITLE = part("title", b"t")
MULTIPART = {
    "no boundary": (multipart(TITLE + END, "multipart/form-data"), 400, "no boundary"),
    "boundary of 300 characters": (
        multipart(TITLE + END, "multipart/form-data; boundary=" + "b" * 300),
        400,
        "not 1 to 200 printable ASCII",
    ),
    "unterminated part": (multipart(TITLE + b"--b\r\nContent-Disposition: form-data"), 400, ""),
    "no closing boundary": (multipart(TITLE), 400, "ended before its closing boundary"),
    "thousands of parts": (multipart(TITLE + part("x", b"1") * 2000 + END), 413, ""),
    "60 parts": (multipart(TITLE + part("x", b"1") * 60 + END), 413, "50"),
    "huge field name": (multipart(part("n" * 5000, b"v") + END), 413, ""),
    "part headers over the limit": (
        multipart(b"--b\r\nX-Pad: " + b"p" * 2000 + b"\r\n" + TITLE[5:] + END),
        413,
        "",
    ),
    "field over the field limit": (
        multipart(part("title", b"v" * 3000) + END),
        413,
        "1024",
    ),
    "upload over the upload limit": (
        multipart(TITLE + part("document", b"x" * 70_000, b"a.bin") + END),
        413,
        "limit of 65536 bytes",
    ),
    "part without a name": (
        multipart(b"--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n" + END),
        400,
        "name",
    ),
    "file where a field is expected": (
        multipart(part("title", b"t", b"t.txt") + part("document", b"x", b"a.bin") + END),
        422,
        "title",
    ),
    "field name not UTF-8": (
        multipart(part(b"\xff", b"v") + TITLE + END),
        400,
        "name of part 1 is not valid utf-8",
    ),
    "missing the file": (multipart(TITLE + END), 422, "document"),
}


@pytest.mark.parametrize("name", list(MULTIPART))
def test_hostile_multipart_is_refused(server: Server, name: str) -> None:
    send, status, text = MULTIPART[name]
    refused(server, send, status, text)


FILENAMES = {
    "../../etc/passwd": "passwd",
    "..\\..\\windows\\win.ini": "win.ini",
    "/etc/passwd": "passwd",
    "a\x00b.txt": "ab.txt",
    "\u202egnp.exe": "gnp.exe",  # right-to-left override
    "...": "",
    ".bashrc": "bashrc",
    "CON\r\nX-Injected: 1": '"CON',  # the CRLF ends the header line: no injection
}


@pytest.mark.parametrize("filename", list(FILENAMES), ids=repr)
def test_upload_filename_is_made_safe(server: Server, filename: str) -> None:
    body = TITLE + part("document", b"data", filename.encode()) + END
    response = multipart(body)(server.client)
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == FILENAMES[filename]


# -- cookies ------------------------------------------------------------------------------

COOKIES = {
    "junk around": ('junk; =x; bad name=1; session="abc"; ;;', "abc"),
    "tossed duplicate: the first wins": ("session=mine; session=tossed", "mine"),
    "NUL byte": ("session=a\x00b", "a\x00b"),
    "no value": ("session", None),
    "only separators": (";;;;", None),
    "quoted empty": ('session=""', ""),
    "10 KB of cookies": ("; ".join(f"c{i}=v" for i in range(1000)) + "; session=s", "s"),
}


@pytest.mark.parametrize("name", list(COOKIES))
def test_malformed_cookie_header_is_tolerated(server: Server, name: str) -> None:
    header, expected = COOKIES[name]
    reply = raw(server, request_bytes(target="/cookie", headers=[("Cookie", header)]))
    assert reply is not None
    if "\x00" in header:
        assert reply.status == 400  # both servers refuse a NUL in a header value
        return
    assert reply.status == 200, reply.text
    assert json.loads(reply.body) == {"session": expected}


# -- hosts, absolute URIs -----------------------------------------------------------------

HOSTS = {
    "unknown host": b"evil.example",
    "allowed host as userinfo": b"127.0.0.1@evil.example",
    "suffix trick": b"127.0.0.1.evil.example",
    "port trick": b"evil.example:127.0.0.1",
    "path in host": b"127.0.0.1/evil",
}


@pytest.mark.parametrize("name", list(HOSTS))
def test_spoofed_host_is_400(server: Server, name: str) -> None:
    reply = raw(
        server, request_bytes("POST", "/form", [FORM_TYPE_PAIR], b"name=x", host=HOSTS[name])
    )
    assert reply is not None
    assert reply.status == 400
    assert "Invalid Host header" in reply.text
    assert "allowed hosts" in reply.text
    still_serves(server)


FORM_TYPE_PAIR = ("Content-Type", "application/x-www-form-urlencoded")


def test_two_host_headers_are_400(server: Server) -> None:
    reply = raw(server, request_bytes(headers=[("Host", "evil.example")]))
    assert reply is not None
    assert reply.status == 400
    # gunicorn refuses it itself; under granian oakling does
    assert "HOST" in reply.text or "several Host headers" in reply.text


def test_absolute_uri_with_a_foreign_authority(server: Server) -> None:
    # RFC 9112 §3.2.2: with an absolute-form target the Host header is ignored.
    reply = raw(server, request_bytes(target="http://127.0.0.1/plain", host=b"evil.example"))
    assert reply is not None
    # neither granian nor gunicorn passes the target's authority on; the Host header
    # is what oakling checks, and it refuses it
    assert reply.status == 400
    assert "Invalid Host header 'evil.example'" in reply.text


def test_forwarded_host_from_an_untrusted_peer_is_ignored(server: Server) -> None:
    response = server.client.get("/plain", headers={"X-Forwarded-Host": "evil.example"})
    assert response.status_code == 200


# -- redirects ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/dir/x", "/dir/x/"),
        ("/dir/%5Cevil.example", "/dir/%5Cevil.example/"),
        ("/%5Cevil.example", "/%5Cevil.example/"),
        ("/%09/evil.example", None),
        ("//evil.example/dir/x", None),
        ("///evil.example/dir/x", None),
    ],
)
def test_trailing_slash_redirect_stays_on_site(
    server: Server, target: str, location: str | None
) -> None:
    reply = raw(server, request_bytes(target=target))
    assert reply is not None
    if location is None:
        assert reply.status == 404
    else:
        assert reply.status == 308
        assert reply.header("location") == location


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("/x\r\nSet-Cookie: a=b", "/x%0D%0ASet-Cookie:%20a=b"),
        ("/\\evil.example", "/%5Cevil.example"),
        ("/ok?a=1#frag", "/ok?a=1#frag"),
        ("javascript:alert(1)", "javascript:alert(1)"),
    ],
)
def test_redirect_helper_cannot_inject_headers(
    server: Server, next_url: str, location: str
) -> None:
    # redirect() sends where the handler says (checking next= is the handler's job, see
    # docs/reliability.md); it never lets a header or a backslash through.
    from urllib.parse import quote

    reply = raw(server, request_bytes(target="/login?next=" + quote(next_url, safe="")))
    assert reply is not None
    assert reply.status == 302
    assert reply.header("location") == location
    assert reply.header("set-cookie") is None


# -- method override ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "headers", "allow"),
    [
        ("POST", "/method", {"X-HTTP-Method-Override": "GET"}, "GET, HEAD, OPTIONS"),
        ("GET", "/delete", {"X-HTTP-Method-Override": "POST"}, "OPTIONS, POST"),
        ("GET", "/delete", {"X-HTTP-Method": "POST"}, "OPTIONS, POST"),
        ("GET", "/delete?_method=POST", {"X-Method-Override": "POST"}, "OPTIONS, POST"),
    ],
)
def test_method_override_headers_are_ignored(
    server: Server, method: str, path: str, headers: dict[str, str], allow: str
) -> None:
    before = stored(server)
    response = server.client.request(method, path, headers=headers, content=b"")
    problem(response, 405, "Method not allowed")
    assert response.headers["allow"] == allow
    assert stored(server) == before


def test_method_override_form_field_is_ignored(server: Server) -> None:
    response = server.client.post("/method", data={"_method": "GET"})
    problem(response, 405, "Method not allowed")


# -- file routes and path traversal ---------------------------------------------------------

TRAVERSALS = [
    "/files/../secret.txt",
    "/files/%2e%2e/secret.txt",
    "/files/%2e%2e%2fsecret.txt",
    "/files/..%2fsecret.txt",
    "/files/..%5csecret.txt",
    "/files/%2e%2e",
    "/files/..",
    "/files/%2fetc%2fpasswd",
    "/files/%2e%2e%5c%2e%2e%5csecret.txt",
    "/files/.hidden%00.txt",
    "/files/hello.txt%00",
    "/download?name=hello.txt%00.png",
    "/download?name=%00",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_path_traversal_on_a_file_route_never_escapes(server: Server, target: str) -> None:
    reply = raw(server, request_bytes(target=target))
    assert reply is not None
    if "%00" in target.split("?")[0]:
        assert reply.status == 400, (reply.status, reply.text)
        assert "The request path contains a NUL byte" in reply.text
    else:
        assert reply.status == 404, (reply.status, reply.text)
        assert "Not Found" in reply.text
    assert b"TOP SECRET" not in reply.body
    assert b"root:" not in reply.body
    still_serves(server)


def test_the_file_route_serves_its_file(server: Server) -> None:
    response = server.client.get("/files/hello.txt")
    assert response.status_code == 200
    assert response.text == "hello, file\n"


RANGES = {
    "5000-digit end": ("bytes=0-" + "9" * 5000, 200, b"hello, file\n"),
    "5000-digit start": ("bytes=" + "9" * 5000 + "-", 200, b"hello, file\n"),
    "suffix": ("bytes=-5", 206, b"file\n"),
    "past the end": ("bytes=100-", 416, b""),
    "reversed": ("bytes=5-1", 200, b"hello, file\n"),
    "other unit": ("items=0-1", 200, b"hello, file\n"),
    "many ranges": (",".join(["bytes=0-0"] + ["1-1"] * 500), 200, b"hello, file\n"),
    "garbage": ("bytes=a-b", 200, b"hello, file\n"),
}


@pytest.mark.parametrize("name", list(RANGES))
def test_hostile_range_header(server: Server, name: str) -> None:
    header, status, body = RANGES[name]
    reply = raw(server, request_bytes(target="/files/hello.txt", headers=[("Range", header)]))
    assert reply is not None
    assert reply.status == status, reply.text
    assert reply.body == body
    still_serves(server)


# -- static files (oakling.web.static) ------------------------------------------------------

STATIC_REFUSED = [
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%5csecret.txt",
    "/static/sub/..%2f..%2fsecret.txt",
    "/static/sub/%2e%2e/%2e%2e/secret.txt",
    "/static/%2fetc%2fpasswd",
    "/static//etc/passwd",
    "/static/%5c..%5csecret.txt",
    "/static/escape.txt",
    "/static/.hidden",
    "/static/sub/",  # no directory listing
    "/static/hello.txt%00",
    "/static/hello.txt%00.png",
    "/static/C:%5cWindows%5cwin.ini",
]


@pytest.mark.parametrize("target", STATIC_REFUSED)
def test_static_files_never_leave_their_folder(server: Server, target: str) -> None:
    reply = raw(server, request_bytes(target=target))
    assert reply is not None
    if "%00" in target:
        assert reply.status == 400, (reply.status, reply.text)
        assert "The request path contains a NUL byte" in reply.text
    else:
        assert reply.status == 404, (reply.status, reply.text)
        assert "No static file" in reply.text
    assert b"TOP SECRET" not in reply.body
    assert b"root:" not in reply.body
    assert b"dotfile" not in reply.body
    still_serves(server)


@pytest.mark.parametrize(
    ("target", "body"),
    [("/static/hello.txt", b"hello, file\n"), ("/static/sub/inner.txt", b"inner\n")],
)
def test_static_files_serve_what_is_inside(server: Server, target: str, body: bytes) -> None:
    reply = raw(server, request_bytes(target=target))
    assert reply is not None
    assert reply.status == 200
    assert reply.body == body
