from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec
import pydantic
import pytest

from oakling import App, redirect
from oakling.http.datastructures import MutableHeaders
from oakling.http.response import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    json_encode,
    status_line,
)
from oakling.http.url import URL
from oakling.testing import TestClient

if TYPE_CHECKING:
    from oakling._types import Message

ClientFactory = Callable[[App], TestClient]


def header_pairs(response: Response) -> list[tuple[str, str]]:
    return [(k.decode(), v.decode()) for k, v in response.raw_headers]


# -- Response ------------------------------------------------------------------------------


def test_response_from_str_is_encoded_with_its_charset() -> None:
    response = Response("héllo", media_type="text/plain")
    assert response.body == "héllo".encode()
    assert response.status_code == 200
    assert header_pairs(response) == [
        ("content-type", "text/plain; charset=utf-8"),
        ("content-length", "6"),
    ]


def test_response_from_bytes_none_and_buffers() -> None:
    assert Response(b"\x00\xff").body == b"\x00\xff"
    assert Response(bytearray(b"ab")).body == b"ab"  # type: ignore[arg-type]
    assert Response(memoryview(b"cd")).body == b"cd"  # type: ignore[arg-type]
    empty = Response()
    assert empty.body == b""
    assert header_pairs(empty) == [("content-length", "0")]  # no media type, no Content-Type


def test_response_refuses_other_content_types_with_a_message() -> None:
    with pytest.raises(TypeError, match="Response content must be bytes or str, not dict"):
        Response({"a": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="HTMLResponse content must be bytes or str, not int"):
        HTMLResponse(3)  # type: ignore[arg-type]


def test_only_text_media_types_get_a_charset() -> None:
    assert Response("a", media_type="text/csv").media_type_header == "text/csv; charset=utf-8"
    assert (
        Response("a", media_type="text/plain; charset=ascii").media_type_header
        == "text/plain; charset=ascii"
    )
    assert Response(b"a", media_type="image/png").media_type_header == "image/png"
    assert Response("{}", media_type="application/json").media_type_header == "application/json"


def test_a_subclass_charset_encodes_the_body_and_names_it() -> None:
    class Latin1Response(Response):
        media_type = "text/plain"
        charset = "latin-1"

    response = Latin1Response("café")
    assert response.body == b"caf\xe9"
    assert response.media_type_header == "text/plain; charset=latin-1"
    assert response.headers["content-length"] == "4"


def test_response_headers_are_kept_and_a_given_content_type_wins() -> None:
    response = PlainTextResponse("x", headers={"Content-Type": "text/x-custom", "X-A": "1"})
    assert header_pairs(response) == [
        ("content-type", "text/x-custom"),
        ("x-a", "1"),
        ("content-length", "1"),
    ]
    both = Response("x", headers={"X-B": "2"}, media_type="text/plain")
    assert both.headers["content-type"] == "text/plain; charset=utf-8"
    assert both.headers["x-b"] == "2"


def test_a_given_content_length_is_not_duplicated() -> None:
    response = Response(b"abc", headers={"Content-Length": "3"})
    assert response.headers.getlist("content-length") == ["3"]


@pytest.mark.parametrize("status", [204, 304, 100, 101, 199])
def test_no_body_statuses_have_no_content_length(status: int) -> None:
    for response in (
        Response(None, status),
        Response(b"", status),
        Response("", status, media_type="text/plain"),
        Response("", status, headers={"X-A": "1"}),
    ):
        assert "content-length" not in response.headers
        assert response.status_code == status


def test_no_body_statuses_send_no_body() -> None:
    assert Response("oops", 204, media_type="text/plain").body == b""


def test_no_body_status_over_the_wire(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.delete("/items/1")
    def delete() -> Response:
        return Response(None, 204)

    @app.get("/cached")
    def cached() -> Response:
        return Response(b"", 304, headers={"ETag": '"v1"'})

    client = make_client(app)
    deleted = client.delete("/items/1")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert "content-length" not in deleted.headers
    not_modified = client.get("/cached")
    assert not_modified.status_code == 304
    assert not_modified.headers["etag"] == '"v1"'
    assert "content-length" not in not_modified.headers


def test_head_request_gets_the_headers_without_the_body(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.route("/page", methods=["GET", "HEAD"])
    def page() -> HTMLResponse:
        return HTMLResponse("<p>hello</p>")

    client = make_client(app)
    head = client.head("/page")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "12"
    assert head.headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/page").text == "<p>hello</p>"


def test_response_repr_and_status_lines() -> None:
    assert repr(Response("x", 201)) == "<Response 201>"
    assert repr(JSONResponse({}, 422)) == "<JSONResponse 422>"
    assert status_line(200) == "200 OK"
    assert status_line(404) == "404 Not Found"
    assert status_line(418) == "418 I'm a Teapot"
    assert status_line(599) == "599 Unknown"


@pytest.mark.anyio
async def test_response_is_an_asgi_app() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request"}

    async def send(message: Message) -> None:
        sent.append(message)

    response = PlainTextResponse("hi", 201, headers={"X-A": "1"})
    await response({"type": "http", "method": "GET"}, receive, send)
    assert sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [
                (b"x-a", b"1"),
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", b"2"),
            ],
        },
        {"type": "http.response.body", "body": b"hi"},
    ]
    sent.clear()
    await response({"type": "http", "method": "HEAD"}, receive, send)
    assert sent[1]["body"] == b""


def test_response_answers_a_wsgi_call() -> None:
    calls: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> Callable[[bytes], None]:
        calls.append((status, headers))
        return lambda data: None

    response = HTMLResponse("<b>", 404)
    assert list(response.to_wsgi({"REQUEST_METHOD": "GET"}, start_response)) == [b"<b>"]
    assert calls == [
        ("404 Not Found", [("content-type", "text/html; charset=utf-8"), ("content-length", "3")])
    ]
    assert list(response.to_wsgi({"REQUEST_METHOD": "HEAD"}, start_response)) == []


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- JSON, HTML, plain text ----------------------------------------------------------------


class Point(msgspec.Struct):
    x: int
    y: int


@dataclasses.dataclass
class Person:
    name: str
    born: date


class Account(pydantic.BaseModel):
    id: uuid.UUID
    balance: Decimal
    opened: datetime


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __json__(self) -> str:
        return f"{self.cents / 100:.2f}"


def test_json_response_encodes_structs_dataclasses_and_standard_types() -> None:
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    response = JSONResponse(
        {
            "point": Point(1, 2),
            "person": Person("Ada", date(1815, 12, 10)),
            "at": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
            "local": datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2))),
            "id": ident,
            "url": URL("https://example.com/a?b=1"),
            "tags": {"x"},
            "tuple": (1, "a"),
        }
    )
    assert msgspec.json.decode(response.body) == {
        "point": {"x": 1, "y": 2},
        "person": {"name": "Ada", "born": "1815-12-10"},
        "at": "2024-05-06T07:08:09Z",
        "local": "2024-05-06T07:08:09+02:00",
        "id": "12345678-1234-5678-1234-567812345678",
        "url": "https://example.com/a?b=1",
        "tags": ["x"],
        "tuple": [1, "a"],
    }
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.body))


