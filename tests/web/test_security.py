from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest
from tests.conftest import ClientFactory

from oakling import App, Request, Response
from oakling.config import Settings
from oakling.exceptions import ConfigurationError
from oakling.http.streaming import StreamingResponse
from oakling.testing import TestClient
from oakling.web.security import csp_nonce, security_headers

KEY = "k3y-" + "a1b2c3d4e5" * 6
DEFAULTS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}
SHARED = Response("shared", media_type="text/plain")


def make_app(**settings: Any) -> App:
    settings.setdefault("secret_key", KEY)
    app = App(settings=Settings(**settings))

    @app.get("/")
    async def index() -> str:
        return "<h1>hi</h1>"

    @app.get("/sync")
    def sync() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b"]), media_type="text/plain")

    @app.get("/own")
    def own() -> Response:
        return Response("framed", headers={"X-Frame-Options": "SAMEORIGIN"})

    @app.get("/embed")
    @security_headers(x_frame_options="SAMEORIGIN", referrer_policy=None)
    def embed() -> str:
        return "embeddable"

    @app.get("/shared")
    def shared() -> Response:
        return SHARED

    @app.get("/nonce")
    def nonce(request: Request) -> str:
        return f'<script nonce="{csp_nonce(request)}">go()</script>'

    @app.get("/health")
    def health() -> str:
        return "ok"

    return app


def https_client(app: App, interface: str, **kwargs: Any) -> TestClient:
    return TestClient(app, wsgi=interface == "wsgi", base_url="https://testserver", **kwargs)


def assert_defaults(response: Any) -> None:
    for name, value in DEFAULTS.items():
        assert response.headers.get_list(name) == [value], name


@pytest.mark.parametrize("path", ["/", "/sync", "/boom", "/stream", "/missing", "/shared"])
def test_default_headers_on_every_response(make_client: ClientFactory, path: str) -> None:
    response = make_client(make_app()).get(path)
    assert_defaults(response)
    assert "strict-transport-security" not in response.headers
    assert "content-security-policy" not in response.headers
    assert "x-request-id" in response.headers


