"""CORS: real preflight and simple requests over ASGI and WSGI."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import ClientFactory

from oakling import App
from oakling.api import CORSConfig, CORSMiddleware
from oakling.exceptions import ConfigurationError
from oakling.testing import TestClient

SITE = "https://app.example.org"
EVIL = "https://evil.example.com"


def make_app(**options: Any) -> App:
    app = App()

    @app.get("/items")
    def items() -> list[int]:
        return [1, 2]

    @app.post("/items")
    def create(body: dict[str, int]) -> dict[str, int]:
        return body

    config = CORSConfig(**{"allow_origins": [SITE], **options})
    app.add_middleware(CORSMiddleware, config=config)
    return app


def preflight(origin: str, method: str = "POST", headers: str | None = None) -> dict[str, str]:
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return sent


def test_preflight_from_an_allowed_origin_is_answered_and_cacheable(
    make_client: ClientFactory,
) -> None:
    client = make_client(make_app(allow_credentials=True, allow_headers=["X-Token"], max_age=3600))
    response = client.options("/items", headers=preflight(SITE, "POST", "x-token, content-type"))
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-methods"] == "GET, HEAD, POST, PUT, PATCH, DELETE"
    assert response.headers["access-control-allow-headers"] == "x-token, content-type"
    assert response.headers["access-control-max-age"] == "3600"
    assert "Origin" in response.headers["vary"]
    assert response.content == b""


def test_preflight_from_another_origin_gets_no_cors_headers(make_client: ClientFactory) -> None:
    response = make_client(make_app()).options("/items", headers=preflight(EVIL))
    assert response.status_code == 403
    assert not any(k.startswith("access-control-") for k in response.headers)
    assert response.headers["content-type"] == "application/problem+json"
    assert EVIL in response.json()["detail"]


def test_preflight_for_a_method_or_header_not_allowed_is_refused(
    make_client: ClientFactory,
) -> None:
    client = make_client(make_app(allow_methods=["GET", "POST"]))
    refused = client.options("/items", headers=preflight(SITE, "DELETE"))
    assert refused.status_code == 403
    assert "method 'DELETE' is not allowed (allowed: GET, POST)" in refused.json()["detail"]
    assert "access-control-allow-origin" not in refused.headers
    refused = client.options("/items", headers=preflight(SITE, "POST", "x-secret"))
    assert refused.status_code == 403
    assert "x-secret" in refused.json()["detail"]
    # safelisted headers need no configuration
    allowed = client.options("/items", headers=preflight(SITE, "POST", "Content-Type"))
    assert allowed.status_code == 204


def test_simple_request_from_an_allowed_origin_gets_the_headers(
    make_client: ClientFactory,
) -> None:
    client = make_client(make_app(allow_credentials=True, expose_headers=["X-Request-Id"]))
    response = client.get("/items", headers={"Origin": SITE})
    assert response.status_code == 200
    assert response.json() == [1, 2]
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-Request-Id"
    assert response.headers["vary"] == "Origin"
    posted = client.post("/items", json={"a": 1}, headers={"Origin": SITE})
    assert posted.headers["access-control-allow-origin"] == SITE


def test_simple_request_from_another_origin_gets_no_cors_headers(
    make_client: ClientFactory,
) -> None:
    response = make_client(make_app()).get("/items", headers={"Origin": EVIL})
    assert response.status_code == 200
    assert not any(k.startswith("access-control-") for k in response.headers)
    assert response.headers["vary"] == "Origin"


def test_requests_without_origin_only_get_vary(make_client: ClientFactory) -> None:
    response = make_client(make_app()).get("/items")
    assert response.json() == [1, 2]
    assert not any(k.startswith("access-control-") for k in response.headers)
    # NOTE: the answer depends on Origin: a shared cache must not reuse it for a CORS request.
    assert response.headers["vary"] == "Origin"


def test_errors_and_404s_carry_cors_headers(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    missing = client.get("/nope", headers={"Origin": SITE})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == SITE
    bad = client.post(
        "/items", content=b"{", headers={"Origin": SITE, "Content-Type": "application/json"}
    )
    assert bad.status_code == 400
    assert bad.headers["access-control-allow-origin"] == SITE


def test_any_origin_without_credentials(make_client: ClientFactory) -> None:
    client = make_client(make_app(allow_origins=["*"], allow_headers=["*"]))
    simple = client.get("/items", headers={"Origin": EVIL})
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "vary" not in simple.headers
    assert "vary" not in client.get("/items").headers
    answer = client.options("/items", headers=preflight(EVIL, "PUT", "x-anything"))
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["access-control-allow-headers"] == "x-anything"


def test_origin_matching_ignores_case_but_not_ports(make_client: ClientFactory) -> None:
    client = make_client(make_app(allow_origins=["https://App.Example.org"]))
    assert (
        client.get("/items", headers={"Origin": SITE}).headers["access-control-allow-origin"]
        == SITE
    )
    other_port = client.get("/items", headers={"Origin": SITE + ":8443"})
    assert "access-control-allow-origin" not in other_port.headers


def test_plain_options_without_preflight_headers_reaches_the_router(
    make_client: ClientFactory,
) -> None:
    response = make_client(make_app()).options("/items", headers={"Origin": SITE})
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert response.headers["access-control-allow-origin"] == SITE


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"allow_origins": ["*"], "allow_credentials": True}, "cannot be combined"),
        ({"allow_origins": ["*", SITE]}, "only entry"),
        ({"allow_origins": ["app.example.org"]}, "scheme://host"),
        ({"allow_origins": [SITE + "/"]}, "trailing slash"),
        ({"allow_origins": SITE}, "takes a list"),
        ({"allow_origins": [SITE], "allow_methods": ["FETCH"]}, "unknown method"),
        ({"allow_origins": [SITE], "allow_headers": ["bad header"]}, "not a header name"),
        (
            {"allow_origins": [SITE], "allow_credentials": True, "expose_headers": ["*"]},
            "literally named",
        ),
        ({"allow_origins": [SITE], "max_age": -1}, "max_age"),
    ],
)
def test_bad_configuration_is_refused_when_made(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        CORSConfig(**options)


def test_middleware_needs_a_config_object() -> None:
    with pytest.raises(ConfigurationError, match="takes a CORSConfig"):
        CORSMiddleware(App(), config={"allow_origins": [SITE]})  # type: ignore[arg-type]


def test_wsgi_runs_cors_natively_without_the_asgi_bridge() -> None:
    import threading

    app = make_app()
    seen: list[str] = []

    @app.get("/thread")
    def thread() -> dict[str, str]:
        seen.append(threading.current_thread().name)
        return {}

    with TestClient(app, wsgi=True) as client:
        response = client.get("/thread", headers={"Origin": SITE})
    assert response.headers["access-control-allow-origin"] == SITE
    adapter: Any = app.wsgi
    assert adapter._chain is not None
    # NOTE: the sync handler ran on the calling thread: no event loop thread in between.
    assert seen == [threading.current_thread().name]


def test_serve_still_chooses_wsgi_with_cors() -> None:
    from oakling.cli.interface import choose_interface

    assert choose_interface(make_app()).interface == "wsgi"
