from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from oakling import App, Request, Settings
from oakling.exceptions import ClientDisconnected, PayloadTooLarge
from oakling.http.datastructures import QueryParams
from oakling.http.url import URL
from oakling.testing import TestClient

if TYPE_CHECKING:
    from oakling._types import Message

ClientFactory = Callable[[App], TestClient]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- raw ASGI and WSGI calls, for what a test client cannot send -------------------------


async def call_asgi(
    app: App,
    path: str = "/",
    *,
    method: str = "GET",
    messages: list[dict[str, Any]] | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
    **scope_extra: Any,
) -> tuple[int, dict[str, str], bytes, int]:
    """Call ``app`` with one HTTP request; return status, headers, body and receive calls."""
    queue: list[Message] = list(messages if messages is not None else [{"type": "http.request"}])
    calls = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal calls
        calls += 1
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")] if headers is None else headers,
        "client": ("203.0.113.9", 4321),
        "server": ("testserver", 80),
    }
    scope.update(scope_extra)
    await app(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, body, calls


def call_wsgi(
    app: App, path: str = "/", *, method: str = "GET", body: bytes = b"", **environ_extra: Any
) -> tuple[int, dict[str, str], bytes]:
    """Call ``app.wsgi`` directly with a hand-made environ."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "REMOTE_PORT": "4321",
        "HTTP_HOST": "testserver",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "oakling.testing": True,
    }
    environ.update(environ_extra)
    environ = {k: v for k, v in environ.items() if v is not None}
    status: list[str] = []
    response_headers: dict[str, str] = {}

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(line)
        response_headers.update((k.lower(), v) for k, v in headers)
        return lambda data: None

    result = app.wsgi(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return int(status[0].split()[0]), response_headers, content


def chunks(*parts: bytes) -> list[dict[str, Any]]:
    """ASGI body messages: one per part, ``more_body`` on all but the last."""
    return [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]


@pytest.fixture
def inspect_app() -> App:
    app = App(debug=True)

    @app.get("/items/{item_id:int}", name="item")
    def item(request: Request) -> dict[str, Any]:
        return {
            "method": request.method,
            "path": request.path,
            "path_params": request.path_params,
            "type": type(request.path_params["item_id"]).__name__,
        }

    @app.route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"], name="any")
    def anything(request: Request) -> dict[str, Any]:
        return {
            "method": request.method,
            "path": request.path,
            "url": request.url,
            "base_url": request.base_url,
            "host": request.host,
            "scheme": request.scheme,
            "secure": request.is_secure,
            "client": request.client,
            "query": request.query.multi_items(),
            "cookies": request.cookies,
            "content_type": request.content_type,
            "request_id": request.request_id,
        }

    return app


# -- what was asked ------------------------------------------------------------------------


def test_method_path_and_converted_path_params(
    make_client: ClientFactory, inspect_app: App
) -> None:
    client = make_client(inspect_app)
    assert client.get("/items/3").json() == {
        "method": "GET",
        "path": "/items/3",
        "path_params": {"item_id": 3},
        "type": "int",
    }
    assert client.delete("/whatever").json()["method"] == "DELETE"


def test_url_keeps_the_query_and_the_percent_encoding(
    make_client: ClientFactory, inspect_app: App
) -> None:
    data = make_client(inspect_app).get("/a%20b/c?x=1&y=%2B&z=a+b").json()
    assert data["path"] == "/a b/c"  # decoded
    assert data["url"] == "http://testserver/a%20b/c?x=1&y=%2B&z=a+b"  # as sent
    assert data["base_url"] == "http://testserver/"


@pytest.mark.anyio
async def test_url_keeps_an_encoded_slash_apart_from_a_path_separator(inspect_app: App) -> None:
    status, _, body, _ = await call_asgi(inspect_app, "/a/b", raw_path=b"/a%2Fb")
    assert status == 200
    data = json.loads(body)
    assert data["path"] == "/a/b"
    assert data["url"] == "http://testserver/a%2Fb"


def test_url_is_a_url_object() -> None:
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "https",
            "path": "/p",
            "raw_path": b"/p",
            "query_string": b"a=1",
            "headers": [(b"host", b"example.com")],
        }
    )
    assert isinstance(request.url, URL)
    assert request.url.hostname == "example.com"
    assert request.url.query == "a=1"
    assert request.base_url == "https://example.com/"
    assert repr(request) == "<Request GET /p>"


def test_url_without_raw_path_is_built_from_the_path() -> None:
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/a b/caf\u00e9",
            "query_string": b"",
            "headers": [(b"host", b"example.com")],
        }
    )
    assert request.url == "http://example.com/a%20b/caf%C3%A9"


@pytest.mark.anyio
async def test_base_url_and_url_include_the_root_path_under_asgi(inspect_app: App) -> None:
    status, _, body, _ = await call_asgi(
        inspect_app, "/api/info", raw_path=b"/api/info", root_path="/api"
    )
    assert status == 200
    data = json.loads(body)
    assert data["base_url"] == "http://testserver/api/"
    assert data["url"] == "http://testserver/api/info"
    assert data["path"] == "/api/info"


def test_base_url_and_url_include_the_script_name_under_wsgi(inspect_app: App) -> None:
    status, _, body = call_wsgi(inspect_app, "/info", SCRIPT_NAME="/api")
    assert status == 200
    data = json.loads(body)
    assert data["base_url"] == "http://testserver/api/"
    assert data["url"] == "http://testserver/api/info"


def test_host_comes_from_the_host_header_with_its_port(
    make_client: ClientFactory, inspect_app: App
) -> None:
    client = make_client(inspect_app)
    data = client.get("/x", headers={"host": "example.org:8080"}).json()
    assert data["host"] == "example.org:8080"
    assert data["url"] == "http://example.org:8080/x"
    assert client.get("/x").json()["host"] == "testserver"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("scheme", "server", "host"),
    [
        ("http", ("10.0.0.1", 8080), "10.0.0.1:8080"),
        ("http", ("10.0.0.1", 80), "10.0.0.1"),
        ("https", ("example.com", 443), "example.com"),
        ("https", ("example.com", 80), "example.com:80"),
        ("http", ("example.com", None), "example.com"),
        ("http", None, "localhost"),
    ],
)
async def test_host_comes_from_the_server_without_a_host_header(
    inspect_app: App, scheme: str, server: tuple[str, int | None] | None, host: str
) -> None:
    _, _, body, _ = await call_asgi(inspect_app, "/x", headers=[], scheme=scheme, server=server)
    data = json.loads(body)
    assert data["host"] == host
    assert data["url"] == f"{scheme}://{host}/x"


@pytest.mark.parametrize(
    ("scheme", "port", "host"),
    [
        ("http", "8080", "wsgi.local:8080"),
        ("http", "80", "wsgi.local"),
        ("https", "443", "wsgi.local"),
    ],
)
def test_host_comes_from_server_name_and_port_without_a_host_header_under_wsgi(
    inspect_app: App, scheme: str, port: str, host: str
) -> None:
    environ: dict[str, Any] = {"wsgi.url_scheme": scheme}
    _, _, body = call_wsgi(
        inspect_app, "/x", HTTP_HOST=None, SERVER_NAME="wsgi.local", SERVER_PORT=port, **environ
    )
    assert json.loads(body)["host"] == host


def test_scheme_and_is_secure(make_client: ClientFactory, inspect_app: App) -> None:
    client = make_client(inspect_app)
    plain = client.get("http://testserver/x").json()
    assert (plain["scheme"], plain["secure"]) == ("http", False)
    tls = client.get("https://testserver/x").json()
    assert (tls["scheme"], tls["secure"]) == ("https", True)
    assert tls["url"] == "https://testserver/x"


def test_client_is_the_peer_address(
    make_client: ClientFactory, inspect_app: App, interface: str
) -> None:
    host, port = make_client(inspect_app).get("/x").json()["client"]
    if interface == "asgi":
        assert (host, port) == ("testclient", 50000)
    else:
        assert host == "127.0.0.1"  # httpx's WSGI transport sends no REMOTE_PORT
        assert isinstance(port, int)


@pytest.mark.anyio
async def test_client_is_none_when_the_server_does_not_say(inspect_app: App) -> None:
    _, _, body, _ = await call_asgi(inspect_app, "/x", client=None)
    assert json.loads(body)["client"] is None
    _, _, body, _ = await call_asgi(inspect_app, "/x")
    assert json.loads(body)["client"] == ["203.0.113.9", 4321]


def test_client_under_wsgi_from_remote_addr_and_port(inspect_app: App) -> None:
    _, _, body = call_wsgi(inspect_app, "/x", REMOTE_ADDR="198.51.100.7", REMOTE_PORT="5555")
    assert json.loads(body)["client"] == ["198.51.100.7", 5555]


def test_headers_are_case_insensitive(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/h")
    def headers(request: Request) -> dict[str, Any]:
        return {
            "lower": request.headers.get("x-custom-thing"),
            "upper": request.headers["X-CUSTOM-THING"],
            "has": "X-Custom-Thing" in request.headers,
            "missing": request.headers.get("x-missing", "default"),
            "agent": request.headers.get("User-Agent"),
        }

    response = make_client(app).get("/h", headers={"X-Custom-Thing": "v", "User-Agent": "t/1"})
    assert response.json() == {
        "lower": "v",
        "upper": "v",
        "has": True,
        "missing": "default",
        "agent": "t/1",
    }


def test_repeated_headers_with_getlist_under_asgi() -> None:
    app = App(debug=True)

    @app.get("/h")
    def headers(request: Request) -> dict[str, Any]:
        return {"all": request.headers.getlist("x-tag"), "first": request.headers["x-tag"]}

    with TestClient(app) as client:
        response = client.get("/h", headers=[("X-Tag", "a"), ("x-tag", "b")])
    assert response.json() == {"all": ["a", "b"], "first": "a"}


def test_repeated_headers_arrive_joined_under_wsgi() -> None:
    # NOTE: a WSGI server folds repeated headers into one comma-separated value.
    app = App(debug=True)

    @app.get("/h")
    def headers(request: Request) -> list[str]:
        return request.headers.getlist("x-tag")

    _, _, body = call_wsgi(app, "/h", HTTP_X_TAG="a,b")
    assert json.loads(body) == ["a,b"]


def test_query_is_a_multi_dict_with_blank_values_and_plus_as_space(
    make_client: ClientFactory,
) -> None:
    app = App(debug=True)

    @app.get("/q")
    def query(request: Request) -> dict[str, Any]:
        q = request.query
        assert isinstance(q, QueryParams)
        assert request.query_params is q  # the alias, and parsed once
        return {
            "tag": q["tag"],
            "tags": q.getlist("tag"),
            "blank": q.get("blank"),
            "bare": q.get("bare"),
            "space": q["space"],
            "plus": q["plus"],
            "utf": q["utf"],
            "missing": q.get("missing"),
        }

    response = make_client(app).get("/q?tag=a&tag=b&blank=&bare&space=a+b&plus=%2B&utf=caf%C3%A9")
    assert response.json() == {
        "tag": "b",
        "tags": ["a", "b"],
        "blank": "",
        "bare": "",
        "space": "a b",
        "plus": "+",
        "utf": "café",
        "missing": None,
    }


def test_query_that_is_not_utf8_is_400(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/q")
    def query(request: Request) -> dict[str, Any]:
        return dict(request.query)

    response = make_client(app).get("/q?name=%FF")
    assert response.status_code == 400
    assert "not valid UTF-8" in response.json()["detail"]


def test_cookies_are_parsed_tolerantly(make_client: ClientFactory, inspect_app: App) -> None:
    cookie = 'sid=abc; junk; bad name=1; theme="dark"; sid=second'
    data = make_client(inspect_app).get("/x", headers={"cookie": cookie}).json()
    assert data["cookies"] == {"sid": "abc", "theme": "dark"}
    assert make_client(inspect_app).get("/x").json()["cookies"] == {}


def test_state_is_per_request_and_shared_with_hooks(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.before_request
    def load_user(request: Request) -> None:
        assert "user" not in request.state  # fresh for every request
        request.state.user = request.headers.get("x-user", "anonymous")

    @app.get("/me")
    def me(request: Request) -> dict[str, Any]:
        return {"user": request.state.user, "other": request.state.get("other", "none")}

    client = make_client(app)
    assert client.get("/me", headers={"x-user": "ada"}).json() == {"user": "ada", "other": "none"}
    assert client.get("/me").json() == {"user": "anonymous", "other": "none"}


def test_request_id_is_taken_from_a_sane_header_or_generated(
    make_client: ClientFactory, inspect_app: App
) -> None:
    client = make_client(inspect_app)
    given = client.get("/x", headers={"x-request-id": "abc-123_x.y"})
    assert given.json()["request_id"] == "abc-123_x.y"
    assert given.headers["x-request-id"] == "abc-123_x.y"
    generated = client.get("/x", headers={"x-request-id": "no spaces\tplease"})
    rid = generated.json()["request_id"]
    assert rid
    assert rid != "no spaces\tplease"
    assert generated.headers["x-request-id"] == rid
    assert client.get("/x").json()["request_id"] != rid


def test_request_id_is_none_when_turned_off(make_client: ClientFactory) -> None:
    app = App(settings=Settings(debug=True, request_id=False))

    @app.get("/x")
    def handler(request: Request) -> dict[str, Any]:
        return {"rid": request.request_id}

    response = make_client(app).get("/x")
    assert response.json() == {"rid": None}
    assert "x-request-id" not in response.headers


def test_content_type_is_the_lower_case_media_type(
    make_client: ClientFactory, inspect_app: App
) -> None:
    client = make_client(inspect_app)
    sent = client.post(
        "/x", content=b"{}", headers={"content-type": "Application/JSON; charset=UTF-8"}
    )
    assert sent.json()["content_type"] == "application/json"
    assert client.get("/x").json()["content_type"] == ""


def test_url_for_is_absolute(make_client: ClientFactory, inspect_app: App) -> None:
    app = inspect_app

    @app.get("/link", name="link")
    def link(request: Request) -> dict[str, Any]:
        return {
            "item": request.url_for("item", item_id=7),
            "query": request.url_for("item", item_id=7, tab="info"),
            "app": request.app.url_for("item", item_id=7),
        }

    client = make_client(app)
    data = client.get("https://testserver:8443/link").json()
    assert data == {
        "item": "https://testserver:8443/items/7",
        "query": "https://testserver:8443/items/7?tab=info",
        "app": "/items/7",
    }


@pytest.mark.anyio
async def test_url_for_includes_the_root_path() -> None:
    app = App(debug=True)

    @app.get("/info", name="info")
    def info(request: Request) -> dict[str, Any]:
        return {"self": request.url_for("info")}

    _, _, body, _ = await call_asgi(app, "/api/info", raw_path=b"/api/info", root_path="/api")
    assert json.loads(body)["self"] == "http://testserver/api/info"


# -- the body, async -----------------------------------------------------------------------


@pytest.fixture
def body_app() -> App:
    app = App(settings=Settings(debug=True, max_body_size=64))

    class Item(msgspec.Struct):
        name: str
        price: int

    @app.post("/body")
    async def body(request: Request) -> dict[str, Any]:
        data = await request.body()
        again = await request.body()  # kept once read
        assert data is again
        return {"body": data.decode(), "length": len(data)}

    @app.post("/json")
    async def as_json(request: Request) -> dict[str, Any]:
        return {"got": await request.json()}

    @app.post("/item")
    async def item(request: Request) -> dict[str, Any]:
        parsed = await request.json(Item)
        assert isinstance(parsed, Item)
        return {"name": parsed.name, "price": parsed.price}

    @app.post("/ints")
    async def ints(request: Request) -> dict[str, Any]:
        return {"sum": sum(await request.json(list[int]))}

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        fields = await request.form()
        assert await request.form() is fields  # parsed once
        upload = fields.get("doc")
        return {
            "name": fields.get("name"),
            "colours": fields.getlist("colour"),
            "file": None
            if upload is None or isinstance(upload, str)
            else [upload.filename, upload.content_type, (await upload.aread()).decode()],
        }

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, Any]:
        pieces = [chunk.decode() async for chunk in request.stream()]
        return {"chunks": pieces}

    @app.post("/stream-big")
    async def stream_big(request: Request) -> dict[str, Any]:
        size = 0
        async for chunk in request.stream(limit=1000):
            size += len(chunk)
        return {"size": size}

    @app.post("/stream-twice")
    async def stream_twice(request: Request) -> dict[str, Any]:
        first = [chunk async for chunk in request.stream()]
        try:
            async for _chunk in request.stream():
                pass
        except RuntimeError as exc:
            return {"first": b"".join(first).decode(), "error": str(exc)}
        return {"first": b"".join(first).decode(), "error": None}

    return app


def test_body_json_and_validated_json(make_client: ClientFactory, body_app: App) -> None:
    client = make_client(body_app)
    assert client.post("/body", content=b"hello").json() == {"body": "hello", "length": 5}
    assert client.post("/body").json() == {"body": "", "length": 0}
    assert client.post("/json", json={"a": [1, 2]}).json() == {"got": {"a": [1, 2]}}
    assert client.post("/item", json={"name": "pen", "price": 3}).json() == {
        "name": "pen",
        "price": 3,
    }
    assert client.post("/ints", json=[1, 2, 3]).json() == {"sum": 6}


def test_json_of_the_wrong_shape_is_422_with_the_location(
    make_client: ClientFactory, body_app: App
) -> None:
    response = make_client(body_app).post("/item", json={"name": "pen", "price": "free"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"] == [
        {"loc": ["body", "price"], "msg": "Expected `int`, got `str`", "type": "invalid"}
    ]
    assert "body.price" in problem["detail"]
    missing = make_client(body_app).post("/item", json={"name": "pen"})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {
            "loc": ["body", "price"],
            "msg": "Object missing required field `price`",
            "type": "missing",
        }
    ]
    nested = make_client(body_app).post("/ints", json=[1, "x"])
    assert nested.json()["errors"][0]["loc"] == ["body", 1]


def test_malformed_or_empty_json_is_400(make_client: ClientFactory, body_app: App) -> None:
    client = make_client(body_app)
    malformed = client.post(
        "/json", content=b'{"a": ', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["detail"].startswith("Malformed JSON in request body")
    empty = client.post("/json")
    assert empty.status_code == 400
    assert empty.json()["detail"] == "Request body is empty; expected JSON"


def test_json_nested_too_deep_is_400(make_client: ClientFactory) -> None:
    app = App(settings=Settings(debug=True, max_json_depth=3))

    @app.post("/json")
    async def as_json(request: Request) -> dict[str, Any]:
        return {"got": await request.json()}

    client = make_client(app)
    assert client.post("/json", content=b"[[[1]]]").json() == {"got": [[[1]]]}
    too_deep = client.post("/json", content=b"[[[[1]]]]")
    assert too_deep.status_code == 400
    assert "nested deeper than 3 levels" in too_deep.json()["detail"]
    # brackets inside strings do not count, escaped quotes do not end a string
    assert client.post("/json", content=b'["[[[[[["]').json() == {"got": ["[[[[[["]}
    escaped = b'["\\"[[[[[[", {"k": "\\\\"}]'
    assert client.post("/json", content=escaped).json() == {"got": ['"[[[[[[', {"k": "\\"}]}


def test_form_urlencoded_and_multipart(make_client: ClientFactory, body_app: App) -> None:
    client = make_client(body_app)
    encoded = client.post("/form", data={"name": "ada lovelace", "colour": ["red", "blue"]})
    assert encoded.json() == {"name": "ada lovelace", "colours": ["red", "blue"], "file": None}
    multipart = client.post(
        "/form",
        data={"name": "ada", "colour": ["green"]},
        files={"doc": ("notes.txt", b"hi", "text/plain")},
    )
    assert multipart.json() == {
        "name": "ada",
        "colours": ["green"],
        "file": ["notes.txt", "text/plain", "hi"],
    }


def test_body_over_the_limit_is_413_with_the_setting_to_raise(
    make_client: ClientFactory, body_app: App
) -> None:
    client = make_client(body_app)
    assert client.post("/body", content=b"x" * 64).status_code == 200
    response = client.post("/body", content=b"x" * 65)
    assert response.status_code == 413
    assert "limit of 64 bytes" in response.json()["detail"]
    assert "OAKLING_MAX_BODY_SIZE" in response.json()["detail"]


def test_chunked_body_over_the_limit_is_413(make_client: ClientFactory, body_app: App) -> None:
    def generate() -> Iterator[bytes]:
        yield b"x" * 40
        yield b"x" * 40

    response = make_client(body_app).post("/body", content=generate())
    assert response.status_code == 413


def test_invalid_content_length_is_400(make_client: ClientFactory, body_app: App) -> None:
    response = make_client(body_app).post("/body", content=b"abc", headers={"content-length": "3x"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid Content-Length header: '3x'"


@pytest.mark.anyio
async def test_stream_yields_the_chunks_as_they_arrive(body_app: App) -> None:
    status, _, body, calls = await call_asgi(
        body_app, "/stream", method="POST", messages=chunks(b"ab", b"", b"cd", b"ef")
    )
    assert status == 200
    assert json.loads(body) == {"chunks": ["ab", "cd", "ef"]}  # empty messages skipped
    assert calls == 4


@pytest.mark.anyio
async def test_body_joins_several_messages(body_app: App) -> None:
    _, _, body, _ = await call_asgi(
        body_app, "/body", method="POST", messages=chunks(b"he", b"ll", b"o")
    )
    assert json.loads(body) == {"body": "hello", "length": 5}


@pytest.mark.anyio
async def test_stream_over_the_limit_mid_body_is_413(body_app: App) -> None:
    status, _, body, calls = await call_asgi(
        body_app,
        "/stream",
        method="POST",
        messages=chunks(b"x" * 40, b"x" * 40, b"never read"),
    )
    assert status == 413
    assert "limit of 64 bytes" in json.loads(body)["detail"]
    assert calls == 2  # refused as soon as the limit was crossed


@pytest.mark.anyio
async def test_declared_length_over_the_limit_is_refused_before_reading(body_app: App) -> None:
    status, _, _, calls = await call_asgi(
        body_app,
        "/body",
        method="POST",
        headers=[(b"host", b"testserver"), (b"content-length", b"1000000")],
        messages=chunks(b"x"),
    )
    assert status == 413
    assert calls == 0


@pytest.mark.anyio
async def test_stream_with_a_larger_limit_takes_a_larger_body(body_app: App) -> None:
    status, _, body, _ = await call_asgi(
        body_app, "/stream-big", method="POST", messages=chunks(b"x" * 500, b"x" * 400)
    )
    assert status == 200
    assert json.loads(body) == {"size": 900}
    status, _, _, _ = await call_asgi(
        body_app, "/stream-big", method="POST", messages=chunks(b"x" * 600, b"x" * 401)
    )
    assert status == 413


@pytest.mark.anyio
async def test_client_disconnect_mid_body_raises_client_disconnected() -> None:
    app = App(debug=True)
    seen: list[BaseException] = []

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        try:
            async for _chunk in request.stream():
                pass
        except ClientDisconnected as exc:
            seen.append(exc)
            raise
        return {}

    @app.post("/body")
    async def body(request: Request) -> dict[str, Any]:
        await request.body()
        return {}

    messages = [{"type": "http.request", "body": b"part", "more_body": True}]
    status, _, content, _ = await call_asgi(
        app, "/upload", method="POST", messages=[*messages, {"type": "http.disconnect"}]
    )
    assert status == 499  # nobody receives it
    assert content == b""
    assert len(seen) == 1
    assert str(seen[0]) == "Client disconnected while sending the body"
    assert isinstance(seen[0], ConnectionError)
    status, _, _, _ = await call_asgi(
        app, "/body", method="POST", messages=[{"type": "http.disconnect"}]
    )
    assert status == 499


def test_client_disconnect_mid_body_under_wsgi() -> None:
    app = App(debug=True)
    seen: list[BaseException] = []

    @app.post("/upload")
    def upload(request: Request) -> dict[str, Any]:
        try:
            request.read_body()
        except ClientDisconnected as exc:
            seen.append(exc)
            raise
        return {}

    status, _, _ = call_wsgi(app, "/upload", method="POST", body=b"short", CONTENT_LENGTH="100")
    assert status == 499
    assert len(seen) == 1


def test_stream_twice_raises_a_clear_runtime_error(
    make_client: ClientFactory, body_app: App
) -> None:
    response = make_client(body_app).post("/stream-twice", content=b"data")
    assert response.json() == {
        "first": "data",
        "error": "The request body was already consumed by stream()",
    }


@pytest.mark.anyio
async def test_stream_twice_over_several_messages(body_app: App) -> None:
    _, _, body, _ = await call_asgi(
        body_app, "/stream-twice", method="POST", messages=chunks(b"da", b"ta")
    )
    assert json.loads(body)["error"] == "The request body was already consumed by stream()"


@pytest.mark.anyio
async def test_stream_after_body_gives_the_kept_body() -> None:
    app = App(debug=True)

    @app.post("/both")
    async def both(request: Request) -> dict[str, Any]:
        whole = await request.body()
        streamed = [chunk async for chunk in request.stream()]
        return {"whole": whole.decode(), "streamed": [c.decode() for c in streamed]}

    _, _, body, _ = await call_asgi(app, "/both", method="POST", messages=chunks(b"ab", b"cd"))
    assert json.loads(body) == {"whole": "abcd", "streamed": ["abcd"]}


# -- the body, sync twins --------------------------------------------------------------


@pytest.fixture
def sync_app() -> App:
    app = App(settings=Settings(debug=True, max_body_size=64))

    @app.post("/body")
    def body(request: Request) -> dict[str, Any]:
        return {"body": request.read_body().decode()}

    @app.post("/json")
    def as_json(request: Request) -> dict[str, Any]:
        return {"got": request.read_json(), "again": request.read_json()}

    @app.post("/item")
    def item(request: Request) -> dict[str, Any]:
        return {"ints": request.read_json(list[int])}

    @app.post("/form")
    def form(request: Request) -> dict[str, Any]:
        fields = request.read_form()
        upload = fields.get("doc")
        return {
            "name": fields.get("name"),
            "colours": fields.getlist("colour"),
            "file": None if upload is None or isinstance(upload, str) else upload.read().decode(),
        }

    @app.post("/iter")
    def iterate(request: Request) -> dict[str, Any]:
        return {"size": sum(len(chunk) for chunk in request.iter_body())}

    return app


def test_sync_twins_in_a_sync_handler(make_client: ClientFactory, sync_app: App) -> None:
    # NOTE: under ASGI the body is read before a sync handler taking Request runs.
    client = make_client(sync_app)
    assert client.post("/body", content=b"hello").json() == {"body": "hello"}
    assert client.post("/json", json={"a": 1}).json() == {"got": {"a": 1}, "again": {"a": 1}}
    assert client.post("/item", json=[1, 2]).json() == {"ints": [1, 2]}
    assert client.post("/item", json=["x"]).status_code == 422
    assert client.post("/json", content=b"{").status_code == 400
    assert client.post("/iter", content=b"x" * 50).json() == {"size": 50}
    assert client.post("/form", data={"name": "ada", "colour": ["red", "blue"]}).json() == {
        "name": "ada",
        "colours": ["red", "blue"],
        "file": None,
    }
    assert client.post(
        "/form", data={"name": "ada"}, files={"doc": ("a.txt", b"file body", "text/plain")}
    ).json() == {"name": "ada", "colours": [], "file": "file body"}


def test_sync_twins_respect_the_body_limit(make_client: ClientFactory, sync_app: App) -> None:
    client = make_client(sync_app)
    response = client.post("/body", content=b"x" * 65)
    assert response.status_code == 413
    assert "limit of 64 bytes" in response.json()["detail"]

    def generate() -> Iterator[bytes]:
        yield b"x" * 40
        yield b"x" * 40

    assert client.post("/body", content=generate()).status_code == 413


def test_iter_body_twice_raises_under_wsgi() -> None:
    app = App(debug=True)

    @app.post("/twice")
    def twice(request: Request) -> dict[str, Any]:
        first = b"".join(request.iter_body())
        try:
            b"".join(request.iter_body())
        except RuntimeError as exc:
            return {"first": first.decode(), "error": str(exc)}
        return {"first": first.decode(), "error": None}

    status, _, body = call_wsgi(app, "/twice", method="POST", body=b"abc", CONTENT_LENGTH="3")
    assert status == 200
    assert json.loads(body) == {
        "first": "abc",
        "error": "The request body was already consumed by iter_body()",
    }


def test_sync_twins_in_an_async_handler(make_client: ClientFactory, interface: str) -> None:
    app = App(debug=True)

    @app.post("/early")
    async def early(request: Request) -> dict[str, Any]:
        try:
            return {"body": request.read_body().decode()}
        except RuntimeError as exc:
            return {"error": str(exc)}

    @app.post("/late")
    async def late(request: Request) -> dict[str, Any]:
        await request.body()
        return {"body": request.read_body().decode(), "json": request.read_json()}

    client = make_client(app)
    early_answer = client.post("/early", content=b"[1]").json()
    if interface == "asgi":
        # NOTE: the sync twins cannot read from the network under ASGI.
        assert early_answer["error"].startswith("The body of this request has not been read yet")
        assert "await request.body()" in early_answer["error"]
    else:
        assert early_answer == {"body": "[1]"}
    assert client.post("/late", content=b"[1]").json() == {"body": "[1]", "json": [1]}


def test_body_is_the_same_for_async_and_sync_readers_under_wsgi() -> None:
    app = App(debug=True)

    @app.post("/mixed")
    async def mixed(request: Request) -> dict[str, Any]:
        first = await request.body()
        return {"async": first.decode(), "sync": request.read_body().decode()}

    status, _, body = call_wsgi(app, "/mixed", method="POST", body=b"abc", CONTENT_LENGTH="3")
    assert status == 200
    assert json.loads(body) == {"async": "abc", "sync": "abc"}


def test_sync_handler_reads_an_empty_body(make_client: ClientFactory, interface: str) -> None:
    app = App(debug=True)

    @app.get("/empty")
    def empty(request: Request) -> dict[str, Any]:
        return {"body": request.read_body().decode()}

    assert make_client(app).get("/empty").json() == {"body": ""}


@pytest.mark.anyio
async def test_sync_handler_reads_a_chunked_body_under_asgi(sync_app: App) -> None:
    status, _, body, _ = await call_asgi(
        sync_app, "/body", method="POST", messages=chunks(b"ab", b"cd")
    )
    assert status == 200
    assert json.loads(body) == {"body": "abcd"}


def test_request_outside_a_server_has_no_body_to_read() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    with pytest.raises(RuntimeError, match="has not been read yet"):
        request.read_body()


def test_read_body_over_the_declared_limit_raises_payload_too_large() -> None:
    request = Request(
        {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"99")]},
        wsgi_input=io.BytesIO(b"x" * 99),
    )
    request.limits = type(request.limits)(max_body_size=10)
    with pytest.raises(PayloadTooLarge, match="limit of 10 bytes"):
        request.read_body()


def test_header_reads_one_header_over_both_interfaces(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.post("/one")
    def one(request: Request) -> dict[str, Any]:
        return {
            "agent": request.header("User-Agent"),
            "type": request.header("content-type"),
            "length": request.header("Content-Length"),
            "missing": request.header("x-missing"),
        }

    response = make_client(app).post(
        "/one", content=b"abc", headers={"user-agent": "probe/1", "content-type": "text/plain"}
    )
    assert response.json() == {
        "agent": "probe/1",
        "type": "text/plain",
        "length": "3",
        "missing": None,
    }
