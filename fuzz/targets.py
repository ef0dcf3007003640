"""One fuzz target per parser that takes client bytes.

Each target takes the fuzzer's bytes, feeds them to one parser, and lets only the
errors that parser promises escape (an ``HTTPError`` of status 4xx, or the
documented ``None``); any other exception, a 5xx or a broken invariant is a crash.
``SEEDS`` gives each target a few valid inputs to start from.
"""

from __future__ import annotations

import asyncio
import io
import os
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from oakling import App, Form, Settings
from oakling._internal.hosts import HostValidator, ProxyResolver, new_request_id, split_host
from oakling.exceptions import HTTPError
from oakling.http.cookies import parse_cookie_header
from oakling.http.datastructures import Headers
from oakling.http.files import Conditions, parse_http_date, parse_range, plan_file_response
from oakling.http.limits import Limits
from oakling.http.multipart import FormParser, parse_form
from oakling.http.request import Request, decode_json
from oakling.http.websocket import WebSocket, WebSocketDisconnect
from oakling.routing.router import Router

if TYPE_CHECKING:
    from collections.abc import Callable

LIMITS = Limits(
    max_body_size=64 * 1024,
    max_upload_size=256 * 1024,
    max_form_fields=200,
    max_multipart_parts=200,
    spool_max_size=4096,
    max_json_depth=32,
)


def _client_error(exc: HTTPError) -> None:
    if not 400 <= exc.status_code < 500:
        raise AssertionError(f"{exc.status_code} for client input: {exc.detail}") from exc


def _split(data: bytes, parts: int) -> list[bytes]:
    pieces = data.split(b"\x00\x01", parts - 1)
    return pieces + [b""] * (parts - len(pieces))


# -- cookies, query strings, headers, hosts ---------------------------------------------------


def cookies(data: bytes) -> None:
    """Cookie header parsing: never an error, names are tokens."""
    parsed = parse_cookie_header(data.decode("latin-1"))
    for name, value in parsed.items():
        assert name
        assert name.strip() == name
        assert ";" not in name
        assert ";" not in value


def query(data: bytes) -> None:
    """Query strings: parsed, or a 400 for bytes that are not UTF-8."""
    request = Request({"type": "http", "headers": [], "query_string": data})
    try:
        params = request.query
    except HTTPError as exc:
        _client_error(exc)
        return
    for name, value in params.multi_items():
        assert params.getlist(name)
        assert isinstance(value, str)


_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")


def headers(data: bytes) -> None:
    """Header lookups, cookies, host and request id from any header block."""
    raw = []
    for line in data.split(b"\n")[:50]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name and set(name) <= _TOKEN:  # servers refuse any other header name
            raw.append((name, value.strip()))
    view = Headers(raw=raw)
    for name in view:
        assert view.getlist(name)
        assert view.get(name) == view.getlist(name)[0]
    request = Request({"type": "http", "headers": raw, "query_string": b""})
    _ = request.content_type, request.cookies, request.host
    new_request_id(data[:200])


_HOSTS = HostValidator(["example.com", ".example.org", "127.0.0.1", "[::1]"])
_PROXIES = ProxyResolver(["10.0.0.0/8", "::1"])


def hosts(data: bytes) -> None:
    """Host validation behind a trusted proxy: only allowed hosts pass."""
    host, forwarded_for, forwarded_host, proto = _split(data, 4)
    scope: dict[str, Any] = {
        "type": "http",
        "headers": [
            (b"host", host),
            (b"x-forwarded-for", forwarded_for),
            (b"x-forwarded-host", forwarded_host),
            (b"x-forwarded-proto", proto),
        ],
        "client": ("10.1.2.3", 5000),
        "server": ("10.0.0.1", 80),
        "scheme": "http",
    }
    _PROXIES.apply(scope)
    allowed = _HOSTS.allows_scope(scope)
    if allowed:
        name = split_host(str(scope.get("oakling.host", host.decode("latin-1"))) or "10.0.0.1")
        assert name in ("example.com", "example.org", "127.0.0.1", "[::1]", "10.0.0.1") or (
            name.endswith(".example.org")
        ), name
    assert scope["scheme"] in ("http", "https")


# -- bodies -------------------------------------------------------------------------------------


def urlencoded(data: bytes) -> None:
    """Urlencoded forms: parsed within the limits, or a 4xx."""
    try:
        form = parse_form("application/x-www-form-urlencoded", data, LIMITS)
    except HTTPError as exc:
        _client_error(exc)
        return
    assert len(form.multi_items()) <= LIMITS.max_form_fields


