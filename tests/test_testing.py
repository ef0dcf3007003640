from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from oakling import App, Request, Response, Settings, redirect
from oakling.http.response import PlainTextResponse
from oakling.testing import AsyncTestClient, TestClient, WebSocketClosed, WebSocketRejected

if TYPE_CHECKING:
    from oakling._types import Receive, Scope, Send

ClientFactory = Callable[[App], TestClient]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # AsyncTestClient runs on asyncio


async def describe_form(request: Request) -> dict[str, list[Any]]:
    fields: dict[str, list[Any]] = {}
    for key, value in (await request.form()).multi_items():
        if isinstance(value, str):
            fields.setdefault(key, []).append(value)
        else:
            data = (await value.aread()).decode()
            described = {"filename": value.filename, "type": value.content_type, "data": data}
            fields.setdefault(key, []).append(described)
    return fields


def make_app() -> App:
    app = App(debug=True)

    @app.get("/login")
    def login() -> Response:
        response = PlainTextResponse("welcome")
        response.set_cookie("sid", "abc123")
        response.set_cookie("theme", "dark", httponly=False, path="/")
        return response

    @app.get("/logout")
    def logout() -> Response:
        response = PlainTextResponse("bye")
        response.delete_cookie("sid")
        return response

    @app.get("/cookies")
    def cookies(request: Request) -> dict[str, str]:
        return request.cookies

    @app.get("/old")
    def old() -> Response:
        return redirect("/new?from=old")

    @app.get("/chain")
    def chain() -> Response:
        return redirect("/old", 301)

    @app.get("/new")
    def new(request: Request) -> dict[str, Any]:
        return {"at": "new", "from": request.query.get("from")}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        content_type = request.content_type
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return {"type": content_type, "form": await describe_form(request)}
        if content_type == "application/json":
            return {"type": content_type, "json": await request.json()}
        return {"type": content_type, "body": (await request.body()).decode()}

    @app.get("/inspect")
    def inspect(request: Request) -> dict[str, Any]:
        return {
            "url": request.url,
            "query": request.query.multi_items(),
            "agent": request.headers.get("user-agent"),
            "custom": request.headers.get("x-custom"),
            "host": request.host,
        }

    @app.get("/fail")
    def fail() -> None:
        raise RuntimeError("handler bug")

    return app


# -- TestClient ----------------------------------------------------------------------------