def test_json_response_encodes_pydantic_models_in_json_mode() -> None:
    account = Account(
        id=uuid.UUID(int=1), balance=Decimal("10.50"), opened=datetime(2024, 1, 1, tzinfo=UTC)
    )
    body = msgspec.json.decode(JSONResponse({"account": account}).body)
    assert body == {
        "account": {
            "id": "00000000-0000-0000-0000-000000000001",
            "balance": "10.50",
            "opened": "2024-01-01T00:00:00Z",
        }
    }


def test_json_response_uses_dunder_json() -> None:
    assert JSONResponse({"price": Money(1050)}).body == b'{"price":"10.50"}'


def test_json_response_of_none_is_null_and_keeps_status_and_media_type() -> None:
    assert JSONResponse(None).body == b"null"
    problem = JSONResponse({"title": "x"}, 409, media_type="application/problem+json")
    assert problem.status_code == 409
    assert problem.headers["content-type"] == "application/problem+json"
    assert JSONResponse([1], headers={"X-A": "1"}).headers["x-a"] == "1"


def test_json_response_refuses_what_it_cannot_encode() -> None:
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        JSONResponse({"x": object()})
    with pytest.raises(TypeError, match="builtin_function_or_method is not JSON serializable"):
        json_encode([print])


def test_html_and_plain_text_responses() -> None:
    html = HTMLResponse("<h1>Hi</h1>", 201)
    assert html.status_code == 201
    assert html.body == b"<h1>Hi</h1>"
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    text = PlainTextResponse(b"raw")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.body == b"raw"


