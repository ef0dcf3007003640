"""The OpenAPI component: /openapi.json built once, and the offline Swagger UI at /docs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.conftest import ClientFactory

from oakling import App
from oakling.api import OpenAPI
from oakling.api.openapi import swagger_ui_dir
from oakling.exceptions import MissingDependency


def test_document_is_served_as_json(make_client: ClientFactory, showcase: App) -> None:
    client = make_client(showcase)
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["info"]["title"] == "Showcase shop"


def test_document_is_built_once(
    monkeypatch: pytest.MonkeyPatch, make_client: ClientFactory
) -> None:
    app = App()

    @app.get("/a")
    def a() -> dict[str, int]:
        return {}

    openapi = OpenAPI(docs_path=None)
    app.include(openapi)
    calls: list[int] = []
    real = openapi.document

    def counting(target: App) -> dict[str, Any]:
        calls.append(1)
        return real(target)

    monkeypatch.setattr(openapi, "document", counting)
    client = make_client(app)
    first = client.get("/openapi.json").content
    assert client.get("/openapi.json").content == first
    assert len(calls) == 1

    @app.get("/b")
    def b() -> dict[str, int]:
        return {}

    assert "/b" in client.get("/openapi.json").json()["paths"]
    assert len(calls) == 2


def test_root_path_becomes_the_server_url(showcase: App) -> None:
    from oakling.testing import TestClient

    outer = App()
    outer.mount("/shop", showcase)
    with TestClient(outer) as client:
        document = client.get("/shop/openapi.json").json()
        assert document["servers"] == [{"url": "/shop"}]
        page = client.get("/shop/docs").text
        assert 'src="/shop/docs/swagger-ui-bundle.js"' in page
        assert '"/shop/openapi.json"' in client.get("/shop/docs/init.js").text


def test_docs_page_and_its_assets_are_served_locally(
    make_client: ClientFactory, showcase: App
) -> None:
    client = make_client(showcase)
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls, page.text
    for url in urls:
        # NOTE: no CDN, no scheme, no protocol-relative URL: the page works offline.
        assert url.startswith("/docs/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        if not url.endswith("init.js"):  # the only generated one, revalidated
            assert asset.headers["cache-control"] == "public, max-age=86400"
        assert len(asset.content) > 100
    assert "<script>" not in page.text  # no inline script: a strict CSP works
    init = client.get("/docs/init.js")
    assert init.headers["content-type"] == "text/javascript; charset=utf-8"
    assert 'url: "/openapi.json"' in init.text
    assert "validatorUrl: null" in init.text  # never sends the document to a validator
    assert "http" not in init.text
    bundle = client.get("/docs/swagger-ui-bundle.js")
    assert bundle.headers["content-type"] == "text/javascript; charset=utf-8"
    assert b"SwaggerUIBundle" in bundle.content
    css = client.get("/docs/swagger-ui.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    ["/docs/index.html", "/docs/..%2F..%2Fetc%2Fpasswd", "/docs/swagger-ui.js", "/docs/%2e%2e"],
)
def test_only_known_docs_assets_are_served(
    make_client: ClientFactory, showcase: App, path: str
) -> None:
    response = make_client(showcase).get(path)
    assert response.status_code == 404


def test_swagger_ui_is_version_5_which_renders_openapi_3_1() -> None:
    bundle = (swagger_ui_dir() / "swagger-ui-bundle.js").read_text(encoding="utf-8")
    assert "3.1.0" in bundle


def test_docs_can_be_turned_off(make_client: ClientFactory) -> None:
    app = App()
    app.include(OpenAPI(docs_path=None))
    client = make_client(app)
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 200


def test_missing_swagger_ui_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependency, match=r"oakling\[api\]"):
        OpenAPI()


def test_import_oakling_does_not_import_the_api_package() -> None:
    import subprocess
    import sys

    code = "import sys, oakling, oakling.testing; print('oakling.api' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