def test_test_client_is_an_httpx_client_on_testserver(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    assert isinstance(client, httpx.Client)
    response = client.get("/inspect", params={"q": "a b", "tag": ["x", "y"]})
    assert response.status_code == 200
    assert response.json()["url"] == "http://testserver/inspect?q=a+b&tag=x&tag=y"
    assert response.json()["query"] == [["q", "a b"], ["tag", "x"], ["tag", "y"]]
    assert response.json()["host"] == "testserver"
    assert response.request.url == "http://testserver/inspect?q=a+b&tag=x&tag=y"


def test_headers_are_sent(make_client: ClientFactory) -> None:
    response = make_client(make_app()).get(
        "/inspect", headers={"User-Agent": "tester/2", "X-Custom": "yes"}
    )
    assert response.json()["agent"] == "tester/2"
    assert response.json()["custom"] == "yes"


def test_base_url_changes_the_host(interface: str) -> None:
    with TestClient(make_app(), wsgi=interface == "wsgi", base_url="https://example.org") as c:
        data = c.get("/inspect").json()
    assert data["url"] == "https://example.org/inspect"
    assert data["host"] == "example.org"


def test_cookie_jar_keeps_set_cookie_between_requests(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    assert client.get("/cookies").json() == {}
    login = client.get("/login")
    assert login.cookies["sid"] == "abc123"
    assert client.cookies.get("sid") == "abc123"
    assert client.get("/cookies").json() == {"sid": "abc123", "theme": "dark"}
    client.get("/logout")
    assert client.get("/cookies").json() == {"theme": "dark"}  # deleted by Max-Age=0
    client.cookies.set("manual", "1")
    assert client.get("/cookies").json() == {"theme": "dark", "manual": "1"}


def test_redirects_are_not_followed_by_default(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    response = client.get("/old")
    assert response.status_code == 302
    assert response.headers["location"] == "/new?from=old"
    assert response.is_redirect
    followed = client.get("/chain", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.json() == {"at": "new", "from": "old"}
    assert [r.status_code for r in followed.history] == [301, 302]
    assert followed.url == "http://testserver/new?from=old"


def test_follow_redirects_on_the_client(interface: str) -> None:
    with TestClient(make_app(), wsgi=interface == "wsgi", follow_redirects=True) as client:
        response = client.get("/old")
    assert response.status_code == 200
    assert response.json()["at"] == "new"


def test_json_is_encoded(make_client: ClientFactory) -> None:
    response = make_client(make_app()).post("/echo", json={"name": "ada", "tags": [1, 2]})
    assert response.json() == {
        "type": "application/json",
        "json": {"name": "ada", "tags": [1, 2]},
    }
    assert response.request.headers["content-type"] == "application/json"


def test_data_is_form_encoded(make_client: ClientFactory) -> None:
    response = make_client(make_app()).post(
        "/echo", data={"name": "ada lovelace", "colour": ["red", "blue"], "sym": "a&b=c"}
    )
    assert response.json() == {
        "type": "application/x-www-form-urlencoded",
        "form": {"name": ["ada lovelace"], "colour": ["red", "blue"], "sym": ["a&b=c"]},
    }


def test_files_are_multipart_encoded(make_client: ClientFactory) -> None:
    response = make_client(make_app()).post(
        "/echo",
        data={"title": "report"},
        files=[
            ("doc", ("notes.txt", b"first file", "text/plain")),
            ("doc", ("data.csv", b"a,b\n1,2\n", "text/csv")),
        ],
    )
    assert response.json() == {
        "type": "multipart/form-data",
        "form": {
            "title": ["report"],
            "doc": [
                {"filename": "notes.txt", "type": "text/plain", "data": "first file"},
                {"filename": "data.csv", "type": "text/csv", "data": "a,b\n1,2\n"},
            ],
        },
    }


def test_raw_content_is_sent_as_is(make_client: ClientFactory) -> None:
    response = make_client(make_app()).post(
        "/echo", content=b"raw bytes", headers={"content-type": "text/plain"}
    )
    assert response.json() == {"type": "text/plain", "body": "raw bytes"}


def test_app_errors_become_500_responses(make_client: ClientFactory) -> None:
    response = make_client(make_app()).get("/fail")
    assert response.status_code == 500
    assert "traceback" in response.json()  # debug app


def test_client_works_without_a_with_block(interface: str) -> None:
    client = TestClient(make_app(), wsgi=interface == "wsgi")
    try:
        assert client.get("/new").json()["at"] == "new"
    finally:
        client.close()


def test_non_ascii_path_over_wsgi() -> None:
    app = App(debug=True)

    @app.get("/caf\u00e9/{name}")
    def cafe(name: str) -> dict[str, str]:
        return {"name": name}

    with TestClient(app, wsgi=True) as client:
        response = client.get("/caf%C3%A9/%E2%82%AC")
    assert response.status_code == 200
    assert response.json() == {"name": "\u20ac"}


def test_non_ascii_path_over_asgi() -> None:
    app = App(debug=True)

    @app.get("/caf\u00e9/{name}")
    def cafe(name: str) -> dict[str, str]:
        return {"name": name}

    with TestClient(app) as client:
        assert client.get("/caf%C3%A9/%E2%82%AC").json() == {"name": "\u20ac"}


# -- lifespan ------------------------------------------------------------------------------


def lifespan_app(events: list[str]) -> App:
    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, object]]:
        events.append("lifespan enter")
        yield {"pool": "connected"}
        events.append("lifespan exit")

    app = App(debug=True, lifespan=lifespan)

    @app.on_startup
    def starting() -> None:
        events.append("startup")

    @app.on_shutdown
    async def stopping() -> None:
        events.append("shutdown")

    @app.get("/pool")
    def pool(request: Request) -> dict[str, Any]:
        events.append("request")
        return {"pool": request.app.state.pool}

    return app


def test_with_block_runs_the_lifespan_over_asgi() -> None:
    events: list[str] = []
    app = lifespan_app(events)
    with TestClient(app) as client:
        assert events == ["startup", "lifespan enter"]
        assert client.get("/pool").json() == {"pool": "connected"}
    assert events == ["startup", "lifespan enter", "request", "lifespan exit", "shutdown"]


def test_with_block_runs_start_up_and_shutdown_over_wsgi() -> None:
    events: list[str] = []
    app = lifespan_app(events)
    with TestClient(app, wsgi=True) as client:
        assert events == ["startup", "lifespan enter"]
        assert client.get("/pool").json() == {"pool": "connected"}
    assert events == ["startup", "lifespan enter", "request", "lifespan exit", "shutdown"]


def test_a_client_can_start_the_same_app_again() -> None:
    events: list[str] = []
    app = lifespan_app(events)
    with TestClient(app) as client:
        client.get("/pool")
    with TestClient(app) as client:
        client.get("/pool")
    assert events.count("startup") == 2
    assert events.count("shutdown") == 2


def test_start_up_failure_is_raised_by_the_with_block() -> None:
    app = App(debug=True)

    @app.on_startup
    def broken() -> None:
        raise ConnectionError("database is down")

    with (
        pytest.raises(RuntimeError, match="App start-up failed: database is down"),
        TestClient(app),
    ):
        pass


def test_shutdown_failure_is_raised_when_the_with_block_ends() -> None:
    app = App(debug=True)

    @app.on_shutdown
    def broken() -> None:
        raise OSError("cannot flush")

    client = TestClient(app)
    with pytest.raises(RuntimeError, match="App shutdown failed: cannot flush"), client:
        pass
    client.close()  # NOTE: a failed __exit__ leaves the loop thread running (see report)


async def plain_asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app that is not an oakling app: no lifespan support, raises on websockets."""
    if scope["type"] == "lifespan":
        return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        raise ValueError("websocket bug")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["path"].encode()})


def test_test_client_drives_any_asgi_app() -> None:
    with TestClient(plain_asgi_app) as client:  # an app without lifespan support
        assert client.get("/anything").text == "/anything"
        session = client.websocket_connect("/ws")
        with pytest.raises(ValueError, match="websocket bug"), session:  # noqa: PT012
            with pytest.raises(WebSocketClosed) as closed:
                session.receive()
            assert closed.value.code == 1011
            assert "websocket bug" in closed.value.reason


def test_secret_key_check_is_skipped_for_test_clients(interface: str) -> None:
    app = App(settings=Settings(debug=False, secret_key=None))

    @app.get("/")
    def index() -> str:
        return "ok"

    with TestClient(app, wsgi=interface == "wsgi") as client:
        assert client.get("/").text == "ok"


# -- AsyncTestClient -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_requests_and_cookies() -> None:
    async with AsyncTestClient(make_app()) as client:
        assert isinstance(client, httpx.AsyncClient)
        await client.get("/login")
        assert (await client.get("/cookies")).json() == {"sid": "abc123", "theme": "dark"}
        response = await client.post("/echo", json=[1, 2])
        assert response.json() == {"type": "application/json", "json": [1, 2]}
        form = await client.post("/echo", files={"f": ("a.txt", b"x", "text/plain")})
        assert form.json()["form"]["f"][0]["data"] == "x"


@pytest.mark.anyio
async def test_async_client_does_not_follow_redirects_by_default() -> None:
    async with AsyncTestClient(make_app()) as client:
        response = await client.get("/old")
        assert response.status_code == 302
        followed = await client.get("/old", follow_redirects=True)
        assert followed.json() == {"at": "new", "from": "old"}


@pytest.mark.anyio
async def test_async_client_runs_the_lifespan() -> None:
    events: list[str] = []
    async with AsyncTestClient(lifespan_app(events)) as client:
        assert events == ["startup", "lifespan enter"]
        assert (await client.get("/pool")).json() == {"pool": "connected"}
    assert events[-2:] == ["lifespan exit", "shutdown"]


@pytest.mark.anyio
async def test_async_client_reports_app_errors_as_500() -> None:
    async with AsyncTestClient(make_app()) as client:
        assert (await client.get("/fail")).status_code == 500


# -- websocket session errors --------------------------------------------------------------


def test_websocket_errors_carry_the_close_code() -> None:
    closed = WebSocketClosed(4001, "bye")
    assert (closed.code, closed.reason) == (4001, "bye")
    assert str(closed) == "Websocket closed by the app with code 4001 bye"
    assert str(WebSocketClosed(1000)) == "Websocket closed by the app with code 1000"
    assert issubclass(WebSocketRejected, WebSocketClosed)


# -- the pytest plugin ---------------------------------------------------------------------


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OAKLING_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PROJECT_APP = """
from oakling import App, Request


def create_app() -> App:
    app = App(debug=True)
    app.state.started = False

    @app.on_startup
    def start() -> None:
        app.state.started = True

    @app.get("/", name="index")
    def index(request: Request) -> dict[str, object]:
        return {"started": request.app.state.started}

    return app


app = create_app()
"""

PROJECT_TESTS = """
from oakling import App
from oakling.testing import TestClient


def test_app_fixture(app: App) -> None:
    assert isinstance(app, App)
    assert app.url_for("index") == "/"


def test_client_over_asgi_runs_the_lifespan(client: TestClient) -> None:
    assert client.wsgi is False
    assert client.get("/").json() == {"started": True}


def test_wsgi_client(wsgi_client: TestClient) -> None:
    assert wsgi_client.wsgi is True
    assert wsgi_client.get("/").json() == {"started": True}
"""


def test_plugin_fixtures_with_an_app_fixture_in_conftest(tmp_path: Path) -> None:
    (tmp_path / "myapp.py").write_text(PROJECT_APP)
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import pytest

            from myapp import create_app
            from oakling import App


            @pytest.fixture
            def app() -> App:
                return create_app()
            """
        )
    )
    (tmp_path / "test_project.py").write_text(PROJECT_TESTS)
    result = run_pytest(tmp_path, "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


@pytest.mark.parametrize("target", ["myapp:app", "myapp:create_app", "myapp"])
def test_plugin_loads_the_app_named_by_the_ini_option(tmp_path: Path, target: str) -> None:
    (tmp_path / "myapp.py").write_text(PROJECT_APP)
    (tmp_path / "pytest.ini").write_text(f"[pytest]\noakling_app = {target}\n")
    (tmp_path / "test_project.py").write_text(PROJECT_TESTS)
    result = run_pytest(tmp_path, "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_plugin_loads_the_app_named_by_the_environment(tmp_path: Path) -> None:
    (tmp_path / "myapp.py").write_text(PROJECT_APP)
    (tmp_path / "test_project.py").write_text(PROJECT_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["OAKLING_APP"] = "myapp:create_app"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_plugin_says_how_to_name_the_app_when_there_is_none(tmp_path: Path) -> None:
    (tmp_path / "test_project.py").write_text(PROJECT_TESTS)
    result = run_pytest(tmp_path, "-q")
    assert result.returncode == 1
    assert "No app to test: define an 'app' fixture in conftest.py" in result.stdout
    assert "3 errors" in result.stdout


def test_plugin_is_registered_in_this_run(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("oakling")
    assert pytestconfig.getini("oakling_app") == ""  # the ini option is declared
