"""The documentation's examples: each builds an app and answers as the page says."""

from __future__ import annotations

import datetime
import importlib.util
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from oakling import App
from oakling.testing import TestClient, WebSocketClosed, WebSocketRejected

if TYPE_CHECKING:
    import types
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.py"))
# NOTE: docs/responses.md and docs/cli.md are written and checked elsewhere.
OUR_PAGES = sorted(p for p in DOCS.glob("*.md") if p.name not in ("responses.md", "cli.md"))
TEST_MODULES = {"testing_1", "testing_2", "testing_3"}
"""Examples that are test modules: run with pytest, see the last tests here."""

_counter = itertools.count()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Read settings from nothing but the defaults: no OAKLING_* variable, no .env file."""
    for name in list(os.environ):
        if name.startswith("OAKLING_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def load(name: str) -> types.ModuleType:
    """Import a fresh copy of ``docs/examples/<name>.py`` (a new app each time)."""
    module_name = f"docs_example_{name}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # NOTE: msgspec and dataclasses look types up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["asgi", "wsgi"])
def interface(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client_for(interface: str) -> Iterator[Any]:
    """Return ``client_for(name)``: a TestClient for example ``name``, lifespan running."""
    clients: list[TestClient] = []

    def make(name: str) -> TestClient:
        test_client = TestClient(load(name).app, wsgi=interface == "wsgi")
        test_client.__enter__()
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__()
        test_client.close()


# -- every example, every page ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [p for p in EXAMPLE_FILES if p.stem not in ("testing_3",)],
    ids=lambda p: p.stem,
)
def test_example_builds_an_app_with_routes(path: Path) -> None:
    app = load(path.stem).app
    assert isinstance(app, App)
    assert app.endpoints


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_is_quoted_verbatim_in_its_page(path: Path) -> None:
    page = DOCS / f"{path.stem.rsplit('_', 1)[0]}.md"
    block = f"<!-- docs/examples/{path.name} -->\n```python\n{path.read_text()}```\n"
    assert block in page.read_text(), f"{page.name} does not quote {path.name} as it is"


@pytest.mark.parametrize("page", OUR_PAGES, ids=lambda p: p.name)
def test_quoted_examples_exist_and_match(page: Path) -> None:
    text = page.read_text()
    for match in re.finditer(r"<!-- docs/examples/(\w+\.py) -->\n```python\n(.*?)```", text, re.S):
        example = EXAMPLES / match.group(1)
        assert example.is_file(), f"{page.name} quotes a missing {example.name}"
        assert match.group(2) == example.read_text()


def _slug(heading: str) -> str:
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


@pytest.mark.parametrize("page", [*OUR_PAGES, ROOT / "README.md"], ids=lambda p: p.name)
def test_links_point_to_existing_files_and_headings(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        assert linked.exists(), f"{page.name} links to missing {target}"
        if anchor:
            assert anchor in _anchors(linked), f"{page.name}: no heading for {target}"


# -- the README ------------------------------------------------------------------------


def _readme() -> str:
    return (ROOT / "README.md").read_text()


def test_readme_quickstart_is_five_lines_and_serves_html(interface: str) -> None:
    code = re.search(r"```python\n(.*?)```", _readme(), re.S)
    assert code is not None
    assert len(code.group(1).splitlines()) == 5
    namespace: dict[str, Any] = {"__name__": "readme_quickstart"}
    exec(compile(code.group(1), "README.md", "exec"), namespace)
    app = namespace["app"]
    assert isinstance(app, App)
    with TestClient(app, wsgi=interface == "wsgi") as test_client:
        response = test_client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<h1>Hello, oakling!</h1>"
    assert "`oakling run`" in _readme()


def test_readme_set_up_has_two_commands_and_ci_runs_the_test_one() -> None:
    section = _readme().split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", section, re.S)
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -e '.[server,db,templates,forms,auth,api]' "
        "&& cd examples/showcase && ../../.venv/bin/oakling run",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/pytest -n 2",
    ]
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"\n{commands[1]}\n" in ci
    assert "set -euo pipefail" in ci
    assert (EXAMPLES.parent.parent / "examples" / "showcase" / "app.py").is_file()


# -- quickstart ------------------------------------------------------------------------


def test_quickstart_1(client_for: Any) -> None:
    client = client_for("quickstart_1")
    assert client.get("/").text == "<h1>Hello, oakling!</h1>"
    assert client.get("/hello/Ada?excited=yes").json() == {"message": "Hello, Ada!"}
    assert client.get("/hello/Ada").json() == {"message": "Hello, Ada."}
    bad = client.get("/hello/Ada?excited=maybe")
    assert bad.status_code == 422
    assert bad.json()["detail"] == (
        "Invalid input: query.excited: Expected a boolean (true/false, 1/0, yes/no, on/off), "
        "got 'maybe'"
    )


def test_quickstart_2(client_for: Any) -> None:
    client = client_for("quickstart_2")
    created = client.post("/todos", json={"title": "Write docs"})
    assert created.status_code == 201
    assert created.headers["content-type"] == "application/json"
    assert created.json() == {"id": 1, "title": "Write docs", "done": False}
    assert client.get("/todos/1").json() == {"id": 1, "title": "Write docs", "done": False}
    empty = client.post("/todos", json={"title": ""})
    assert empty.status_code == 422
    assert empty.json()["detail"] == "Invalid input: body.title: Expected `str` of length >= 1"
    missing = client.get("/todos/2")
    assert (missing.status_code, missing.json()["detail"]) == (404, "No todo 2")
    assert client.get("/todos/abc").status_code == 404


# -- routing ---------------------------------------------------------------------------


def test_routing_1(client_for: Any) -> None:
    client = client_for("routing_1")
    assert client.get("/").json() == {
        "user": "/users/42",
        "search": "/search/?q=oak&page=2",
        "file": "http://testserver/files/docs/a%20b.txt",
    }
    assert client.get("/users/me").text == "me"
    assert client.get("/users/42").json() == {"id": 42}
    assert client.get("/users/ada").json() == {"username": "ada"}
    uuid_text = "12345678-1234-5678-1234-567812345678"
    assert client.get(f"/orders/{uuid_text}").json() == {"order": uuid_text.replace("-", "")}
    assert client.get("/orders/xyz").status_code == 404
    assert client.get("/files/docs/a%20b.txt").text == "docs/a b.txt"
    redirect = client.get("/search?q=x")
    assert (redirect.status_code, redirect.headers["location"]) == (308, "/search/?q=x")
    assert client.get("/search/?q=x").json() == {"q": "x", "page": 1}
    assert client.get("/users/42/").status_code == 404
    assert client.post("/ping").text == "POST"
    not_allowed = client.delete("/ping")
    assert (not_allowed.status_code, not_allowed.headers["allow"]) == (
        405,
        "GET, HEAD, OPTIONS, POST",
    )
    options = client.options("/ping")
    assert (options.status_code, options.headers["allow"]) == (204, "GET, HEAD, OPTIONS, POST")
    head = client.head("/ping")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "4")


def test_routing_2(client_for: Any) -> None:
    client = client_for("routing_2")
    assert client.get("/archive/2024-05-31").json() == {
        "weekday": "Friday",
        "next": "/archive/2024-06-01",
    }
    assert client.get("/archive/2024-13-45").status_code == 404
    assert client.get("/archive/yesterday").status_code == 404
    app = client.app
    assert app.url_for("archive", day=datetime.date(2024, 1, 2)) == "/archive/2024-01-02"


def test_routing_3(client_for: Any) -> None:
    client = client_for("routing_3")
    assert client.get("/blog/").json() == ["hello-world"]
    redirect = client.get("/blog")
    assert (redirect.status_code, redirect.headers["location"]) == (308, "/blog/")
    assert client.get("/blog/hello-world").json() == {
        "slug": "hello-world",
        "url": "/blog/hello-world",
    }
    assert client.get("/blog/comments/").json() == []
    assert client.get("/legacy/a/b").text == "legacy: /legacy /a/b"
    assert client.app.url_for("blog.comments.list_comments") == "/blog/comments/"


def test_routing_4(client_for: Any) -> None:
    client = client_for("routing_4")
    assert client.get("/notes/1").json() == {"id": 1, "text": "first note"}
    assert client.put("/notes/2?text=hi").json() == {"id": 2, "text": "hi"}
    assert client.delete("/notes/1").status_code == 204
    assert client.get("/notes/1").json() == {"id": 1, "text": None}
    response = client.post("/notes/1")
    assert (response.status_code, response.headers["allow"]) == (
        405,
        "DELETE, GET, HEAD, OPTIONS, PUT",
    )
    assert client.app.url_for("note", note_id=3) == "/notes/3"


def test_routing_5_websocket() -> None:
    with TestClient(load("routing_5").app) as client:
        with client.websocket_connect("/games/3") as websocket:
            assert websocket.receive_json() == {"game": 3, "status": "ready"}
            websocket.send_json({"x": 1, "y": 2})
            assert websocket.receive_json() == {"ok": True, "x": 1, "y": 2}
            websocket.send_json({"x": "left"})
            with pytest.raises(WebSocketClosed) as closed:
                websocket.receive_json()
            assert closed.value.code == 1007
        with pytest.raises(WebSocketRejected) as rejected, client.websocket_connect("/games/x"):
            pass
        assert rejected.value.code == 4404
        assert client.get("/games/3").status_code == 426


# -- handlers --------------------------------------------------------------------------


def test_handlers_1(client_for: Any) -> None:
    client = client_for("handlers_1")
    response = client.get(
        "/shops/3/products?tags=a&tags=b&sort=top&q=oak",
        headers={"user-agent": "curl/8", "x-api-key": "k", "cookie": "theme=dark"},
    )
    assert response.json() == {
        "shop": 3,
        "tags": ["a", "b"],
        "sort": "top",
        "limit": 20,
        "q": "oak",
        "agent": "curl/8",
        "key": "k",
        "theme": "dark",
    }
    bad = client.get("/shops/3/products?sort=old&limit=500")
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"loc": ["query", "tags"], "msg": "Field required", "type": "missing"},
        {"loc": ["query", "sort"], "msg": "Invalid enum value 'old'", "type": "invalid"},
        {"loc": ["query", "limit"], "msg": "Expected `int` <= 100", "type": "invalid"},
    ]


def test_handlers_2(client_for: Any) -> None:
    client = client_for("handlers_2")
    created = client.post("/orders", json={"product": "tea"})
    assert (created.status_code, created.json()) == (201, {"product": "tea", "quantity": 1})
    from_form = client.post("/orders", data={"product": "tea", "quantity": "3"})
    assert from_form.json() == {"product": "tea", "quantity": 3}
    bad = client.post("/orders", json={"product": "tea", "quantity": 0})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "quantity"]
    empty = client.post("/orders")
    assert empty.json()["errors"] == [{"loc": ["body"], "msg": "Field required", "type": "missing"}]
    malformed = client.post("/orders", content=b"{", headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    text = client.post("/orders", content=b"tea", headers={"content-type": "text/plain"})
    assert text.status_code == 415
    assert client.post("/distance", json={"x": 3, "y": 4}).json() == 5.0
    assert client.post("/scores", json={"a": 1, "b": 2}).json() == 3
    assert client.post("/login", data={"username": "ada", "remember": "on"}).text == (
        "ada (remembered)"
    )
    assert client.post("/login", json={"username": "ada"}).status_code == 415
    upload = client.post(
        "/upload",
        data={"title": "report"},
        files=[
            ("document", ("../../etc/passwd", b"hello world", "text/plain")),
            ("extras", ("a.png", b"1", "image/png")),
            ("extras", ("b.png", b"2", "image/png")),
        ],
    )
    assert upload.json() == {
        "title": "report",
        "filename": "passwd",
        "size": 11,
        "first_bytes": "hello",
        "extras": ["a.png", "b.png"],
    }


def test_handlers_3(interface: str) -> None:
    app = load("handlers_3").app
    log: list[str] = app.state.log
    with TestClient(app, wsgi=interface == "wsgi") as client:
        response = client.get("/me", headers={"authorization": "Bearer secret"})
        assert response.json() == {"user": "ada", "log": ["open", "user"]}
        assert log == ["open", "user", "commit", "close"]
        log.clear()
        refused = client.get("/me")
        assert (refused.status_code, refused.json()["detail"]) == (
            401,
            "Send 'Authorization: Bearer secret'",
        )
        assert log == ["open", "user", "rollback", "close"]
        log.clear()
        assert client.post("/fail", headers={"authorization": "Bearer secret"}).status_code == 500
        assert log == ["open", "user", "rollback", "close"]


def test_handlers_4(client_for: Any) -> None:
    client = client_for("handlers_4")
    html = client.get("/html")
    assert (html.headers["content-type"], html.text) == ("text/html; charset=utf-8", "<p>Hi</p>")
    assert client.get("/json").json() == {"answer": 42}
    assert client.get("/point").json() == {"x": 1, "y": 2}
    raw = client.get("/bytes")
    assert (raw.headers["content-type"], raw.content) == ("application/octet-stream", b"\x89PNG")
    nothing = client.delete("/nothing")
    assert (nothing.status_code, nothing.content) == (204, b"")
    created = client.post("/created")
    assert (created.status_code, created.json(), created.headers["location"]) == (
        201,
        {"id": 7},
        "/things/7",
    )
    text = client.get("/text")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["cache-control"] == "no-store"
    assert text.headers["set-cookie"] == "seen=1; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax"
    teapot = client.get("/teapot")
    assert (teapot.status_code, teapot.json()) == (418, {"tea": True})
    old = client.get("/old")
    assert (old.status_code, old.headers["location"]) == (302, "/html")


# -- requests, errors ------------------------------------------------------------------


def test_requests_1(client_for: Any) -> None:
    client = client_for("requests_1")
    inspected = client.get(
        "/inspect/ada?tag=a&tag=b",
        headers={"user-agent": "test", "cookie": "a=1; b=2", "x-request-id": "abc-1"},
    ).json()
    assert inspected.pop("client") is not None
    assert inspected == {
        "method": "GET",
        "path": "/inspect/ada",
        "url": "http://testserver/inspect/ada?tag=a&tag=b",
        "path_params": {"name": "ada"},
        "query": ["a", "b"],
        "agent": "test",
        "cookies": {"a": "1", "b": "2"},
        "host": "testserver",
        "secure": False,
        "request_id": "abc-1",
    }
    assert client.post("/async-echo", json=[1, 2]).json() == {"got": [1, 2]}
    assert client.post("/sync-echo", json={"a": None}).json() == {"got": {"a": None}}
    assert client.post("/sync-echo", content=b"{").status_code == 400
    form = client.post("/form", data={"name": "ada", "colour": ["red", "blue"]})
    assert form.json() == {"name": "ada", "colours": ["red", "blue"]}
    assert client.post("/digest", content=b"abc").json() == {
        "size": 3,
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    }


def test_errors_1(client_for: Any) -> None:
    client = client_for("errors_1")
    user = client.get("/users/2")
    assert (user.status_code, user.text) == (404, "<h1>Nothing at /users/2</h1><p>No user 2</p>")
    unrouted = client.get("/nope")
    assert unrouted.text == "<h1>Nothing at /nope</h1><p>No route for GET /nope</p>"
    conflict = client.post("/users")
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "application/problem+json"
    problem = conflict.json()
    assert problem == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "That e-mail address is taken",
        "request_id": conflict.headers["x-request-id"],
    }
    page = client.post("/users", headers={"accept": "text/html"})
    assert "<h1>409 Conflict</h1><p>That e-mail address is taken</p>" in page.text
    busy = client.get("/busy")
    assert (busy.status_code, busy.headers["retry-after"]) == (429, "30")
    teapot = client.get("/teapot")
    assert (teapot.status_code, teapot.headers["x-tea"]) == (418, "earl-grey")
    assert teapot.json()["detail"] == "I'm a teapot"
    declined = client.post("/pay")
    assert declined.status_code == 402
    assert declined.json() == {"error": "payment_declined", "reason": "card expired"}


# -- middleware, settings --------------------------------------------------------------


def test_middleware_1(client_for: Any) -> None:
    client = client_for("middleware_1")
    for path in ("/", "/nope"):
        response = client.get(path)
        assert response.headers["x-powered-by"] == "oakling"
        assert re.fullmatch(r"total;dur=\d+\.\d", response.headers["server-timing"])
    assert client.get("/").text == "<p>timed</p>"


def test_middleware_2(client_for: Any) -> None:
    client = client_for("middleware_2")
    home = client.get("/")
    assert home.text == "home"
    assert re.fullmatch(r"app;dur=\d+\.\d", home.headers["server-timing"])
    refused = client.get("/admin/")
    assert (refused.status_code, refused.text) == (403, "Forbidden")
    assert "server-timing" in refused.headers
    assert client.get("/admin/", headers={"x-admin-token": "letmein"}).text == "admin"
    assert client.get("/boom").status_code == 500
    assert client.app.state.failures == ["/boom: ValueError('boom')"]
    assert "server-timing" in client.get("/missing").headers


def test_middleware_3() -> None:
    app = load("middleware_3").app
    with TestClient(app) as client:
        assert client.get("/").json() == {"pool_open": True}
        assert app.state.events == ["startup"]
    assert app.state.events == ["startup", "shutdown"]
    assert app.state.pool.open is False


def test_settings_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAKLING_CURRENCY", "USD")
    monkeypatch.setenv("OAKLING_PAYMENT_PROVIDERS", "card, paypal")
    with TestClient(load("settings_1").app) as client:
        assert client.get("/shipping?total=60").json() == {
            "free": True,
            "currency": "USD",
            "providers": ["card", "paypal"],
            "debug": False,
        }
        assert client.get("/shipping?total=10").json()["free"] is False


def test_settings_page_snippet_runs() -> None:
    from oakling import Settings

    page = (DOCS / "settings.md").read_text()
    snippet = re.search(r"```python\n(from oakling import App, Settings\n.*?)```", page, re.S)
    assert snippet is not None
    namespace: dict[str, Any] = {}
    exec(snippet.group(1), namespace)
    assert namespace["app"].settings.max_body_size == 10_000_000
    default = Settings()
    assert default.allowed_hosts == ("localhost", "127.0.0.1", "[::1]", "testserver")


def test_deployment_1(client_for: Any) -> None:
    client = client_for("deployment_1")
    assert client.get("/healthz").json() == {"status": "ok"}
    module = load("deployment_1")
    assert module.wsgi is module.app.wsgi


# -- the testing page's examples are test modules: run them -----------------------------


def _run_pytest(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OAKLING_", "PYTEST_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=EXAMPLES,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_testing_examples_pass_under_pytest() -> None:
    result = _run_pytest("testing_1.py", "testing_2.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout


def test_testing_3_uses_the_plugin_with_the_oakling_app_option() -> None:
    result = _run_pytest("-o", "oakling_app=quickstart_1:app", "testing_3.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