def multipart(data: bytes) -> None:
    """Multipart forms fed in pieces: parsed with safe filenames, or a 4xx."""
    header, body = _split(data, 2)
    content_type = "multipart/form-data; " + header[:200].decode("latin-1")
    try:
        parser = FormParser(content_type, LIMITS)
    except HTTPError as exc:
        _client_error(exc)
        return
    try:
        step = max(1, len(body) // 3)
        for start in range(0, len(body), step):
            parser.feed(body[start : start + step])
        form = parser.finish()
    except HTTPError as exc:
        _client_error(exc)
        return
    with form:
        assert len(form.multi_items()) <= LIMITS.max_multipart_parts
        for _, value in form.multi_items():
            if not isinstance(value, str):
                assert "/" not in value.filename
                assert "\\" not in value.filename
                assert "\x00" not in value.filename
                value.read()


class Point(msgspec.Struct):
    """A small struct."""

    x: int
    y: float


class Item(msgspec.Struct, forbid_unknown_fields=True):
    """A struct with a field of each common kind."""

    name: str
    price: Annotated[float, msgspec.Meta(ge=0)]
    tags: list[str] = []
    point: Point | None = None
    meta: dict[str, int] = {}


def json(data: bytes) -> None:
    """JSON bodies against several types: decoded, or a 400/422."""
    for kind in (Any, Item, dict[str, Any], list[int]):
        try:
            decode_json(data, kind, LIMITS.max_json_depth)
        except HTTPError as exc:
            _client_error(exc)


# -- routing, ranges, websockets ------------------------------------------------------------------

_ROUTER: Router[str] = Router()
for _name, _path in {
    "home": "/",
    "item_new": "/items/new",
    "item": "/items/{id:int}",
    "slug": "/items/{slug:slug}",
    "price": "/prices/{value:float}",
    "user": "/users/{uid:uuid}",
    "page": "/pages/{name}/edit",
    "file": "/files/{rest:path}",
    "pair": "/pair/{a:int}/{b}/",
}.items():
    _ROUTER.add(_path, _name, ["GET", "POST"], _name)


def router(data: bytes) -> None:
    """Route lookup: find and lookup agree; matched params rebuild the path."""
    path = "/" + data.decode("utf-8", "replace")
    for method in ("GET", "HEAD", "DELETE"):
        match = _ROUTER.lookup(method, path)
        found = _ROUTER.find(method, path)
        if found is not None:
            assert match is not None
            assert match.endpoint == found[0]
        if match is not None and match.endpoint is not None:
            from urllib.parse import unquote

            rebuilt = unquote(_ROUTER.url_path_for(match.endpoint, match.params or {}))
            again = _ROUTER.lookup(method, rebuilt)
            assert again is not None
            assert again.endpoint == match.endpoint, (path, rebuilt)
            assert (again.params or {}) == (match.params or {}), (path, rebuilt)


def ranges(data: bytes) -> None:
    """Range and If-Range: a range inside the file, or ignored, or 416."""
    header, if_range, size_bytes = _split(data, 3)
    size = int.from_bytes(size_bytes[:4] or b"\x00", "big")
    result = parse_range(header.decode("latin-1"), size)
    if result is not None and result != (-1, -1):
        start, end = result
        assert 0 <= start < end <= size, (header, size, result)
    conditions = Conditions(range=header.decode("latin-1"), if_range=if_range.decode("latin-1"))
    plan = plan_file_response(
        "GET", conditions, size=size, etag='"abc"', last_modified=1_700_000_000, status_code=200
    )
    assert plan.status in (200, 206, 416)
    parse_http_date(if_range.decode("latin-1"))


def _websocket_run(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        socket = WebSocket(
            {"type": "websocket", "headers": [], "path": "/ws"},
            receive,  # type: ignore[arg-type]
            send,  # type: ignore[arg-type]
            limits=LIMITS,
        )
        await socket.accept()
        try:
            while True:
                await socket.receive_json(Point)
        except WebSocketDisconnect:
            pass

    asyncio.run(run())
    return sent


def websocket(data: bytes) -> None:
    """Websocket JSON messages: decoded, or the socket closed once with 1007/1009."""
    messages: list[dict[str, Any]] = [{"type": "websocket.connect"}]
    for piece in data.split(b"\x00\x01")[:5]:
        if piece[:1] == b"t":
            messages.append(
                {"type": "websocket.receive", "text": piece[1:].decode("utf-8", "replace")}
            )
        else:
            messages.append({"type": "websocket.receive", "bytes": piece[1:]})
    sent = _websocket_run(messages)
    closes = [m for m in sent if m["type"] == "websocket.close"]
    assert len(closes) <= 1
    for close in closes:
        assert close["code"] in (1007, 1009, 1003, 1000), close


# -- a whole request through the app, ASGI and WSGI -----------------------------------------------


def _make_app() -> App:
    app = App(settings=Settings(debug=False, secret_key="f" * 64, allowed_hosts=("example.com",)))

    @app.get("/items/{id:int}")
    def item(id: int, q: str = "", page: int = 1) -> dict[str, Any]:
        return {"id": id, "q": q, "page": page}

    @app.post("/items", status=201)
    def create(item: Item) -> dict[str, bool]:
        return {"ok": True}

    @app.post("/form", status=201)
    async def form(name: Annotated[str, Form()]) -> dict[str, str]:
        return {"name": name}

    return app


_APP = _make_app()


def _asgi(
    method: str, raw_path: bytes, query: bytes, raw: list[tuple[bytes, bytes]], body: bytes
) -> int:
    from urllib.parse import unquote_to_bytes

    scope = {
        "type": "http",
        "method": method,
        # NOTE: like uvicorn and granian: undecodable bytes become U+FFFD.
        "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": query,
        "headers": raw,
        "client": ("127.0.0.1", 1),
        "server": ("example.com", 80),
        "scheme": "http",
        "http_version": "1.1",
    }
    sent: list[dict[str, Any]] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(_APP(scope, receive, send))  # type: ignore[arg-type]
    return int(sent[0]["status"])


def _wsgi(
    method: str, raw_path: bytes, query: bytes, raw: list[tuple[bytes, bytes]], body: bytes
) -> int:
    from urllib.parse import unquote_to_bytes

    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
    }
    for key, value in raw:
        name = key.decode("latin-1").upper().replace("-", "_")
        if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = "HTTP_" + name
        environ[name] = value.decode("latin-1")
    statuses: list[str] = []
    result = _APP.wsgi(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(result)
    getattr(result, "close", lambda: None)()
    return int(statuses[0].split()[0])


def request(data: bytes) -> None:
    """A whole request through the app over ASGI and WSGI: never a 5xx."""
    head, query_bytes, header_block, body = _split(data, 4)
    method = ("GET", "POST", "HEAD", "PUT")[head[0] % 4] if head else "GET"
    raw_path = b"/" + head[1:200].split(b"?", 1)[0]  # the server splits the query off
    if any(c < 0x21 or c > 0x7E for c in raw_path):
        return  # a server refuses a target with spaces or control bytes
    raw = [(b"host", b"example.com")]
    for line in header_block.split(b"\n")[:20]:
        name, sep, value = line.partition(b":")
        name = name.strip().lower()
        if sep and name and all(0x21 <= c <= 0x7E and c != 0x3A for c in name):
            value = value.strip()
            if all((c >= 0x20 and c != 0x7F) or c == 0x09 for c in value):
                raw.append((name, value))
    if any(k == b"content-length" for k, _ in raw):
        return  # servers frame the body by its Content-Length: tested in tests/hostile
    for call in (_asgi, _wsgi):
        status = call(method, raw_path, query_bytes, list(raw), body)
        assert status < 500, (call.__name__, method, raw_path, query_bytes, raw, body, status)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "cookies": cookies,
    "query": query,
    "headers": headers,
    "hosts": hosts,
    "urlencoded": urlencoded,
    "multipart": multipart,
    "json": json,
    "router": router,
    "ranges": ranges,
    "websocket": websocket,
    "request": request,
}

SEEDS: dict[str, list[bytes]] = {
    "cookies": [b'session=abc; theme="dark"; a=1', b"=; ;;x"],
    "query": [b"q=caf%C3%A9&page=2&flag", b"a=%zz&b=%ff+%20"],
    "headers": [b"Content-Type: text/html; charset=utf-8\nCookie: a=b\nHost: example.com:80"],
    "hosts": [b"example.com:8000\x00\x011.2.3.4, 10.0.0.2\x00\x01api.example.org\x00\x01https"],
    "urlencoded": [b"name=a&tags=x&tags=y&empty=&caf%C3%A9=%E2%9C%93"],
    "multipart": [
        b'boundary=b\x00\x01--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n'
        b'--b\r\nContent-Disposition: form-data; name="f"; filename="../x.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\ncontent\r\n--b--\r\n"
    ],
    "json": [b'{"name": "a", "price": 1.5, "tags": ["x"], "point": {"x": 1, "y": 2.0}}', b"[1,2]"],
    "router": [b"items/12", b"prices/1.5", b"files/a/b/c", b"pair/1/x/", b"users/" + b"1" * 36],
    "ranges": [b'bytes=0-99\x00\x01"abc"\x00\x01\x00\x00\x01\x00', b"bytes=-5\x00\x01\x00\x01\x10"],
    "websocket": [b't{"x": 1, "y": 2}\x00\x01b{"x": "a"}', b"t[1]"],
    "request": [
        b"\x00items/12\x00\x01q=a&page=3\x00\x01accept: */*\x00\x01",
        b'\x01items\x00\x01\x00\x01content-type: application/json\x00\x01{"name": "a", "price": 1}',
        b"\x01form\x00\x01\x00\x01content-type: application/x-www-form-urlencoded\x00\x01name=x",
    ],
}


def _planted(data: bytes) -> None:
    if data.startswith(b"x"):
        raise ValueError("planted crash")


if os.environ.get("OAKLING_FUZZ_PLANTED"):  # the runner's own test: a target that crashes
    TARGETS["planted"] = _planted
    SEEDS["planted"] = [b"a"]
