from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, TypedDict

import msgspec
import pydantic
import pytest
from tests.conftest import ClientFactory

from oakling import App, Body, Cookie, Depends, Form, Header, Query, Request
from oakling.exceptions import ConfigurationError
from oakling.http.multipart import UploadFile


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class User(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=0)


def test_query_params_of_every_shape(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/q")
    def q(
        tags: list[str],
        color: Color = Color.RED,
        page: int | None = None,
        ratio: float = 1.0,
        flag: bool = False,
        key: uuid.UUID | None = None,
        size: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10,
        search: Annotated[str, Query(alias="q")] = "",
    ) -> dict[str, Any]:
        return {
            "tags": tags,
            "color": color.value,
            "page": page,
            "ratio": ratio,
            "flag": flag,
            "key": str(key) if key else None,
            "size": size,
            "q": search,
        }

    client = make_client(app)
    key = uuid.uuid4()
    response = client.get(
        f"/q?tags=a&tags=b&color=blue&page=3&ratio=0.5&flag=yes&key={key}&size=7&q=hi"
    )
    assert response.json() == {
        "tags": ["a", "b"],
        "color": "blue",
        "page": 3,
        "ratio": 0.5,
        "flag": True,
        "key": str(key),
        "size": 7,
        "q": "hi",
    }
    defaults = client.get("/q?tags=x").json()
    assert defaults["page"] is None
    assert defaults["color"] == "red"
    assert defaults["size"] == 10


def test_every_bad_query_param_is_listed(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/q")
    def q(
        tags: list[int],
        color: Color,
        size: Annotated[int, msgspec.Meta(ge=1)] = 10,
        ratio: float = 1.0,
    ) -> None: ...

    response = make_client(app).get("/q?tags=1&tags=x&color=green&size=0&ratio=nan")
    assert response.status_code == 422
    errors = {tuple(e["loc"]): e["msg"] for e in response.json()["errors"]}
    assert set(errors) == {
        ("query", "tags"),
        ("query", "color"),
        ("query", "size"),
        ("query", "ratio"),
    }
    assert "integer" in errors[("query", "tags")]
    assert ">= 1" in errors[("query", "size")]
    missing = make_client(app).get("/q").json()["errors"]
    assert {tuple(e["loc"]) for e in missing} == {("query", "tags"), ("query", "color")}
    assert all(e["msg"] == "Field required" for e in missing)


def test_headers_and_cookies(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/h")
    def h(
        user_agent: Annotated[str, Header()],
        token: Annotated[str, Header(alias="X-Api-Token")],
        count: Annotated[int, Header()] = 0,
        session: Annotated[str | None, Cookie()] = None,
        theme: Annotated[str, Cookie(alias="ui-theme")] = "light",
    ) -> dict[str, Any]:
        return {
            "ua": user_agent,
            "token": token,
            "count": count,
            "session": session,
            "theme": theme,
        }

    client = make_client(app)
    response = client.get(
        "/h",
        headers={
            "user-agent": "pytest",
            "x-api-token": "t",
            "count": "3",
            "cookie": "session=abc; ui-theme=dark",
        },
    )
    assert response.json() == {
        "ua": "pytest",
        "token": "t",
        "count": 3,
        "session": "abc",
        "theme": "dark",
    }
    bad = client.get("/h", headers={"user-agent": "x", "count": "many"})
    assert bad.status_code == 422
    locs = [tuple(e["loc"]) for e in bad.json()["errors"]]
    assert ("header", "X-Api-Token") in locs
    assert ("header", "count") in locs


def test_body_models_of_every_kind(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.post("/struct")
    def struct(item: Item) -> Item:
        return item

    @app.post("/dataclass")
    def dc(point: Point) -> dict[str, int]:
        return {"sum": point.x + point.y}

    @app.post("/typeddict")
    def td(movie: Movie) -> Movie:
        return movie

    @app.post("/pydantic")
    def pd(user: User) -> User:
        return user

    @app.post("/list")
    def many(items: list[Item]) -> int:
        return len(items)  # type: ignore[return-value]

    @app.post("/raw")
    def raw(data: Annotated[dict[str, int], Body()]) -> dict[str, int]:
        return data

    client = make_client(app)
    assert client.post("/struct", json={"name": "a", "price": 1}).json() == {
        "name": "a",
        "price": 1.0,
        "tags": [],
    }
    assert client.post("/dataclass", json={"x": 1, "y": 2}).json() == {"sum": 3}
    assert client.post("/typeddict", json={"title": "Up", "year": 2009}).json()["year"] == 2009
    assert client.post("/pydantic", json={"name": "ann", "age": 3}).json() == {
        "name": "ann",
        "age": 3,
    }
    assert client.post("/raw", json={"a": 1}).json() == {"a": 1}
    bad = client.post("/pydantic", json={"name": "ann", "age": -1})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "age"]
    bad = client.post("/struct", json={"name": "a", "price": "cheap"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "price"]
    nested = client.post("/list", json=[{"name": "a", "price": 1}, {"name": "b", "price": "x"}])
    assert nested.status_code == 422
    assert nested.json()["errors"][0]["loc"] == ["body", 1, "price"]
    assert (
        client.post(
            "/pydantic", content=b"{nope", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_body_model_from_a_form(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    client = make_client(app)
    response = client.post("/items", data={"name": "pen", "price": "2.5", "tags": ["a", "b"]})
    assert response.json() == {"name": "pen", "price": 2.5, "tags": ["a", "b"]}
    one_tag = client.post("/items", data={"name": "pen", "price": "2.5", "tags": "a"})
    assert one_tag.json()["tags"] == ["a"]
    bad = client.post("/items", data={"name": "pen", "price": "lots"})
    assert bad.status_code == 422


def test_form_fields_and_uploaded_files(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.post("/upload")
    def upload(
        title: Annotated[str, Form()],
        document: UploadFile,
        attachments: list[UploadFile] | None = None,
        count: Annotated[int, Form()] = 1,
    ) -> dict[str, Any]:
        return {
            "title": title,
            "name": document.filename,
            "content": document.read().decode(),
            "type": document.content_type,
            "extra": [a.filename for a in attachments or []],
            "count": count,
        }

    client = make_client(app)
    response = client.post(
        "/upload",
        data={"title": "report", "count": "2"},
        files=[
            ("document", ("../../etc/a.txt", b"hello", "text/plain")),
            ("attachments", ("b.bin", b"\x00", "application/octet-stream")),
            ("attachments", ("c.bin", b"\x01", "application/octet-stream")),
        ],
    )
    assert response.json() == {
        "title": "report",
        "name": "a.txt",
        "content": "hello",
        "type": "text/plain",
        "extra": ["b.bin", "c.bin"],
        "count": 2,
    }
    missing = client.post("/upload", data={"title": "x"}, files={"other": ("x", b"1")})
    assert missing.status_code == 422
    assert ["file", "document"] in [e["loc"] for e in missing.json()["errors"]]
    not_form = client.post("/upload", json={"title": "x"})
    assert not_form.status_code == 415


def test_dependencies_sync_async_generators_cached(make_client: ClientFactory) -> None:
    app = App(debug=True)
    log: list[str] = []

    def settings() -> dict[str, str]:
        log.append("settings")
        return {"env": "test"}

    def db(config: Annotated[dict[str, str], Depends(settings)]) -> Iterator[str]:
        log.append("open")
        try:
            yield f"db-{config['env']}"
        except RuntimeError:
            log.append("rollback")
            raise
        else:
            log.append("commit")
        finally:
            log.append("close")

    async def user(
        token: Annotated[str, Header(alias="x-token")],
        conn: Annotated[str, Depends(db)],
    ) -> AsyncIterator[str]:
        yield f"{token}@{conn}"
        log.append("user-done")

    @app.get("/")
    async def index(
        who: Annotated[str, Depends(user)],
        conn: Annotated[str, Depends(db)],
        config: Annotated[dict[str, str], Depends(settings)],
    ) -> dict[str, str]:
        return {"who": who, "conn": conn, **config}

    @app.get("/fail")
    def fail(conn: Annotated[str, Depends(db)]) -> None:
        raise RuntimeError("handler failed")

    client = make_client(app)
    response = client.get("/", headers={"x-token": "t"})
    assert response.json() == {"who": "t@db-test", "conn": "db-test", "env": "test"}
    assert log == ["settings", "open", "user-done", "commit", "close"]
    log.clear()
    assert client.get("/").status_code == 422
    assert log == []
    assert client.get("/fail").status_code == 500
    assert log == ["settings", "open", "rollback", "close"]


def test_dependency_in_default_position(make_client: ClientFactory) -> None:
    app = App(debug=True)

    def answer() -> int:
        return 42

    @app.get("/")
    def index(value: int = Depends(answer)) -> dict[str, int]:
        return {"value": value}

    assert make_client(app).get("/").json() == {"value": 42}


def test_request_injected_by_type(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.post("/echo")
    def echo(req: Request) -> bytes:
        return req.read_body()

    @app.post("/aecho")
    async def aecho(req: Request) -> bytes:
        return await req.body()

    client = make_client(app)
    assert client.post("/echo", content=b"abc").content == b"abc"
    assert client.post("/aecho", content=b"xyz").content == b"xyz"


def test_unreadable_parameter_type_fails_at_registration() -> None:
    app = App(debug=True)
    with pytest.raises(ConfigurationError, match="cannot be read from text"):

        @app.get("/x")
        def x(data: Annotated[dict[str, int], Header()]) -> None: ...


def test_path_marker_without_path_param_fails_at_registration() -> None:
    from oakling import Path

    app = App(debug=True)
    with pytest.raises(ConfigurationError, match=r"has no \{slug\}"):

        @app.get("/x")
        def x(slug: Annotated[str, Path()]) -> None: ...


def test_path_param_with_enum_annotation(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/paint/{color}")
    def paint(color: Color) -> str:
        return color.value

    client = make_client(app)
    assert client.get("/paint/red").text == "red"
    bad = client.get("/paint/green")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["path", "color"]


def test_sequence_params_keep_their_container(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/s")
    def s(ids: set[int], pair: tuple[str, ...] = ()) -> dict[str, Any]:
        return {"ids": sorted(ids), "set": isinstance(ids, set), "tuple": isinstance(pair, tuple)}

    response = make_client(app).get("/s?ids=1&ids=1&ids=2&pair=a")
    assert response.json() == {"ids": [1, 2], "set": True, "tuple": True}


def test_two_body_parameters_fail_at_registration() -> None:
    app = App(debug=True)
    with pytest.raises(ConfigurationError, match="2 body parameters"):

        @app.post("/x")
        def x(item: Item, point: Point) -> None: ...


def test_sync_generator_dependency_runs_in_thread_for_async_handler(
    make_client: ClientFactory, interface: str
) -> None:
    import threading

    app = App(debug=True)
    threads: list[str] = []

    def resource() -> Iterator[int]:
        threads.append(threading.current_thread().name)
        yield 1
        threads.append(threading.current_thread().name)

    @app.get("/")
    async def index(value: Annotated[int, Depends(resource)]) -> dict[str, int]:
        threads.append(threading.current_thread().name)
        return {"value": value}

    assert make_client(app).get("/").json() == {"value": 1}
    if interface == "asgi":
        assert threads[0].startswith("oakling-sync")
        assert threads[2].startswith("oakling-sync")
        assert not threads[1].startswith("oakling-sync")


class Ledger:
    """A resource with a function-scoped provider declared on the class."""

    def __init__(self, log: list[str]) -> None:
        self.log = log


class CommitFailed(Exception):
    pass


def test_function_scoped_dependency_finishes_before_the_response(
    make_client: ClientFactory,
) -> None:
    log: list[str] = []

    def ledger(request: Request) -> Iterator[Ledger]:
        try:
            yield Ledger(log)
        except Exception as exc:
            log.append(f"rollback {type(exc).__name__}")
            raise
        if request.query_params.get("fail_commit"):
            log.append("commit failed")
            raise CommitFailed("duplicate key")
        log.append("commit")

    Ledger.__oakling_depends__ = Depends(ledger, scope="function")  # type: ignore[attr-defined]

    app = App(debug=True)

    @app.errorhandler(CommitFailed)
    def conflict(request: Request, exc: CommitFailed) -> tuple[str, int]:
        return f"conflict: {exc} (log: {', '.join(log)})", 409

    @app.get("/write")
    def write(ledger: Ledger) -> str:
        ledger.log.append("handler")
        return "written, log: " + ", ".join(ledger.log)

    @app.get("/boom")
    def boom(ledger: Ledger) -> str:
        raise ValueError("handler failed")

    client = make_client(app)
    response = client.get("/write")
    assert response.status_code == 200
    assert log == ["handler", "commit"]  # committed before the response was returned

    log.clear()
    response = client.get("/write?fail_commit=1")
    assert response.status_code == 409
    assert response.text == "conflict: duplicate key (log: handler, commit failed)"

    log.clear()
    response = client.get("/boom")
    assert response.status_code == 500
    assert log == ["rollback ValueError"]


def test_depends_scope_is_checked() -> None:
    with pytest.raises(ValueError, match="scope must be 'request' or 'function'"):
        Depends(lambda: 1, scope="session")  # type: ignore[arg-type]


def test_guards_run_first_and_pass_nothing_to_the_handler(make_client: ClientFactory) -> None:
    from oakling import Forbidden
    from oakling.params import guard

    calls: list[str] = []

    def api_key(key: Annotated[str | None, Header(alias="X-API-Key")] = None) -> str:
        calls.append("api_key")
        if key != "s3cret":
            raise Forbidden("Wrong API key")
        return "checked"

    async def audit(request: Request) -> None:
        calls.append(f"audit {request.method}")

    app = App(debug=True)

    @app.post("/items/{item_id}")
    @guard(api_key, audit)
    def create(item_id: int, body: Item) -> dict[str, object]:
        calls.append("handler")
        return {"id": item_id, "name": body.name}

    client = make_client(app)
    item = {"name": "pen", "price": 1.5}
    refused = client.post("/items/1", json=item)
    assert (refused.status_code, refused.json()["detail"]) == (403, "Wrong API key")
    assert calls == ["api_key"]  # the handler never ran

    calls.clear()
    # the guard runs before the body is validated: no 422 leaks for the unauthorised
    assert client.post("/items/1", json={"name": 3}).status_code == 403

    calls.clear()
    ok = client.post("/items/7", json=item, headers={"X-API-Key": "s3cret"})
    assert ok.json() == {"id": 7, "name": "pen"}
    assert calls == ["api_key", "audit POST", "handler"]


def test_a_guard_above_the_route_decorator_is_refused() -> None:
    from oakling.params import guard

    app = App(debug=True)
    with pytest.raises(ConfigurationError, match="above the route decorator"):

        @guard(lambda: None)
        @app.get("/")
        def index() -> str:
            return "open"


def test_text_field_where_a_file_is_expected_is_a_422(make_client: ClientFactory) -> None:
    app = App()

    @app.post("/up")
    def up(file: UploadFile, extras: list[UploadFile] | None = None) -> dict[str, str]:
        return {"file": type(file).__name__}

    client = make_client(app)
    sent = client.post("/up", data={"file": "not a file"}, files={"x": ("x.txt", b"x")})
    assert sent.status_code == 422
    assert sent.json()["errors"] == [
        {
            "loc": ["file", "file"],
            "msg": "Expected a file upload, got a text field",
            "type": "invalid",
        }
    ]
    mixed = client.post(
        "/up", data={"extras": "text"}, files=[("file", ("a.txt", b"a")), ("extras", ("b", b"b"))]
    )
    assert mixed.status_code == 422
    assert mixed.json()["errors"][0]["loc"] == ["file", "extras"]
    fine = client.post("/up", files={"file": ("a.txt", b"a")})
    assert fine.json() == {"file": "UploadFile"}
