"""docs/api.md's examples answer as the page says."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

from openapi_spec_validator import validate
from tests.conftest import ClientFactory

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
_counter = itertools.count()


def load(name: str) -> ModuleType:
    module_name = f"api_docs_example_{name}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def test_library_example(make_client: ClientFactory) -> None:
    client = make_client(load("api_1").app)
    document = client.get("/openapi.json").json()
    validate(document)
    listing = document["paths"]["/v1/books"]["get"]
    assert listing["tags"] == ["books"]
    assert listing["operationId"] == "books.list_books"
    assert listing["summary"] == "List the books."
    assert {"406", "422", "200"} <= set(listing["responses"])
    add = document["paths"]["/v1/books"]["post"]
    assert add["security"] == [{"bearer": []}]
    assert {"201", "400", "401", "413", "415", "422"} <= set(add["responses"])
    assert "Location" in add["responses"]["201"]["headers"]
    assert client.get("/docs").status_code == 200

    assert client.get("/v1/books", params={"limit": 1}).json()["total"] == 1
    assert client.get("/v1/books", headers={"Accept": "text/csv"}).status_code == 406
    anonymous = client.post("/v1/books", json={"title": "Emma", "year": 1815})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    auth = {"Authorization": "Bearer let-me-edit"}
    added = client.post("/v1/books", json={"title": "Emma", "year": 1815}, headers=auth)
    assert added.status_code == 201
    assert added.headers["location"] == "http://testserver/v1/books/2"
    assert client.get("/v1/books/2").json() == {"title": "Emma", "year": 1815, "id": 2}
    assert client.post("/v1/books", json={"title": "", "year": 99}, headers=auth).status_code == 422
    assert client.get("/v1/books/9").status_code == 404


def test_cors_example(make_client: ClientFactory) -> None:
    client = make_client(load("api_2").app)
    answer = client.options(
        "/api/me",
        headers={
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-CSRF-Token",
        },
    )
    assert answer.status_code == 204
    assert answer.headers["access-control-max-age"] == "3600"
    me = client.get("/api/me", headers={"Origin": "https://app.example.org"})
    assert me.headers["access-control-allow-credentials"] == "true"
    assert me.headers["access-control-expose-headers"] == "X-Request-Id"


def test_versioned_example(make_client: ClientFactory) -> None:
    client = make_client(load("api_3").app)
    assert list(client.get("/v1/openapi.json").json()["paths"]) == ["/v1/users"]
    assert list(client.get("/v2/openapi.json").json()["paths"]) == ["/v2/users"]
    assert client.get("/v2/docs").status_code == 200
    assert client.get("/v2/users", params={"limit": 0}).json() == {"users": []}


def test_model_resource_example(tmp_path: Path, make_client: ClientFactory) -> None:
    import sqlalchemy as sa

    from oakling.config import Settings
    from oakling.db import sync_url

    module = load("api_4")
    url = f"sqlite:///{tmp_path / 'blog.sqlite3'}"
    engine = sa.create_engine(sync_url(url))
    module.Post.__table__.create(engine)
    engine.dispose()
    app = module.app
    app.settings = Settings(debug=True, database_url=url)
    client = make_client(app)
    document = client.get("/openapi.json").json()
    validate(document)
    assert set(document["paths"]) == {"/v1/posts", "/v1/posts/{id}"}
    assert client.get("/v1/posts", params={"status": "gone"}).status_code == 422
    assert client.get("/v1/posts").json()["total"] == 0
    created = client.post("/v1/posts", json={"title": "Hi", "editor_notes": "shh"})
    assert created.status_code == 201
    assert "editor_notes" not in created.json()
    assert client.get("/v1/posts", params={"q": "hi"}).json()["total"] == 1