def test_response_classes_over_the_wire(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/json")
    def as_json() -> JSONResponse:
        return JSONResponse({"when": date(2024, 2, 29), "point": Point(3, 4)}, 201)

    @app.get("/html")
    def as_html() -> HTMLResponse:
        return HTMLResponse("<p>café</p>")

    @app.get("/text")
    def as_text() -> PlainTextResponse:
        return PlainTextResponse("plain", headers={"Cache-Control": "no-store"})

    client = make_client(app)
    json_response = client.get("/json")
    assert json_response.status_code == 201
    assert json_response.json() == {"when": "2024-02-29", "point": {"x": 3, "y": 4}}
    assert json_response.headers["content-type"] == "application/json"
    html = client.get("/html")
    assert html.text == "<p>café</p>"
    assert html.headers["content-length"] == str(len("<p>café</p>".encode()))
    text = client.get("/text")
    assert text.text == "plain"
    assert text.headers["cache-control"] == "no-store"


# -- redirects -----------------------------------------------------------------------------


def test_redirect_defaults_to_302_with_an_empty_body() -> None:
    response = RedirectResponse("/next")
    assert response.status_code == 302
    assert response.body == b""
    assert response.headers["location"] == "/next"
    assert response.headers["content-length"] == "0"
    assert "content-type" not in response.headers


@pytest.mark.parametrize("status", [301, 303, 307, 308])
def test_redirect_status(status: int) -> None:
    assert RedirectResponse("/x", status).status_code == status
    assert redirect("/x", status).status_code == status


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/a b/ü?q=a b#frag", "/a%20b/%C3%BC?q=a%20b#frag"),
        ("https://example.com/p?x=1&y=2", "https://example.com/p?x=1&y=2"),
        ("/already%20encoded?next=%2Fhome", "/already%20encoded?next=%2Fhome"),
        ("/path;params?a=[1]&b=@!$'()*+,~", "/path;params?a=[1]&b=@!$'()*+,~"),
        ('/"quoted"<tag>', "/%22quoted%22%3Ctag%3E"),
        (URL("/from-url?a=1"), "/from-url?a=1"),
    ],
)
def test_redirect_location_is_escaped(url: str, location: str) -> None:
    assert RedirectResponse(url).headers["location"] == location


@pytest.mark.parametrize(
    "url",
    ["/next\r\nSet-Cookie: evil=1", "/next\nX-Injected: 1", "/next\rX: 1", "/a\x00b"],
)
def test_redirect_refuses_header_injection(url: str) -> None:
    response = RedirectResponse(url)
    raw = response.headers["location"]
    assert "\r" not in raw
    assert "\n" not in raw
    assert "\x00" not in raw
    assert "set-cookie" not in response.headers
    assert response.headers.getlist("location") == [raw]


def test_redirect_with_extra_headers_and_over_the_wire(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.post("/login")
    def login() -> RedirectResponse:
        response = RedirectResponse("/home page?x=ü\r\nX-Evil: 1", 303, headers={"X-A": "1"})
        response.set_cookie("sid", "abc")
        return response

    response = make_client(app).post("/login")
    assert response.status_code == 303
    assert response.headers["location"] == "/home%20page?x=%C3%BC%0D%0AX-Evil:%201"
    assert response.headers["x-a"] == "1"
    assert "x-evil" not in response.headers
    assert response.headers["set-cookie"] == "sid=abc; Path=/; HttpOnly; SameSite=Lax"


# -- cookies -------------------------------------------------------------------------------


def test_set_cookie_defaults() -> None:
    response = Response()
    response.set_cookie("sid", "abc")
    assert response.headers.getlist("set-cookie") == ["sid=abc; Path=/; HttpOnly; SameSite=Lax"]


def test_set_cookie_options() -> None:
    response = Response()
    response.set_cookie("a", "1", secure=True)
    response.set_cookie("b", "2", max_age=60)
    response.set_cookie("c", "3", expires=datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC))
    response.set_cookie("d", "4", expires=86400)
    response.set_cookie("e", "5", path="/app", domain="example.com", samesite="strict")
    response.set_cookie("f", "6", httponly=False, samesite=None, path=None)
    response.set_cookie("g", "7", samesite="none", partitioned=True)
    assert response.headers.getlist("set-cookie") == [
        "a=1; Path=/; Secure; HttpOnly; SameSite=Lax",
        "b=2; Max-Age=60; Path=/; HttpOnly; SameSite=Lax",
        "c=3; Expires=Tue, 04 Mar 2031 05:06:07 GMT; Path=/; HttpOnly; SameSite=Lax",
        "d=4; Expires=Fri, 02 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax",
        "e=5; Domain=example.com; Path=/app; HttpOnly; SameSite=Strict",
        "f=6",
        "g=7; Path=/; Secure; HttpOnly; SameSite=None; Partitioned",
    ]


