"""Review tests: bugs found in review of the core (now fixed) and verified edge cases."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pytest

from oakling import App, Request, Response
from oakling.component import Component
from oakling.config import Settings, read_env_file
from oakling.exceptions import ConfigurationError
from oakling.http.files import FileResponse
from oakling.http.multipart import UploadFile
from oakling.params import Depends
from oakling.testing import TestClient
from oakling.views import View

if TYPE_CHECKING:
    from decimal import Decimal

ClientFactory = Callable[[App], TestClient]

_SECRET = "k" * 48


def make_app(**options: Any) -> App:
    return App(settings=Settings(secret_key=_SECRET, **options))


Sent = tuple[int | None, list[tuple[bytes, bytes]], bytes]


async def _call(
    app: App,
    path: str,
    *,
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
    messages: list[dict[str, Any]] | None = None,
) -> Sent:
    """Call the app over raw ASGI (duplicate headers, odd paths, disconnects)."""
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
        "headers": headers if headers is not None else [(b"host", b"testserver")],
        "client": ("10.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    pending = list(messages or [{"type": "http.request", "body": b"", "more_body": False}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    start = next((m for m in sent if m["type"] == "http.response.start"), None)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return (start["status"] if start else None), (start["headers"] if start else []), body


def call_raw(app: App, path: str, **kwargs: Any) -> Sent:
    async def go() -> Sent:
        await app.startup(testing=True)
        return await _call(app, path, **kwargs)

    return asyncio.run(go())


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [v for k, v in headers if k == name]


# -- security -------------------------------------------------------------------------------


def test_mounted_app_middleware_runs_when_parent_has_middleware(
    make_client: ClientFactory,
) -> None:
    class Deny:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                await Response("denied", 403)(scope, receive, send)
                return
            await self.app(scope, receive, send)

    class Passthrough:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    admin = make_app()
    admin.add_middleware(Deny)

    @admin.get("/secret")
    async def secret() -> str:
        return "SECRET"

    parent = make_app()
    parent.mount("/admin", admin)
    parent.add_middleware(Passthrough)
    response = make_client(parent).get("/admin/secret")
    assert response.status_code == 403


def test_mounted_app_middleware_runs_without_parent_middleware(
    make_client: ClientFactory,
) -> None:
    class Deny:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await Response("denied", 403)(scope, receive, send)

    admin = make_app()
    admin.add_middleware(Deny)

    @admin.get("/secret")
    async def secret() -> str:
        return "SECRET"

    parent = make_app()
    parent.mount("/admin", admin)
    assert make_client(parent).get("/admin/secret").status_code == 403


def test_duplicate_host_headers_cannot_bypass_allowed_hosts() -> None:
    app = make_app(allowed_hosts=("good.example",))

    @app.get("/where")
    async def where(request: Request) -> str:
        return str(request.url_for("where"))

    async def go() -> tuple[Sent, Sent]:
        await app.startup(testing=True)
        first = await _call(app, "/where", headers=[(b"host", b"good.example")])
        spoofed = await _call(
            app, "/where", headers=[(b"host", b"evil.example"), (b"host", b"good.example")]
        )
        return first, spoofed

    first, spoofed = asyncio.run(go())
    assert first[2] == b"http://good.example/where"
    assert spoofed[0] == 400, spoofed[2]


def test_unknown_host_is_rejected(make_client: ClientFactory) -> None:
    app = make_app(allowed_hosts=("good.example",))

    @app.get("/")
    def index() -> str:
        return "ok"

    client = make_client(app)
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"host": "good.example"}).status_code == 200


def test_slash_redirect_is_not_an_open_redirect_raw() -> None:
    app = make_app()

    @app.get("/{rest:path}/")
    def catch_all(rest: str) -> str:
        return rest

    status, headers, _ = call_raw(app, "//evil.com")
    assert status == 308
    location = _header(headers, b"location")[0]
    assert not location.startswith(b"//"), location


def test_slash_redirect_of_encoded_slash_is_not_an_open_redirect(
    make_client: ClientFactory,
) -> None:
    app = make_app()

    @app.get("/{rest:path}/")
    def catch_all(rest: str) -> str:
        return rest

    response = make_client(app).get("/%2Fevil.com")
    assert response.status_code == 308
    assert not response.headers["location"].startswith("//"), response.headers["location"]


def test_slash_redirect_escapes_backslash_and_crlf(make_client: ClientFactory) -> None:
    app = make_app()

    @app.get("/{name}/")
    def named(name: str) -> str:
        return name

    client = make_client(app)
    response = client.get("/%5Cevil.com")
    assert response.status_code == 308
    assert response.headers["location"] == "/%5Cevil.com/"
    response = client.get("/a%0d%0aSet-Cookie:%20x=1")
    assert response.status_code == 308
    assert "set-cookie" not in response.headers
    assert "\r" not in response.headers["location"]


def test_tuple_headers_with_crlf_do_not_split_the_response(make_client: ClientFactory) -> None:
    logging.getLogger("oakling.error").disabled = True
    try:
        app = make_app()

        @app.get("/inject")
        def inject(value: str) -> tuple[str, int, dict[str, str]]:
            return "x", 200, {"X-Echo": value}

        response = make_client(app).get("/inject", params={"value": "a\r\nSet-Cookie: x=1"})
        assert response.status_code == 500
        assert "set-cookie" not in response.headers
    finally:
        logging.getLogger("oakling.error").disabled = False


def test_no_traceback_outside_debug(make_client: ClientFactory) -> None:
    logging.getLogger("oakling.error").disabled = True
    try:
        app = make_app()

        @app.get("/boom")
        def boom() -> str:
            raise RuntimeError("db password hunter2")

        response = make_client(app).get("/boom", headers={"accept": "text/html"})
        assert response.status_code == 500
        assert "hunter2" not in response.text
        assert "Traceback" not in response.text
    finally:
        logging.getLogger("oakling.error").disabled = False


# -- resources ------------------------------------------------------------------------------


class _TrackedSpool(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
    made: list[tempfile.SpooledTemporaryFile[bytes]] = []  # noqa: RUF012

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _TrackedSpool.made.append(self)


@pytest.fixture
def tracked_spools(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    _TrackedSpool.made = []
    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", _TrackedSpool)
    yield _TrackedSpool.made
    # NOTE: the xfail tests leak spools (the bug); close them so their ResourceWarning
    # does not fire, at garbage collection, inside an unrelated test.
    for spool in _TrackedSpool.made:
        spool.close()


_PARTIAL_UPLOAD = b'--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nhello'
_MULTIPART_HEADERS = [
    (b"host", b"testserver"),
    (b"content-type", b"multipart/form-data; boundary=B"),
]


def test_upload_temp_file_closed_on_client_disconnect(tracked_spools: list[Any]) -> None:
    app = make_app()

    @app.post("/up")
    async def up(f: UploadFile) -> str:
        return f.filename

    status, _, _ = call_raw(
        app,
        "/up",
        method="POST",
        headers=_MULTIPART_HEADERS,
        messages=[
            {"type": "http.request", "body": _PARTIAL_UPLOAD, "more_body": True},
            {"type": "http.disconnect"},
        ],
    )
    assert status == 499
    assert tracked_spools
    assert all(f.closed for f in tracked_spools)


def test_upload_temp_file_closed_on_413_mid_stream(tracked_spools: list[Any]) -> None:
    app = make_app(max_upload_size=200)

    @app.post("/up")
    async def up(f: UploadFile) -> str:
        return f.filename

    status, _, _ = call_raw(
        app,
        "/up",
        method="POST",
        headers=_MULTIPART_HEADERS,
        messages=[
            {"type": "http.request", "body": _PARTIAL_UPLOAD, "more_body": True},
            {"type": "http.request", "body": b"x" * 300, "more_body": False},
        ],
    )
    assert status == 413
    assert tracked_spools
    assert all(f.closed for f in tracked_spools)


def test_upload_temp_file_closed_after_request(
    make_client: ClientFactory, tracked_spools: list[Any]
) -> None:
    app = make_app()

    @app.post("/up")
    def up(f: UploadFile) -> str:
        return f.read().decode()

    response = make_client(app).post("/up", files={"f": ("a.txt", b"data")})
    assert response.text == "data"
    assert tracked_spools
    assert all(f.closed for f in tracked_spools)


def test_upload_closed_even_if_dependency_cleanup_fails(
    make_client: ClientFactory, tracked_spools: list[Any]
) -> None:
    def flaky() -> Iterator[int]:
        yield 1
        raise RuntimeError("cleanup failed")

    app = make_app()

    @app.post("/up")
    def up(f: UploadFile, n: Annotated[int, Depends(flaky)]) -> str:
        return f.filename

    client = make_client(app)
    with contextlib.suppress(RuntimeError):
        client.post("/up", files={"f": ("a.txt", b"data")})
    assert tracked_spools
    assert all(f.closed for f in tracked_spools)


def test_generator_dependency_closed_when_request_is_cancelled() -> None:
    events: list[str] = []

    async def resource() -> AsyncIterator[int]:
        events.append("open")
        try:
            yield 1
        finally:
            events.append("closed")

    app = make_app()
    entered = asyncio.Event()

    @app.get("/slow")
    async def slow(r: Annotated[int, Depends(resource)]) -> str:
        entered.set()
        await asyncio.sleep(60)
        return "late"

    async def go() -> list[str]:
        await app.startup(testing=True)
        task = asyncio.create_task(_call(app, "/slow"))
        await entered.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return list(events)

    assert asyncio.run(go()) == ["open", "closed"]


def test_generator_dependency_sees_handler_error(make_client: ClientFactory) -> None:
    seen: list[str] = []

    def resource() -> Iterator[int]:
        try:
            yield 1
        except LookupError as exc:
            seen.append(type(exc).__name__)
            raise

    app = make_app()

    @app.get("/item")
    def item(r: Annotated[int, Depends(resource)]) -> str:
        raise KeyError("nope")

    logging.getLogger("oakling.error").disabled = True
    try:
        assert make_client(app).get("/item").status_code == 500
    finally:
        logging.getLogger("oakling.error").disabled = False
    assert seen == ["KeyError"]


_VAR: contextvars.ContextVar[str | None] = contextvars.ContextVar("review_var", default=None)


def test_sync_generator_dependency_contextvar_reset_asgi() -> None:
    def scoped() -> Iterator[str]:
        token = _VAR.set("inside")
        try:
            yield "inside"
        finally:
            _VAR.reset(token)

    app = make_app()

    @app.get("/cv")
    def cv(v: Annotated[str, Depends(scoped)]) -> str:
        return str(_VAR.get())

    with TestClient(app) as client:
        assert client.get("/cv").text == "inside"


def test_async_generator_dependency_contextvar_reset_wsgi() -> None:
    async def scoped() -> AsyncIterator[str]:
        token = _VAR.set("inside")
        try:
            yield "inside"
        finally:
            _VAR.reset(token)

    app = make_app()

    @app.get("/cv")
    async def cv(v: Annotated[str, Depends(scoped)]) -> str:
        return str(_VAR.get())

    with TestClient(app, wsgi=True) as client:
        assert client.get("/cv").text == "inside"


def test_sync_handler_sees_contextvar_from_async_hook() -> None:
    app = make_app()

    @app.before_request
    async def mark(request: Request) -> None:
        _VAR.set("hook")

    @app.get("/v")
    def v() -> str:
        return str(_VAR.get())

    with TestClient(app) as client:
        assert client.get("/v").text == "hook"


# -- responses ------------------------------------------------------------------------------


def test_shared_file_response_is_not_mutated(tmp_path: Path) -> None:
    target = tmp_path / "logo.txt"
    target.write_text("logo")
    logo = FileResponse(target)
    before = list(logo.raw_headers)
    app = make_app()

    @app.get("/logo")
    async def get_logo() -> Response:
        return logo

    with TestClient(app) as client:
        responses = [client.get("/logo") for _ in range(3)]
    response = responses[-1]
    assert len(response.headers.get_list("x-request-id")) == 1
    assert logo.raw_headers == before


def test_shared_plain_response_is_not_mutated(make_client: ClientFactory) -> None:
    shared = Response("ok", media_type="text/plain")
    before = list(shared.raw_headers)
    app = make_app()

    @app.get("/ok")
    def ok() -> Response:
        return shared

    client = make_client(app)
    response = [client.get("/ok") for _ in range(3)][-1]
    assert len(response.headers.get_list("x-request-id")) == 1
    assert shared.raw_headers == before


def test_tuple_status_does_not_mutate_shared_response(make_client: ClientFactory) -> None:
    shared = Response("busy", media_type="text/plain")
    app = make_app()

    @app.get("/a")
    def a() -> tuple[Response, int]:
        return shared, 503

    @app.get("/b")
    def b() -> Response:
        return shared

    client = make_client(app)
    assert client.get("/a").status_code == 503
    assert client.get("/b").status_code == 200


def test_head_and_options_semantics(make_client: ClientFactory) -> None:
    app = make_app()

    @app.get("/t")
    async def t() -> str:
        return "hello"

    @app.get("/s")
    def s() -> str:
        return "sync"

    client = make_client(app)
    for path, length in (("/t", "5"), ("/s", "4")):
        head = client.head(path)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == length
    options = client.options("/t")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, HEAD, OPTIONS"
    not_allowed = client.post("/t")
    assert not_allowed.status_code == 405
    assert not_allowed.headers["allow"] == "GET, HEAD, OPTIONS"


# -- error handlers, hooks, components, views ----------------------------------------------


def test_errorhandler_500_handles_unhandled_exceptions(make_client: ClientFactory) -> None:
    app = make_app()

    @app.errorhandler(500)
    def server_error(request: Request, exc: Exception) -> Response:
        return Response("custom 500 page", 500, media_type="text/plain")

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("x")

    logging.getLogger("oakling.error").disabled = True
    try:
        response = make_client(app).get("/boom")
    finally:
        logging.getLogger("oakling.error").disabled = False
    assert response.status_code == 500
    assert response.text == "custom 500 page"


def test_errorhandler_404_for_unknown_routes(make_client: ClientFactory) -> None:
    app = make_app()

    @app.errorhandler(404)
    def not_found(request: Request, exc: Exception) -> tuple[str, int]:
        return "nothing here", 404

    assert make_client(app).get("/missing").text == "nothing here"


def test_component_hooks_order_and_error_handler(make_client: ClientFactory) -> None:
    calls: list[str] = []
    app = make_app()
    blog = Component("blog", prefix="/blog")

    @app.before_request
    def app_before(request: Request) -> None:
        calls.append("app.before")

    @blog.before_request
    def blog_before(request: Request) -> None:
        calls.append("blog.before")

    @blog.after_request
    def blog_after(request: Request, response: Response) -> None:
        calls.append("blog.after")

    @app.after_request
    def app_after(request: Request, response: Response) -> None:
        calls.append("app.after")

    @blog.errorhandler(LookupError)
    def blog_missing(request: Request, exc: Exception) -> tuple[str, int]:
        return "blog missing", 404

    @blog.get("/{slug}")
    def post(slug: str) -> str:
        raise LookupError(slug)

    app.include(blog)
    response = make_client(app).get("/blog/x")
    assert (response.status_code, response.text) == (404, "blog missing")
    assert calls == ["app.before", "blog.before", "blog.after", "app.after"]


def test_component_included_into_already_included_component(make_client: ClientFactory) -> None:
    app = make_app()
    blog = Component("blog")
    app.include(blog, prefix="/blog")
    api = Component("api")

    @api.get("/x")
    def x() -> str:
        return "x"

    blog.include(api, prefix="/api")
    assert make_client(app).get("/blog/api/x").status_code == 200


def test_route_added_to_component_after_include(make_client: ClientFactory) -> None:
    app = make_app()
    blog = Component("blog", prefix="/blog")
    app.include(blog)

    @blog.get("/late")
    def late() -> str:
        return "late"

    assert make_client(app).get("/blog/late").text == "late"
    assert app.url_for("blog.late") == "/blog/late"


def test_function_handler_tolerates_unresolvable_return_annotation() -> None:
    app = make_app()

    @app.get("/f")
    def f() -> Decimal:
        return "1"  # type: ignore[return-value]

    assert app.url_for("f") == "/f"


def test_view_tolerates_unresolvable_return_annotation() -> None:
    app = make_app()

    @app.route("/v")
    class Thing(View):
        def get(self) -> Decimal:
            return "1"  # type: ignore[return-value]

    assert app.url_for("Thing") == "/v"


def test_view_new_instance_per_request(make_client: ClientFactory) -> None:
    app = make_app()

    @app.route("/counter/{n:int}")
    class Counter(View):
        seen = 0

        def get(self, n: int) -> dict[str, int]:
            self.seen += n
            return {"seen": self.seen}

        async def delete(self, n: int) -> None:
            return None

    client = make_client(app)
    assert client.get("/counter/2").json() == {"seen": 2}
    assert client.get("/counter/3").json() == {"seen": 3}
    assert client.delete("/counter/1").status_code == 204
    assert client.post("/counter/1").status_code == 405


# -- url_for --------------------------------------------------------------------------------


def test_url_for_quotes_params_and_query() -> None:
    app = make_app()

    @app.get("/files/{name}")
    def files(name: str) -> str:
        return name

    @app.get("/users/{id:int}")
    def user(id: int) -> dict[str, int]:
        return {"id": id}

    assert app.url_for("files", name="a/b c") == "/files/a%2Fb%20c"
    assert app.url_for("user", id=3, tab=["x", "y"]) == "/users/3?tab=x&tab=y"


# -- settings -------------------------------------------------------------------------------


def test_invalid_trusted_proxy_is_a_settings_error() -> None:
    with pytest.raises(ConfigurationError, match="OAKLING_TRUSTED_PROXIES"):
        Settings.from_env({"OAKLING_TRUSTED_PROXIES": "not-an-ip"}, env_file=None)


def test_env_file_quoted_value_with_comment(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text('OAKLING_SECRET_KEY="s3cr3t-value" # production key\n')
    assert read_env_file(env) == {"OAKLING_SECRET_KEY": "s3cr3t-value"}


def test_settings_error_names_every_bad_variable() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({"OAKLING_DEBUG": "maybe", "OAKLING_MAX_BODY_SIZE": "0"}, env_file=None)
    assert "OAKLING_DEBUG" in str(info.value)
    assert "OAKLING_MAX_BODY_SIZE" in str(info.value)


def test_settings_refuse_default_secret_outside_debug() -> None:
    app = App(settings=Settings(secret_key="changeme"))
    with pytest.raises(ConfigurationError):
        app.check()
    App(settings=Settings(secret_key="changeme", debug=True)).check()


def test_none_with_explicit_status_is_an_empty_response(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/empty")
    def empty() -> tuple[None, int]:
        return None, 200

    response = make_client(app).get("/empty")
    assert response.status_code == 200
    assert response.headers["content-length"] == "0"
    assert response.content == b""
