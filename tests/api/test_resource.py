"""Resource: a model as a documented CRUD API, on a real SQLite database."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openapi_spec_validator import validate
from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from oakling import App
from oakling.api import OpenAPI, Resource
from oakling.config import Settings
from oakling.db import IntegerPK, Timestamps, sync_url
from oakling.exceptions import ConfigurationError
from oakling.testing import TestClient


class Base(DeclarativeBase):
    metadata = MetaData()


class Status(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


class ApiArticle(IntegerPK, Timestamps, Base):
    __tablename__ = "api_article"

    title: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(default="")
    status: Mapped[Status] = mapped_column(default=Status.DRAFT)
    views: Mapped[int] = mapped_column(default=0)
    secret: Mapped[str | None] = mapped_column(String(20), default=None)


def make_app(url: str, **options: Any) -> App:
    app = App(settings=Settings(debug=True, database_url=url, csrf_enabled=False))
    config: dict[str, Any] = {
        "name": "articles",
        "read_only": ["views"],
        "write_only": ["secret"],
        "filter_fields": ["status"],
        "ordering_fields": ["title", "created_at", "views"],
        "search_fields": ["title", "body"],
        "per_page": 2,
        "max_per_page": 5,
    }
    articles = Resource(ApiArticle, **{**config, **options})
    app.include(articles)
    app.include(OpenAPI(title="Articles", docs_path=None))
    return app


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    engine = sa.create_engine(sync_url(url))
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["asgi", "wsgi"])
def client(request: pytest.FixtureRequest, url: str) -> Iterator[TestClient]:
    with TestClient(make_app(url), wsgi=request.param == "wsgi") as client:
        yield client


def add(client: TestClient, title: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/articles", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def test_create_returns_201_location_etag_and_hides_write_only_fields(client: TestClient) -> None:
    read_only = client.post("/articles", json={"title": "Hello", "views": 99})
    assert read_only.status_code == 422  # a read-only field is refused, not ignored
    assert "views" in read_only.json()["detail"]
    response = client.post("/articles", json={"title": "Hello", "secret": "s3cret"})
    assert response.status_code == 201
    item = response.json()
    assert response.headers["location"] == f"http://testserver/articles/{item['id']}"
    assert response.headers["etag"].startswith('"')
    assert item["title"] == "Hello"
    assert item["status"] == "draft"
    assert item["views"] == 0
    assert "secret" not in item
    assert client.get(response.headers["location"]).json() == item


def test_create_validates_and_conflicts(client: TestClient) -> None:
    bad = client.post("/articles", json={"title": "x" * 101, "status": "nope"})
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["errors"]} >= {("body", "title")}
    add(client, "Once")
    again = client.post("/articles", json={"title": "Once"})
    assert again.status_code == 409


def test_list_paginates_filters_orders_and_searches(client: TestClient) -> None:
    for title, status in [("b-one", "draft"), ("a-two", "published"), ("c-three", "published")]:
        add(client, title, status=status, body=f"body of {title}")
    first = client.get("/articles").json()
    assert first["total"] == 3
    assert first["per_page"] == 2
    assert [a["title"] for a in first["items"]] == ["b-one", "a-two"]
    assert first["next_url"].endswith("page=2")
    second = client.get("/articles", params={"page": 2}).json()
    assert [a["title"] for a in second["items"]] == ["c-three"]
    published = client.get("/articles", params={"status": "published", "ordering": "-title"})
    assert [a["title"] for a in published.json()["items"]] == ["c-three", "a-two"]
    found = client.get("/articles", params={"q": "THREE"}).json()
    assert [a["title"] for a in found["items"]] == ["c-three"]
    assert client.get("/articles", params={"q": "%"}).json()["total"] == 0
    assert client.get("/articles", params={"per_page": 5}).json()["per_page"] == 5


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"per_page": 6}, ["query", "per_page"]),
        ({"page": 0}, ["query", "page"]),
        ({"status": "gone"}, ["query", "status"]),
        ({"ordering": "secret"}, ["query", "ordering"]),
    ],
)
def test_bad_list_parameters_are_422(
    client: TestClient, params: dict[str, Any], loc: list[str]
) -> None:
    response = client.get("/articles", params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == loc


def test_put_patch_and_if_match(client: TestClient) -> None:
    item = add(client, "Draft")
    url = f"/articles/{item['id']}"
    etag = client.get(url).headers["etag"]
    patched = client.patch(url, json={"status": "published"}, headers={"If-Match": etag})
    assert patched.status_code == 200
    assert patched.json()["status"] == "published"
    assert patched.json()["title"] == "Draft"
    stale = client.patch(url, json={"title": "Lost update"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.headers["etag"] == patched.headers["etag"]
    assert client.get(url).json()["title"] == "Draft"
    replaced = client.put(url, json={"title": "Final"}, headers={"If-Match": "*"})
    assert replaced.status_code == 200
    assert replaced.json()["status"] == "draft"  # PUT replaces: unsent fields get defaults
    missing = client.put(url, json={"status": "draft"})
    assert missing.status_code == 422
    not_modified = client.get(url, headers={"If-None-Match": replaced.headers["etag"]})
    assert not_modified.status_code == 304


def test_delete_and_404(client: TestClient) -> None:
    item = add(client, "Gone soon")
    url = f"/articles/{item['id']}"
    assert client.delete(url, headers={"If-Match": '"stale"'}).status_code == 412
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
    assert client.get("/articles/abc").status_code == 404
    huge = client.get("/articles/56984112123573184757760")  # over the column's range
    assert huge.status_code == 422
    assert huge.json()["errors"][0]["loc"] == ["path", "id"]


def test_document_describes_the_resource(url: str) -> None:
    app = make_app(url)
    document = OpenAPI(docs_path=None).document(app)
    validate(document)
    paths = document["paths"]
    assert set(paths["/articles"]) == {"get", "post"}
    assert set(paths["/articles/{id}"]) == {"get", "put", "patch", "delete"}
    listing = paths["/articles"]["get"]
    assert listing["tags"] == ["articles"]
    names = {p["name"] for p in listing["parameters"]}
    assert names == {"page", "per_page", "ordering", "q", "status"}
    schemas = document["components"]["schemas"]
    assert "secret" not in schemas["ApiArticle"]["properties"]
    assert "views" not in schemas["ApiArticleCreate"]["properties"]
    assert "secret" in schemas["ApiArticleCreate"]["properties"]
    assert schemas["ApiArticleUpdate"].get("required", []) == []
    assert paths["/articles"]["post"]["responses"]["201"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/ApiArticle"}
    assert "412" in paths["/articles/{id}"]["patch"]["responses"]
    assert "ETag" in paths["/articles/{id}"]["get"]["responses"]["200"]["headers"]
    headers = {p["name"] for p in paths["/articles/{id}"]["put"]["parameters"]}
    assert "If-Match" in headers


def test_actions_and_permissions(url: str) -> None:
    pytest.importorskip("argon2")
    from oakling.auth import Auth

    app = make_app(url, actions=["list", "retrieve"], permissions={"list": "blog.view_article"})
    app.include(Auth())
    with TestClient(app) as client:
        assert client.post("/articles", json={"title": "x"}).status_code == 405
        refused = client.get("/articles")
        assert refused.status_code == 401  # anonymous: log in first
        assert client.get("/articles/1").status_code == 404  # no permission needed


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"filter_fields": ["nope"]}, "unknown column"),
        ({"ordering_fields": ["nope"]}, "unknown column"),
        ({"actions": ["list", "explode"]}, "unknown action"),
        ({"per_page": 10}, "per_page"),
        ({"default_ordering": ["-nope"]}, "unknown column"),
    ],
)
def test_bad_configuration(url: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make_app(url, **options)


def test_model_without_a_single_primary_key_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not a mapped model"):
        Resource(dt.date)
