"""The showcase app (examples/showcase/app.py), driven over ASGI and WSGI."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from oakling import App
from oakling.testing import TestClient, WebSocketRejected

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

SHOWCASE = Path(__file__).resolve().parents[2] / "examples" / "showcase" / "app.py"


def load_showcase() -> ModuleType:
    """Import a fresh copy of the showcase module (a new app, an empty inventory)."""
    # NOTE: documents.py (its component) is imported afresh; models.py is kept, since its
    # tables may be declared once per process.
    sys.modules.pop("documents", None)
    if str(SHOWCASE.parent) not in sys.path:
        sys.path.insert(0, str(SHOWCASE.parent))
    name = "oakling_showcase_app"
    spec = importlib.util.spec_from_file_location(name, SHOWCASE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # NOTE: msgspec resolves the Structs' annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def showcase_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test's showcase gets its own SQLite file (migrated at start-up), cheap hashing."""
    monkeypatch.setenv("OAKLING_DATABASE_URL", f"sqlite:///{tmp_path}/showcase.sqlite3")
    monkeypatch.setenv("OAKLING_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("OAKLING_PASSWORD_MEMORY_COST", "1024")
    monkeypatch.setenv("OAKLING_PASSWORD_PARALLELISM", "1")


@pytest.fixture
def showcase(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.delenv("OAKLING_DEBUG", raising=False)
    return load_showcase()


@pytest.fixture(params=["asgi", "wsgi"])
def client(request: pytest.FixtureRequest, showcase: ModuleType) -> Iterator[TestClient]:
    with TestClient(showcase.app, wsgi=request.param == "wsgi") as test_client:
        yield test_client


def test_module_exposes_app_and_wsgi_callable(showcase: ModuleType) -> None:
    assert isinstance(showcase.app, App)
    assert showcase.wsgi is showcase.app.wsgi
    assert showcase.app.debug is False


def test_debug_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAKLING_DEBUG", "1")
    module = load_showcase()
    assert module.app.debug is True
    with TestClient(module.app) as test_client:
        assert "Debug mode is on." in test_client.get("/").text


def test_home_page_is_html_with_links(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>oakling showcase</h1>" in response.text
    assert "Debug mode is off." in response.text
    assert "No items yet." in response.text
    assert '<form method="post" action="/items">' in response.text
    assert '<a href="http://testserver/api/items">' in response.text
    assert "<code>ws://testserver/ws/echo</code>" in response.text


def test_create_read_replace_delete_over_the_api(client: TestClient) -> None:
    created = client.post("/api/items", json={"name": "pen", "price": 1.5, "tags": ["office"]})
    assert created.status_code == 201
    assert created.json() == {"id": 1, "name": "pen", "price": 1.5, "tags": ["office"]}
    assert created.headers["location"] == "http://testserver/api/items/1"

    assert client.get("/api/items/1").json() == created.json()
    replaced = client.put("/api/items/1", json={"name": "blue pen", "price": 2})
    assert replaced.json() == {"id": 1, "name": "blue pen", "price": 2.0, "tags": []}

    deleted = client.delete("/api/items/1")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get("/api/items").json() == []


def test_listing_with_query_and_pagination(client: TestClient) -> None:
    for name in ("red pen", "cup", "green pen"):
        assert client.post("/api/items", json={"name": name, "price": 1}).status_code == 201
    assert [i["name"] for i in client.get("/api/items").json()] == ["red pen", "cup", "green pen"]
    assert [i["name"] for i in client.get("/api/items?q=PEN").json()] == ["red pen", "green pen"]
    page = client.get("/api/items", params={"q": "pen", "limit": 1, "offset": 1}).json()
    assert [i["id"] for i in page] == [3]


def test_missing_item_is_404_from_the_error_handler(client: TestClient) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = client.request(method, "/api/items/42", json={"name": "x", "price": 1})
        assert response.status_code == 404
        assert response.json()["detail"] == "No item with id 42"
        assert response.headers["content-type"] == "application/problem+json"


def test_non_integer_id_does_not_match_the_route(client: TestClient) -> None:
    response = client.get("/api/items/abc")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"name": "", "price": 1}, ["body", "name"], "length >= 1"),
        ({"name": "x" * 51, "price": 1}, ["body", "name"], "length <= 50"),
        ({"name": "pen", "price": 0}, ["body", "price"], "> 0"),
        ({"name": "pen", "price": "cheap"}, ["body", "price"], "Expected `float`"),
        ({"name": "pen"}, ["body", "price"], "missing required field `price`"),
        (
            {"name": "pen", "price": 1, "colour": "red"},
            ["body", "colour"],
            "unknown field `colour`",
        ),
        ({"name": "pen", "price": 1, "tags": [1]}, ["body", "tags", 0], "Expected `str`"),
    ],
)
def test_invalid_body_is_422_problem_details(
    client: TestClient, body: dict[str, object], loc: list[object], message: str
) -> None:
    response = client.post("/api/items", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["errors"][0]["loc"] == loc
    assert message in problem["errors"][0]["msg"]
    assert client.get("/api/items").json() == []


def test_invalid_query_params_are_all_listed(client: TestClient) -> None:
    response = client.get("/api/items?limit=0&offset=-1")
    assert response.status_code == 422
    errors = {tuple(e["loc"]): e["msg"] for e in response.json()["errors"]}
    assert errors == {
        ("query", "limit"): "Expected `int` >= 1",
        ("query", "offset"): "Expected `int` >= 0",
    }
    assert client.get("/api/items?limit=many").status_code == 422


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/api/items", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "Malformed JSON" in response.json()["detail"]


def test_html_form_creates_an_item_and_redirects(client: TestClient) -> None:
    response = client.post("/items", data={"name": "<b>mug</b>", "price": "3.5"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    page = client.get("/").text
    assert "&lt;b&gt;mug&lt;/b&gt;</a>: 3.50" in page
    assert "<b>mug</b>" not in page


def test_invalid_form_shows_an_html_error_page_to_browsers(client: TestClient) -> None:
    response = client.post(
        "/items", data={"name": "mug", "price": "free"}, headers={"accept": "text/html"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<code>body.price</code>" in response.text


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.patch("/api/items/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PUT"


def test_websocket_round_trip() -> None:
    module = load_showcase()
    with TestClient(module.app) as test_client, test_client.websocket_connect("/ws/echo") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_text("again")
        assert ws.receive_text() == "again"


def test_websocket_unknown_path_is_rejected() -> None:
    module = load_showcase()
    with TestClient(module.app) as test_client:
        with pytest.raises(WebSocketRejected) as info, test_client.websocket_connect("/ws/nope"):
            pass
        assert info.value.code == 4404


def test_websocket_route_over_plain_http_is_426(client: TestClient) -> None:
    response = client.get("/ws/echo")
    assert response.status_code == 426
    assert response.headers["upgrade"] == "websocket"


def test_url_for_builds_the_component_routes(showcase: ModuleType) -> None:
    app: App = showcase.app
    assert app.url_for("api.item", item_id=7) == "/api/items/7"
    assert app.url_for("api.list_items", q="pen") == "/api/items?q=pen"
    assert app.url_for("home") == "/"
    assert app.url_for("echo") == "/ws/echo"


def _csrf(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _sign_up(client: TestClient, name: str) -> None:
    page = client.get("/auth/signup", headers={"Accept": "text/html"})
    response = client.post(
        "/auth/signup",
        data={
            "username": name,
            "email": f"{name}@example.com",
            "new_password": "amber-kettle-lantern",
            "new_password_again": "amber-kettle-lantern",
            "csrf_token": _csrf(page.text),
        },
    )
    assert response.status_code == 303, response.text


def test_documents_pages_with_sign_in_form_and_flash(client: TestClient) -> None:
    html = {"Accept": "text/html"}
    listing = client.get("/documents", headers=html)
    assert listing.status_code == 200
    assert "No documents yet." in listing.text
    assert '<link rel="stylesheet" href="/static/style.css">' in listing.text
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
    refused = client.get("/documents/new", headers=html)
    assert refused.status_code == 303
    assert refused.headers["location"] == "/auth/login?next=%2Fdocuments%2Fnew"

    _sign_up(client, "ann")
    form = client.get("/documents/new", headers=html)
    token = _csrf(form.text)
    invalid = client.post(
        "/documents/new", data={"title": "", "body": "<b>x</b>", "csrf_token": token}
    )
    assert invalid.status_code == 422
    assert "&lt;b&gt;x&lt;/b&gt;" in invalid.text  # the value typed comes back, escaped
    saved = client.post(
        "/documents/new", data={"title": "Plan <1>", "body": "Steps", "csrf_token": token}
    )
    assert saved.status_code == 303
    after = client.get("/documents", headers=html)
    assert "Saved “Plan &lt;1&gt;”." in after.text  # a flash message, shown once
    assert "Plan &lt;1&gt;" in after.text
    assert "Saved" not in client.get("/documents", headers=html).text
    duplicate = client.post("/documents/new", data={"title": "Plan <1>", "csrf_token": token})
    assert duplicate.status_code == 422
    assert "A document with this title exists." in duplicate.text
    api = client.get("/api/documents").json()
    assert api["total"] == 1
    assert api["items"][0]["title"] == "Plan <1>"


def test_only_staff_may_delete(client: TestClient, showcase: ModuleType) -> None:
    from sqlalchemy import select

    from oakling.auth import User
    from oakling.db.session import session

    _sign_up(client, "bob")
    token = _csrf(client.get("/documents/new", headers={"Accept": "text/html"}).text)
    client.post("/documents/new", data={"title": "Keep", "csrf_token": token})
    assert client.post("/documents/1/delete", data={"csrf_token": token}).status_code == 403
    assert client.get("/api/documents").json()["total"] == 1  # nothing deleted
    with session(showcase.app) as db:
        db.scalars(select(User)).one().is_staff = True
    assert client.post("/documents/1/delete", data={"csrf_token": token}).status_code == 303
    assert client.get("/api/documents").json()["total"] == 0
    assert client.post("/documents/1/delete", data={"csrf_token": token}).status_code == 404