def test_405_and_head_have_them_too(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    assert_defaults(client.post("/sync"))
    assert_defaults(client.head("/"))


def test_shared_response_is_not_changed(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    client.get("/shared")
    response = client.get("/shared")
    assert_defaults(response)
    assert len(SHARED.raw_headers) == 2


def test_hsts_on_https_only(interface: str, make_client: ClientFactory) -> None:
    app = make_app()
    with https_client(app, interface) as client:
        response = client.get("/")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert_defaults(response)
    assert "strict-transport-security" not in make_client(app).get("/").headers


def test_hsts_settings(interface: str) -> None:
    app = make_app(
        secure_hsts_seconds=600, secure_hsts_include_subdomains=True, secure_hsts_preload=True
    )
    with https_client(app, interface) as client:
        value = client.get("/stream").headers["strict-transport-security"]
    assert value == "max-age=600; includeSubDomains; preload"


def test_no_hsts_in_debug_or_when_off(interface: str) -> None:
    for app in (make_app(debug=True), make_app(secure_hsts_seconds=0)):
        with https_client(app, interface) as client:
            assert "strict-transport-security" not in client.get("/").headers


def test_headers_can_be_turned_off(make_client: ClientFactory) -> None:
    app = make_app(
        secure_content_type_nosniff=False,
        x_frame_options="",
        secure_referrer_policy="",
        secure_cross_origin_opener_policy="",
    )
    response = make_client(app).get("/")
    for name in DEFAULTS:
        assert name not in response.headers


def test_settings_change_values(make_client: ClientFactory) -> None:
    app = make_app(x_frame_options="SAMEORIGIN", secure_referrer_policy="no-referrer")
    response = make_client(app).get("/")
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_response_header_wins(make_client: ClientFactory) -> None:
    response = make_client(make_app()).get("/own")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_view_override(make_client: ClientFactory) -> None:
    response = make_client(make_app()).get("/embed")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert "referrer-policy" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_security_headers_refuses_unknown_names_and_line_breaks() -> None:
    with pytest.raises(ConfigurationError, match="unknown header"):
        security_headers(x_frame="DENY")
    with pytest.raises(ConfigurationError, match="one line"):
        security_headers(x_frame_options="DENY\r\nSet-Cookie: a=b")


def test_header_injection_in_settings_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="CONTENT_SECURITY_POLICY"):
        Settings(content_security_policy="default-src 'self'\r\nX-Evil: 1")


def test_static_content_security_policy(make_client: ClientFactory) -> None:
    app = make_app(
        content_security_policy="default-src 'self'",
        content_security_policy_report_only="script-src 'none'",
    )
    response = make_client(app).get("/")
    assert response.headers["content-security-policy"] == "default-src 'self'"
    assert response.headers["content-security-policy-report-only"] == "script-src 'none'"


def test_csp_nonce(make_client: ClientFactory) -> None:
    app = make_app(content_security_policy="default-src 'self'; script-src 'self' {nonce}")
    client = make_client(app)
    first, second = client.get("/nonce"), client.get("/nonce")
    nonce = first.text.split('nonce="')[1].split('"')[0]
    assert len(nonce) >= 22
    assert first.headers["content-security-policy"] == (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'"
    )
    assert nonce not in second.headers["content-security-policy"]
    # NOTE: a response that made no nonce drops the placeholder.
    policy = client.get("/").headers["content-security-policy"]
    assert policy == "default-src 'self'; script-src 'self'"


# -- redirect to HTTPS ------------------------------------------------------------------------


@pytest.fixture
def redirecting() -> App:
    return make_app(
        secure_ssl_redirect=True,
        secure_redirect_exempt=("/health",),
        allowed_hosts=("testserver", "example.com"),
        trusted_proxies=("127.0.0.1",),
    )


def test_http_is_redirected_to_https(make_client: ClientFactory, redirecting: App) -> None:
    client = make_client(redirecting)
    response = client.get("/sync?a=1&b=%20")
    assert response.status_code == 301
    assert response.headers["location"] == "https://testserver/sync?a=1&b=%20"
    assert_defaults(response)
    response = client.post("/missing", headers={"host": "example.com"})
    assert response.status_code == 301
    assert response.headers["location"] == "https://example.com/missing"


def test_https_is_not_redirected(interface: str, redirecting: App) -> None:
    with https_client(redirecting, interface) as client:
        assert client.get("/sync").status_code == 200


def test_redirect_exempt_paths(make_client: ClientFactory, redirecting: App) -> None:
    assert make_client(redirecting).get("/health").status_code == 200


def test_unknown_host_is_refused_not_redirected(
    make_client: ClientFactory, redirecting: App
) -> None:
    response = make_client(redirecting).get("/sync", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert "location" not in response.headers


def call(
    app: App, interface: str, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, str]]:
    """One GET /sync from 10.0.0.1 (a peer TestClient cannot pretend to be)."""
    if interface == "wsgi":
        import io

        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/sync",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "REMOTE_ADDR": "10.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "oakling.testing": True,
            **{"HTTP_" + k.decode().upper().replace("-", "_"): v.decode() for k, v in headers},
        }
        started: list[Any] = []

        def start_response(status: str, hdrs: list[tuple[str, str]], exc: Any = None) -> Any:
            started.extend([status, hdrs])
            return lambda data: None

        list(app.wsgi(environ, start_response))
        return int(started[0].split()[0]), {k.lower(): v for k, v in started[1]}
    import asyncio

    messages: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/sync",
        "raw_path": b"/sync",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("10.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    start = messages[0]
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}


def test_forwarded_proto_from_a_trusted_proxy(interface: str) -> None:
    app = make_app(secure_ssl_redirect=True, trusted_proxies=("10.0.0.0/8",))
    forwarded = [(b"host", b"testserver"), (b"x-forwarded-proto", b"https")]
    status, headers = call(app, interface, forwarded)
    assert status == 200
    assert headers["strict-transport-security"] == "max-age=31536000"
    status, headers = call(app, interface, [(b"host", b"testserver")])
    assert status == 301
    assert headers["location"] == "https://testserver/sync"


def test_forwarded_proto_from_anyone_else_is_ignored(interface: str) -> None:
    app = make_app(secure_ssl_redirect=True, trusted_proxies=("192.168.0.1",))
    status, headers = call(
        app, interface, [(b"host", b"testserver"), (b"x-forwarded-proto", b"https")]
    )
    assert status == 301
    assert "strict-transport-security" not in headers


def test_docs_example(interface: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    import os
    from pathlib import Path

    for name in [n for n in os.environ if n.startswith("OAKLING_")]:
        monkeypatch.delenv(name)
    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "security_1.py"
    spec = importlib.util.spec_from_file_location("docs_security_1", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with TestClient(module.app, wsgi=interface == "wsgi") as client:
        response = client.get("/")
        nonce = response.text.split('nonce="')[1].split('"')[0]
        policy = response.headers["content-security-policy"]
        assert policy == f"default-src 'self'; script-src 'self' 'nonce-{nonce}'"
        assert client.get("/widget").headers["x-frame-options"] == "SAMEORIGIN"
        client.get("/")
        assert client.post("/hooks/payments").json() == {"received": True}
