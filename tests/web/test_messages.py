from __future__ import annotations

from typing import Any

from tests.conftest import ClientFactory

from oakling import App, Request, redirect
from oakling.config import Settings
from oakling.web.messages import flash, get_flashed_messages

KEY = "k3y-" + "a1b2c3d4e5" * 6


def make_app() -> App:
    app = App(settings=Settings(secret_key=KEY))

    @app.get("/save")
    def save(request: Request) -> Any:
        flash(request, "Saved", "success")
        flash(request, "Check the <b>date</b>", "warning")
        flash(request, "Hello")
        return redirect("/show")

    @app.get("/show")
    def show(request: Request) -> dict[str, Any]:
        return {"messages": get_flashed_messages(request)}

    @app.get("/categories")
    async def categories(request: Request) -> dict[str, Any]:
        first = get_flashed_messages(request, with_categories=True)
        again = get_flashed_messages(request, with_categories=True)
        return {"first": first, "again": again}

    @app.get("/warnings")
    def warnings(request: Request) -> dict[str, Any]:
        return {"messages": get_flashed_messages(request, category_filter=["warning"])}

    return app


def test_messages_are_read_once(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    response = client.get("/save")
    assert response.status_code == 302
    assert client.get("/show").json() == {"messages": ["Saved", "Check the <b>date</b>", "Hello"]}
    assert client.get("/show").json() == {"messages": []}


def test_categories_and_repeated_reads_in_one_request(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    client.get("/save")
    expected = [["success", "Saved"], ["warning", "Check the <b>date</b>"], ["info", "Hello"]]
    assert client.get("/categories").json() == {"first": expected, "again": expected}
    assert client.get("/categories").json() == {"first": [], "again": []}


def test_category_filter_consumes_all(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    client.get("/save")
    assert client.get("/warnings").json() == {"messages": ["Check the <b>date</b>"]}
    assert client.get("/show").json() == {"messages": []}


def test_reading_no_messages_writes_no_cookie(make_client: ClientFactory) -> None:
    response = make_client(make_app()).get("/show")
    assert response.json() == {"messages": []}
    assert "set-cookie" not in response.headers


def test_junk_in_the_session_is_ignored(make_client: ClientFactory) -> None:
    app = make_app()

    @app.get("/junk")
    def junk(request: Request) -> None:
        request.session["_flashes"] = [["ok", "fine"], "junk", [1], None]

    client = make_client(app)
    client.get("/junk")
    assert client.get("/show").json() == {"messages": ["fine"]}
