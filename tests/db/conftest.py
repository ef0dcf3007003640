"""Fixtures of the data-layer tests: each backend's throwaway database, apps, clients.

``server_url`` is a database made once per backend per run (SQLite file, PostgreSQL,
MariaDB) with the test models' tables; rows are deleted after each test.
``flavour`` runs a test body with sync handlers (over ASGI and WSGI) and async ones.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.db.apps import make_app
from tests.db.models import METADATA
from tests.services import mariadb_database, postgres_database

from oakling import App
from oakling.config import Settings
from oakling.db import sync_url
from oakling.testing import TestClient

BACKENDS = ["sqlite", "postgresql", "mariadb"]


@contextlib.contextmanager
def _database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'test.sqlite3'}"
    elif backend == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        with mariadb_database() as url:
            yield url


@pytest.fixture(scope="session", params=BACKENDS)
def server_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A throwaway database of one backend, with the test models' tables."""
    with _database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        engine = sa.create_engine(sync_url(url))
        METADATA.create_all(engine)
        engine.dispose()
        yield url


@pytest.fixture
def engine(server_url: str) -> Iterator[sa.Engine]:
    """A plain engine on the test database, to check what was written; empties the tables."""
    engine = sa.create_engine(sync_url(server_url))
    yield engine
    with engine.begin() as conn:
        for table in reversed(METADATA.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.fixture(params=["sync-asgi", "sync-wsgi", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client(flavour: str) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def factory(url: str, **settings: object) -> TestClient:
        app = make_app(url, is_async=flavour == "async", **settings)
        client = TestClient(app, wsgi=flavour == "sync-wsgi")
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__()
        client.close()


@pytest.fixture
def client(
    make_client: Callable[..., TestClient], server_url: str, engine: sa.Engine
) -> TestClient:
    return make_client(server_url)


def settings(url: str, **more: object) -> Settings:
    return Settings(**{"debug": True, "database_url": url, **more})  # type: ignore[arg-type]


@pytest.fixture
def plain_app() -> Iterator[Callable[..., App]]:
    """Make apps without a lifespan; their engines are disposed after the test."""
    apps: list[App] = []

    def factory(url: str, **more: object) -> App:
        app = App(settings=settings(url, **more))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        dbs = app.extensions.get("db")
        if dbs is not None:
            for engine in dbs._engines.values():
                engine.dispose()
