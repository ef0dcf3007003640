"""Each bad input the framework promises to handle: status, message, nothing stored."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest
from tests.conftest import ClientFactory

from oakling import App, Cookie, Form, Settings


class Item(msgspec.Struct):
    name: str
    price: float


def make_app(**settings: Any) -> tuple[App, list[Any]]:
    stored: list[Any] = []
    app = App(settings=Settings(**{"debug": True, **settings}))

    @app.post("/items", status=201)
    def create(item: Item) -> dict[str, bool]:
        stored.append(item)
        return {"ok": True}

    @app.post("/form")
    def form(name: Annotated[str, Form()]) -> dict[str, str]:
        stored.append(name)
        return {"name": name}

    @app.get("/search")
    def search(q: str = "", page: int = 1) -> dict[str, Any]:
        return {"q": q, "page": page}

    @app.get("/who")
    def who(session: Annotated[str | None, Cookie()] = None) -> dict[str, Any]:
        return {"session": session}

    return app, stored


def test_body_over_limit_is_413_without_reading_it(make_client: ClientFactory) -> None:
    app, stored = make_app(max_body_size=100)
    response = make_client(app).post(
        "/items", content=b"x" * 101, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "limit of 100 bytes" in response.json()["detail"]
    assert stored == []


def test_declared_length_over_limit_is_413(make_client: ClientFactory) -> None:
    from oakling.http.request import Request

    app, _ = make_app(max_body_size=10)
    received: list[Any] = []

    async def receive() -> dict[str, Any]:
        received.append(1)
        return {"type": "http.request", "body": b"x" * 5, "more_body": True}

    request = Request(
        {"type": "http", "headers": [(b"content-length", b"1000000")]}, receive, limits=app.limits
    )
    import asyncio

    from oakling.exceptions import PayloadTooLarge

    with pytest.raises(PayloadTooLarge) as info:
        asyncio.run(request.body())
    assert info.value.status_code == 413
    assert received == []


def test_malformed_json_is_400_saying_where(make_client: ClientFactory) -> None:
    app, stored = make_app()
    response = make_client(app).post(
        "/items", content=b'{"name": "a", "price": }', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("Malformed JSON")
    assert "char" in detail or "byte" in detail
    assert stored == []


def test_wrong_and_missing_fields_are_422_listing_each(make_client: ClientFactory) -> None:
    app, stored = make_app()
    response = make_client(app).post("/items", json={"name": 5})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["loc"] == ["body", "name"]
    assert "Expected `str`" in errors[0]["msg"]
    missing = make_client(app).post("/items", json={"name": "a"})
    assert missing.status_code == 422
    assert "price" in missing.json()["errors"][0]["msg"]
    assert stored == []


def test_empty_body_for_required_model_is_422(make_client: ClientFactory) -> None:
    app, stored = make_app()
    response = make_client(app).post("/items")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body"], "msg": "Field required", "type": "missing"}
    ]
    assert stored == []


def test_wrong_query_type_is_422_with_location(make_client: ClientFactory) -> None:
    app, _ = make_app()
    response = make_client(app).get("/search?page=two")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "page"]


def test_bad_percent_encoding_in_query_is_400(make_client: ClientFactory) -> None:
    app, _ = make_app()
    response = make_client(app).get("/search?q=%ff%fe")
    assert response.status_code == 400
    assert "query string" in response.json()["detail"].lower()


def test_non_utf8_path_is_400(make_client: ClientFactory) -> None:
    app, _ = make_app()
    response = make_client(app).get("/search%ff")
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]


def test_nul_in_path_is_400(make_client: ClientFactory) -> None:
    app, _ = make_app()
    response = make_client(app).get("/search%00")
    assert response.status_code == 400


def test_unknown_host_is_400_outside_allowed_hosts(make_client: ClientFactory) -> None:
    app, _ = make_app(
        debug=False, secret_key="s" * 50, allowed_hosts=("example.com", ".example.org")
    )
    client = make_client(app)
    response = client.get("/search", headers={"host": "evil.test"})
    assert response.status_code == 400
    assert "Invalid Host header 'evil.test'" in response.json()["detail"]
    assert client.get("/search", headers={"host": "example.com:8000"}).status_code == 200
    assert client.get("/search", headers={"host": "api.example.org"}).status_code == 200
    assert client.get("/search", headers={"host": "example.org"}).status_code == 200
    assert client.get("/search", headers={"host": "badexample.org"}).status_code == 400


def test_host_is_not_checked_in_debug(make_client: ClientFactory) -> None:
    app, _ = make_app(allowed_hosts=("example.com",))
    assert make_client(app).get("/search", headers={"host": "192.168.1.9:8000"}).status_code == 200


def test_too_many_form_fields_is_413(make_client: ClientFactory) -> None:
    app, stored = make_app(max_form_fields=10)
    data = {f"f{i}": "x" for i in range(11)} | {"name": "n"}
    response = make_client(app).post("/form", data=data)
    assert response.status_code == 413
    assert "form fields" in response.json()["detail"]
    assert stored == []


def test_too_many_multipart_parts_is_413(make_client: ClientFactory) -> None:
    app, stored = make_app(max_multipart_parts=5)
    files = [(f"f{i}", (f"{i}.txt", b"x")) for i in range(6)]
    response = make_client(app).post("/form", data={"name": "n"}, files=files)
    assert response.status_code == 413
    assert stored == []


def test_malformed_multipart_is_400(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    no_boundary = client.post(
        "/form", content=b"--x\r\n", headers={"content-type": "multipart/form-data"}
    )
    assert no_boundary.status_code == 400
    assert "boundary" in no_boundary.json()["detail"]
    unterminated = client.post(
        "/form",
        content=b'--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nvalue',
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert unterminated.status_code == 400
    assert stored == []


def test_malformed_cookie_header_is_ignored(make_client: ClientFactory) -> None:
    app, _ = make_app()
    response = make_client(app).get(
        "/who", headers={"cookie": 'junk; =x; bad name=1; session="abc"; ;;'}
    )
    assert response.status_code == 200
    assert response.json() == {"session": "abc"}


def test_unsupported_media_type_is_415(make_client: ClientFactory) -> None:
    app, stored = make_app()
    response = make_client(app).post(
        "/items", content=b"<item/>", headers={"content-type": "application/xml"}
    )
    assert response.status_code == 415
    assert "application/xml" in response.json()["detail"]
    assert stored == []


def test_deeply_nested_json_is_400(make_client: ClientFactory) -> None:
    app, stored = make_app()
    body = b"[" * 10000 + b"]" * 10000
    response = make_client(app).post(
        "/items", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]
    assert stored == []


def test_json_with_nan_or_huge_number_is_rejected(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    for raw in (b'{"name": "a", "price": NaN}', b'{"name": "a", "price": 1e999999}'):
        response = client.post("/items", content=raw, headers={"content-type": "application/json"})
        assert response.status_code in (400, 422), raw
    assert stored == []


def test_invalid_content_length_is_400(make_client: ClientFactory, interface: str) -> None:
    import asyncio

    from oakling.exceptions import BadRequest
    from oakling.http.request import Request

    request = Request({"type": "http", "headers": [(b"content-length", b"12abc")]}, None)
    with pytest.raises(BadRequest, match="Content-Length"):
        asyncio.run(request.body())


def test_several_host_headers_are_400_and_reach_no_handler() -> None:
    import asyncio

    app, stored = make_app(debug=False, secret_key="s" * 50, allowed_hosts=("good.example",))
    sent: list[dict[str, Any]] = []
    body = b'{"name": "a", "price": 1}'

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/items",
        "raw_path": b"/items",
        "query_string": b"",
        "headers": [
            (b"host", b"evil.example"),
            (b"host", b"good.example"),
            (b"content-type", b"application/json"),
        ],
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 400
    assert b"several Host headers" in sent[1]["body"]
    assert stored == []
