from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pytest
from tests.conftest import ClientFactory

from oakling import App, Component, HTTPError, Request, Response, View, redirect
from oakling.exceptions import ConfigurationError, NoRouteFound


class Item(msgspec.Struct):
    name: str
    price: float


def make_app() -> App:
    app = App(debug=True)

    @app.get("/plaintext")
    def plaintext() -> Response:
        return Response("Hello, World!", media_type="text/plain")

    @app.get("/json")
    async def json_() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/users/{id:int}")
    def user(id: int) -> dict[str, Any]:
        return {"id": id, "name": f"user{id}"}

    @app.get("/inferred/{id}")
    def inferred(id: int) -> dict[str, int]:
        return {"id": id}

    @app.get("/query")
    def query(limit: int = 10, offset: int = 0) -> dict[str, int]:
        return {"limit": limit, "offset": offset}

    @app.post("/items", status=201)
    def create(item: Item) -> dict[str, Any]:
        return {"id": 1, **msgspec.structs.asdict(item)}

    @app.get("/docs/")
    def docs() -> str:
        return "<h1>docs</h1>"

    @app.route("/multi", methods=["GET", "POST"])
    def multi(request: Request) -> str:
        return request.method

    return app


def test_issue_contract_routes(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    response = client.get("/plaintext")
    assert response.status_code == 200
    assert response.text == "Hello, World!"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert client.get("/json").json() == {"message": "Hello, World!"}
    assert client.get("/users/5").json() == {"id": 5, "name": "user5"}
    assert client.get("/query?limit=3").json() == {"limit": 3, "offset": 0}
    created = client.post("/items", json={"name": "pen", "price": 1.5})
    assert created.status_code == 201
    assert created.json() == {"id": 1, "name": "pen", "price": 1.5}


def test_converter_inferred_from_annotation(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    assert client.get("/inferred/12").json() == {"id": 12}
    assert client.get("/inferred/abc").status_code == 404


def test_unknown_path_is_404_problem_json(make_client: ClientFactory) -> None:
    response = make_client(make_app()).get("/missing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert "/missing" in body["detail"]


def test_browser_gets_html_error_page(make_client: ClientFactory) -> None:
    response = make_client(make_app()).get("/missing", headers={"accept": "text/html,*/*"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>404 Not Found</h1>" in response.text


def test_wrong_method_is_405_with_allow(make_client: ClientFactory) -> None:
    response = make_client(make_app()).delete("/json")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert "GET, HEAD, OPTIONS" in response.json()["detail"]


def test_head_answers_get_routes_without_body(make_client: ClientFactory) -> None:
    response = make_client(make_app()).head("/json")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(b'{"message":"Hello, World!"}'))


def test_options_lists_allowed_methods(make_client: ClientFactory) -> None:
    response = make_client(make_app()).options("/multi")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_route_with_several_methods(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    assert client.get("/multi").text == "GET"
    assert client.post("/multi").text == "POST"


def test_missing_trailing_slash_redirects_308_keeping_query(make_client: ClientFactory) -> None:
    response = make_client(make_app()).get("/docs?page=2")
    assert response.status_code == 308
    assert response.headers["location"] == "/docs/?page=2"


def test_url_for_with_query_and_errors() -> None:
    app = make_app()
    assert app.url_for("user", id=3) == "/users/3"
    assert app.url_for("query", limit=5) == "/query?limit=5"
    with pytest.raises(NoRouteFound):
        app.url_for("nope")


def test_request_url_for_is_absolute(make_client: ClientFactory) -> None:
    app = make_app()

    @app.get("/link")
    def link(request: Request) -> str:
        return request.url_for("user", id=9, tab="x")

    assert make_client(app).get("/link").text == "http://testserver/users/9?tab=x"


def test_conflicting_routes_fail_at_registration() -> None:
    app = make_app()
    with pytest.raises(ConfigurationError, match="Route conflict"):

        @app.get("/users/{uid:int}")
        def other(uid: int) -> None: ...


def test_return_value_conversions(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    @app.get("/none")
    def none() -> None:
        return None

    @app.get("/bytes")
    def raw() -> bytes:
        return b"\x00\x01"

    @app.get("/tuple")
    def pair() -> tuple[dict[str, bool], int]:
        return {"ok": True}, 202

    @app.get("/triple")
    def triple() -> tuple[str, int, dict[str, str]]:
        return "made", 201, {"X-Thing": "1"}

    @app.get("/struct")
    def struct() -> Item:
        return Item("a", 2.0)

    @app.get("/dataclass")
    def dc() -> Point:
        return Point(1, 2)

    @app.get("/list")
    def listing() -> list[int]:
        return [1, 2]

    @app.post("/created-empty", status=201)
    def created_empty() -> None:
        return None

    @app.get("/redirect")
    def go() -> Response:
        return redirect("/json")

    client = make_client(app)
    assert client.get("/none").status_code == 204
    response = client.get("/bytes")
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b"\x00\x01"
    response = client.get("/tuple")
    assert (response.status_code, response.json()) == (202, {"ok": True})
    response = client.get("/triple")
    assert (response.status_code, response.text, response.headers["x-thing"]) == (201, "made", "1")
    assert client.get("/struct").json() == {"name": "a", "price": 2.0}
    assert client.get("/dataclass").json() == {"x": 1, "y": 2}
    assert client.get("/list").json() == [1, 2]
    assert client.post("/created-empty").status_code == 201
    response = client.get("/redirect")
    assert (response.status_code, response.headers["location"]) == (302, "/json")


def test_unencodable_return_value_is_500_not_crash(make_client: ClientFactory) -> None:
    app = App(debug=False, settings=None)

    @app.get("/bad")
    def bad() -> object:
        return object()

    response = make_client(app).get("/bad")
    assert response.status_code == 500
    assert "traceback" not in response.text.lower()


def test_components_prefix_namespace_and_hooks(make_client: ClientFactory) -> None:
    app = App(debug=True)
    blog = Component("blog", prefix="/blog")
    calls: list[str] = []

    @blog.get("/")
    def index() -> str:
        return "blog index"

    @blog.get("/{slug:slug}")
    def post(slug: str, request: Request) -> dict[str, str]:
        return {"slug": slug, "url": request.app.url_for("blog.post", slug=slug)}

    @blog.before_request
    def blog_before(request: Request) -> None:
        calls.append("blog-before")

    @app.before_request
    def app_before(request: Request) -> None:
        calls.append("app-before")

    @blog.errorhandler(404)
    def blog_404(request: Request, exc: Exception) -> tuple[str, int]:
        return "no such post", 404

    @blog.get("/missing/x")
    def missing() -> None:
        raise HTTPError(404)

    @app.get("/")
    def home() -> str:
        return "home"

    app.include(blog)
    client = make_client(app)
    assert client.get("/blog/").text == "blog index"
    assert client.get("/blog/hello").json() == {"slug": "hello", "url": "/blog/hello"}
    assert calls == ["app-before", "blog-before", "app-before", "blog-before"]
    calls.clear()
    assert client.get("/").text == "home"
    assert calls == ["app-before"]
    assert client.get("/blog/missing/x").text == "no such post"
    assert app.url_for("blog.index") == "/blog/"


def test_component_included_with_other_prefix_and_nested() -> None:
    app = App(debug=True)
    api = Component("api")
    v1 = Component("v1", prefix="/v1")

    @v1.get("/ping")
    def ping() -> str:
        return "pong"

    api.include(v1)
    app.include(api, prefix="/api")
    assert app.url_for("api.v1.ping") == "/api/v1/ping"


def test_routes_added_to_component_after_include_are_served(make_client: ClientFactory) -> None:
    app = App(debug=True)
    shop = Component("shop", prefix="/shop")
    app.include(shop)

    @shop.get("/late")
    def late() -> str:
        return "late"

    assert make_client(app).get("/shop/late").text == "late"


def test_class_based_view(make_client: ClientFactory) -> None:
    app = App(debug=True)
    store: dict[int, str] = {1: "one"}

    @app.route("/things/{id:int}")
    class Thing(View):
        def get(self, id: int) -> dict[str, Any]:
            return {"id": id, "name": store.get(id)}

        async def delete(self, id: int) -> None:
            store.pop(id, None)

    client = make_client(app)
    assert client.get("/things/1").json() == {"id": 1, "name": "one"}
    assert client.delete("/things/1").status_code == 204
    assert store == {}
    assert client.post("/things/1").status_code == 405
    assert app.url_for("Thing", id=1) == "/things/1"


def test_mount_wsgi_and_asgi_apps(make_client: ClientFactory) -> None:
    def legacy(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        body = f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}"
        return [body.encode()]

    sub = App(debug=True)

    @sub.get("/hello")
    def hello(request: Request) -> str:
        return f"sub:{request.scope['root_path']}"

    app = App(debug=True)
    app.mount("/legacy", legacy)
    app.mount("/sub", sub)
    client = make_client(app)
    assert client.get("/legacy/a/b").text == "/legacy|/a/b"
    assert client.get("/sub/hello").text == "sub:/sub"
    assert client.get("/sub/nope").status_code == 404


def test_before_request_can_short_circuit_and_after_request_modifies(
    make_client: ClientFactory,
) -> None:
    app = App(debug=True)
    torn_down: list[Any] = []

    @app.before_request
    async def guard(request: Request) -> Response | None:
        if request.headers.get("x-block"):
            return Response("blocked", 403)
        return None

    @app.after_request
    def stamp(request: Request, response: Response) -> Response:
        response.headers["X-Stamped"] = "yes"
        return response

    @app.teardown_request
    def teardown(request: Request, exc: BaseException | None) -> None:
        torn_down.append(type(exc).__name__ if exc else None)

    @app.get("/")
    def index() -> str:
        return "ok"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    client = make_client(app)
    response = client.get("/")
    assert (response.text, response.headers["x-stamped"]) == ("ok", "yes")
    response = client.get("/", headers={"x-block": "1"})
    assert (response.status_code, response.text) == (403, "blocked")
    assert client.get("/boom").status_code == 500
    assert torn_down == [None, None, "RuntimeError"]


def test_asgi_middleware_wraps_app(make_client: ClientFactory) -> None:
    class AddHeader:
        def __init__(self, app: Any, value: str) -> None:
            self.app = app
            self.value = value

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            async def wrapped(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message["headers"], (b"x-mw", self.value.encode())]
                await send(message)

            await self.app(scope, receive, wrapped)

    app = make_app()
    app.add_middleware(AddHeader, value="on")
    response = make_client(app).get("/json")
    assert response.headers["x-mw"] == "on"
    assert response.json() == {"message": "Hello, World!"}


def test_lifespan_and_startup_hooks_run() -> None:
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from oakling.testing import TestClient

    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, int]]:
        events.append("enter")
        yield {"answer": 42}
        events.append("exit")

    app = App(debug=True, lifespan=lifespan)
    app.on_startup(lambda: events.append("startup"))
    app.on_shutdown(lambda: events.append("shutdown"))

    @app.get("/")
    def index(request: Request) -> dict[str, int]:
        return {"answer": request.app.state.answer}

    with TestClient(app) as client:
        assert client.get("/").json() == {"answer": 42}
    assert events == ["startup", "enter", "exit", "shutdown"]


def test_mounted_app_runs_its_lifespan_and_hooks(make_client: ClientFactory) -> None:
    events: list[str] = []
    sub = App(debug=True)
    sub.on_startup(lambda: events.append("sub-start"))

    @sub.get("/ping")
    def ping() -> str:
        return "pong"

    app = App(debug=True)
    app.mount("/sub", sub)
    client = make_client(app)
    assert client.get("/sub/ping").text == "pong"
    assert events == ["sub-start"]


def test_app_hooks_run_for_router_answers(make_client: ClientFactory) -> None:
    app = make_app()
    seen: list[int] = []

    @app.after_request
    def stamp(request: Request, response: Response) -> None:
        response.headers["X-Seen"] = "1"
        seen.append(response.status_code)

    client = make_client(app)
    assert client.get("/nowhere").headers["x-seen"] == "1"
    assert client.delete("/json").headers["x-seen"] == "1"
    assert client.get("/docs").headers["x-seen"] == "1"
    assert client.options("/json").headers["x-seen"] == "1"
    assert seen == [404, 405, 308, 204]


def test_custom_error_handler_keeps_the_errors_headers(make_client: ClientFactory) -> None:
    app = make_app()

    @app.errorhandler(405)
    def wrong_method(request: Request, exc: Exception) -> tuple[str, int]:
        return "nope", 405

    response = make_client(app).delete("/json")
    assert (response.text, response.headers["allow"]) == ("nope", "GET, HEAD, OPTIONS")
