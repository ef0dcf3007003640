"""The pytest fixtures ``db`` and ``async_db``: the app joins the test's transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from tests.db.apps import make_app
from tests.db.models import METADATA, DbtAuthor
from tests.services import MARIADB, POSTGRES, require

from oakling import App
from oakling.db import AsyncSession, Session
from oakling.db.testing import make_test_database
from oakling.testing import AsyncTestClient, TestClient

SERVERS = {
    "sqlite": None,
    "postgresql": "postgresql://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql://root@127.0.0.1:3306/test",
}


@pytest.fixture(scope="module")
def db_metadata() -> sa.MetaData:
    return METADATA


@pytest.fixture(scope="module", params=list(SERVERS))
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    # what the plugin's db_url does with --db-url, once per backend
    if request.param != "sqlite":
        require(POSTGRES if request.param == "postgresql" else MARIADB)
    tmp = tmp_path_factory.mktemp("testdb")
    with make_test_database(SERVERS[request.param], tmp, METADATA) as url:
        yield url


@pytest.fixture(params=["sync", "async"])
def app(request: pytest.FixtureRequest) -> App:
    return make_app("sqlite:///unused.sqlite3", is_async=request.param == "async")


def test_test_database_is_new_and_not_the_shared_one(db_url: str) -> None:
    name = sa.make_url(db_url).database or ""
    if sa.make_url(db_url).get_backend_name() == "sqlite":
        assert name.endswith("/test.sqlite3")  # in a temporary folder
    else:
        assert name.startswith("test_test_")  # next to the shared "test", never it


@pytest.mark.parametrize("wsgi", [False, True])
def test_app_sessions_join_the_test_transaction(app: App, db: Session, wsgi: bool) -> None:
    if any(e.dependant.any_async for e in app.endpoints):
        with TestClient(app, wsgi=wsgi) as client:
            response = client.post("/authors", json={"name": "Ada"})
        assert response.status_code == 500
        assert "Use the 'async_db' fixture with AsyncTestClient" in response.text
        return
    with TestClient(app, wsgi=wsgi) as client:
        assert client.post("/authors", json={"name": "Ada"}).status_code == 201
        assert client.post("/authors", json={"name": "Ada"}).status_code == 409
        assert client.post("/authors", json={"name": "Bob"}).status_code == 201
    # the app committed (savepoints); the test sees its rows in the same transaction
    assert db.scalars(select(DbtAuthor.name).order_by(DbtAuthor.name)).all() == ["Ada", "Bob"]


def test_each_test_starts_empty(db: Session) -> None:
    assert db.scalars(select(DbtAuthor)).all() == []
    db.add(DbtAuthor(name="only here"))
    db.commit()


def test_and_is_rolled_back_after(db: Session) -> None:
    assert db.scalars(select(DbtAuthor)).all() == []


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_async_db_is_joined_by_the_app(app: App, async_db: AsyncSession) -> None:
    if not any(e.dependant.any_async for e in app.endpoints):
        pytest.skip("sync handlers join the db fixture")
    async with AsyncTestClient(app) as client:
        assert (await client.post("/authors", json={"name": "Ada"})).status_code == 201
        assert (await client.post("/authors", json={"name": "Ada"})).status_code == 409
    names = (await async_db.scalars(select(DbtAuthor.name))).all()
    assert names == ["Ada"]


@pytest.mark.anyio
async def test_async_db_is_rolled_back_after(app: App, async_db: AsyncSession) -> None:
    assert (await async_db.scalars(select(DbtAuthor))).all() == []