def test_delete_cookie_expires_it_on_the_same_path_and_domain() -> None:
    response = Response()
    response.delete_cookie("sid")
    response.delete_cookie("pref", path="/app", domain="example.com", secure=True)
    assert response.headers.getlist("set-cookie") == [
        "sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax",
        "pref=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=example.com; "
        "Path=/app; Secure; HttpOnly; SameSite=Lax",
    ]


@pytest.mark.parametrize("name", ["", "my cookie", "a;b", "a=b", "sid\n", "sid\r\nX-Evil: 1"])
def test_set_cookie_refuses_invalid_names(name: str) -> None:
    response = Response()
    with pytest.raises(ValueError, match="Invalid cookie name") as raised:
        response.set_cookie(name, "1")
    assert "letters, digits" in str(raised.value)
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("value", ["a b", "a;b", "a,b", '"a"', "a\\b", "é", "v\n", "v\r\nX: 1"])
def test_set_cookie_refuses_invalid_values(value: str) -> None:
    response = Response()
    with pytest.raises(ValueError, match="Invalid character in the value of cookie 'sid'") as err:
        response.set_cookie("sid", value)
    assert "encode it first" in str(err.value)
    assert "set-cookie" not in response.headers


def test_set_cookie_refuses_injection_through_attributes() -> None:
    response = Response()
    with pytest.raises(ValueError, match="Invalid path"):
        response.set_cookie("sid", "1", path="/; Domain=evil.example")
    with pytest.raises(ValueError, match="Invalid domain"):
        response.set_cookie("sid", "1", domain="example.com\r\nX-Evil: 1")
    assert "set-cookie" not in response.headers


def test_cookies_over_the_wire(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/set")
    def set_cookies() -> Response:
        response = PlainTextResponse("ok")
        response.set_cookie("sid", "abc", max_age=60)
        response.set_cookie("theme", "dark", httponly=False)
        return response

    response = make_client(app).get("/set")
    assert response.headers.get_list("set-cookie") == [
        "sid=abc; Max-Age=60; Path=/; HttpOnly; SameSite=Lax",
        "theme=dark; Path=/; SameSite=Lax",
    ]


# -- headers -------------------------------------------------------------------------------


def test_response_headers_set_append_and_delete() -> None:
    response = PlainTextResponse("x")
    headers = response.headers
    assert isinstance(headers, MutableHeaders)
    headers["Cache-Control"] = "no-cache"
    headers["cache-control"] = "no-store"  # replaces
    headers.append("Vary", "Accept")
    headers.append("vary", "Cookie")
    headers["X-Gone"] = "1"
    del headers["x-gone"]
    assert response.headers.getlist("cache-control") == ["no-store"]
    assert response.headers.getlist("vary") == ["Accept", "Cookie"]
    assert "x-gone" not in response.headers
    assert (b"cache-control", b"no-store") in response.raw_headers  # changed in place


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb"])
def test_response_headers_refuse_line_breaks(value: str) -> None:
    response = Response()
    with pytest.raises(ValueError, match="CR, LF and NUL are not allowed"):
        response.headers["X-A"] = value
    with pytest.raises(ValueError, match="CR, LF and NUL are not allowed"):
        response.headers.append("X-A", value)
    with pytest.raises(ValueError, match="CR, LF and NUL are not allowed"):
        Response("x", headers={"X-A": value})
    with pytest.raises(ValueError, match="Invalid header name"):
        Response("x", headers={"X-A\r\nSet-Cookie": "x=1"})
    assert "x-a" not in response.headers


def test_headers_changed_in_a_handler_go_out(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/h")
    def handler() -> Response:
        response = JSONResponse({"ok": True}, headers={"X-Remove": "1", "X-Keep": "1"})
        response.headers["X-Set"] = "yes"
        response.headers.append("X-Multi", "a")
        response.headers.append("X-Multi", "b")
        del response.headers["X-Remove"]
        return response

    response = make_client(app).get("/h")
    assert response.headers["x-set"] == "yes"
    assert response.headers["x-keep"] == "1"
    assert response.headers.get_list("x-multi") == ["a", "b"]
    assert "x-remove" not in response.headers
