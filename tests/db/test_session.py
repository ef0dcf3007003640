"""Sessions per request: lazy, committed on success, rolled back on error, always closed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select
from sqlalchemy.pool import Pool
from tests.db.apps import make_app
from tests.db.conftest import count
from tests.db.models import METADATA, DbtAuthor

from oakling import App
from oakling.db import AsyncSession, Database, Session, async_session, databases, session
from oakling.exceptions import ConfigurationError
from oakling.testing import TestClient


@pytest.fixture
def checkouts() -> Iterator[list[object]]:
    seen: list[object] = []

    def on_checkout(*args: object) -> None:
        seen.append(args)

    event.listen(Pool, "checkout", on_checkout)
    yield seen
    event.remove(Pool, "checkout", on_checkout)


def test_handler_that_does_not_use_the_session_opens_no_connection(
    client: TestClient, checkouts: list[object]
) -> None:
    response = client.get("/noop")
    assert response.status_code == 200
    assert checkouts == []


def test_success_commits_before_the_response(client: TestClient, engine: sa.Engine) -> None:
    response = client.post("/authors", json={"name": "Ada"})
    assert response.status_code == 201
    assert response.json()["name"] == "Ada"
    assert count(engine, "dbt_author") == 1
    assert client.get(f"/authors/{response.json()['id']}").json()["name"] == "Ada"


def test_handler_error_rolls_back(client: TestClient, engine: sa.Engine) -> None:
    response = client.post("/authors/fail", json={"name": "Ada"})
    assert response.status_code == 500
    assert count(engine, "dbt_author") == 0


def test_sessions_are_closed_and_connections_returned(
    client: TestClient, checkouts: list[object]
) -> None:
    for i in range(12):  # more than pool_size + max_overflow would allow if leaked
        assert client.post("/authors", json={"name": f"a{i}"}).status_code == 201
    assert client.post("/authors/fail", json={"name": "x"}).status_code == 500
    app: Any = client.app
    dbs = databases(app)
    engines = [*dbs._engines.values(), *(e.sync_engine for e in dbs._async_engines.values())]
    assert engines
    assert all(engine.pool.checkedout() == 0 for engine in engines)  # type: ignore[attr-defined]


def test_commit_failure_after_the_handler_becomes_the_response(
    client: TestClient, engine: sa.Engine
) -> None:
    assert client.post("/authors", json={"name": "Ada"}).status_code == 201
    response = client.post("/authors/late", json=[{"name": "Bob"}, {"name": "Ada"}])
    assert response.status_code == 409
    assert "dbt_author with this name already exists" in response.json()["detail"]
    assert count(engine, "dbt_author") == 1  # Bob was not kept


def test_objects_stay_loaded_after_commit(
    server_url: str, engine: sa.Engine, plain_app: Callable[..., App]
) -> None:
    app = plain_app(server_url)
    with session(app) as db:
        author = DbtAuthor(name="Ada")
        db.add(author)
    assert author.name == "Ada"  # expire_on_commit=False: no reload after commit
    assert count(engine, "dbt_author") == 1


def test_session_outside_requests_rolls_back_on_error(
    server_url: str, engine: sa.Engine, plain_app: Callable[..., App]
) -> None:
    app = plain_app(server_url)
    with pytest.raises(RuntimeError), session(app) as db:  # noqa: PT012
        db.add(DbtAuthor(name="Ada"))
        db.flush()
        raise RuntimeError
    assert count(engine, "dbt_author") == 0


def test_async_session_outside_requests(
    server_url: str, engine: sa.Engine, plain_app: Callable[..., App]
) -> None:
    app = plain_app(server_url)

    async def main() -> str:
        async with async_session(app) as db:
            db.add(DbtAuthor(name="Ada"))
        with pytest.raises(RuntimeError):  # noqa: PT012
            async with async_session(app) as db:
                db.add(DbtAuthor(name="Bob"))
                await db.flush()
                raise RuntimeError
        async with async_session(app) as db:
            names = (await db.scalars(select(DbtAuthor.name))).all()
        await databases(app).dispose()
        return ",".join(names)

    assert asyncio.run(main()) == "Ada"
    assert count(engine, "dbt_author") == 1


def test_named_database_gets_its_own_session(
    server_url: str, tmp_path: Any, plain_app: Callable[..., App]
) -> None:
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    other_engine = sa.create_engine(other)
    METADATA.create_all(other_engine)
    app = plain_app(server_url, databases={"other": other})
    seen: dict[str, Any] = {}

    @app.post("/both")
    def both(db: Session, again: Session, archive: Annotated[Session, Database("other")]) -> None:
        seen.update(same=db is again, distinct=db is not archive)
        archive.add(DbtAuthor(name="archived"))

    @app.get("/async")
    async def in_async(archive: Annotated[AsyncSession, Database("other")]) -> dict[str, Any]:
        return {"names": list((await archive.scalars(select(DbtAuthor.name))).all())}

    with TestClient(app) as client:
        assert client.post("/both").status_code == 204
        assert client.get("/async").json() == {"names": ["archived"]}
    assert seen == {"same": True, "distinct": True}
    assert count(other_engine, "dbt_author") == 1
    other_engine.dispose()


def test_database_marker_on_another_type_is_a_configuration_error() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match=r"Database\('x'\) marks a Session"):

        @app.get("/")
        def handler(db: Annotated[int, Database("x")]) -> None: ...


def test_unknown_database_name_is_a_configuration_error(
    server_url: str, plain_app: Callable[..., App]
) -> None:
    app = plain_app(server_url)
    with pytest.raises(ConfigurationError, match="No database named 'nope'"), session(app, "nope"):
        pass


def test_async_handlers_under_wsgi_commit_and_roll_back(server_url: str, engine: sa.Engine) -> None:
    app = make_app(server_url, is_async=True)
    with TestClient(app, wsgi=True) as client:  # each server thread runs its own loop
        assert client.post("/authors", json={"name": "Ada"}).status_code == 201
        assert client.post("/authors/fail", json={"name": "Bob"}).status_code == 500
        assert (
            client.post("/authors/many", json=[{"name": "Cy"}, {"name": "Ada"}]).status_code == 409
        )
        assert client.get("/noop").status_code == 200
    assert count(engine, "dbt_author") == 1
