"""pytest plugin (registered by the ``oakling`` entry point): ``app`` and ``client`` fixtures.

Define your own ``app`` fixture in ``conftest.py``, or name the app with the
``oakling_app = "module:attr"`` ini option (or ``OAKLING_APP``); ``client`` is then a
``TestClient`` with the app's lifespan running, and ``wsgi_client`` the same over WSGI.

With ``oakling[db]``: ``db`` and ``async_db`` give a session inside a transaction rolled
back after each test, on a test database made once per run (``--db-url`` picks the
server; see ``oakling.db.testing``).
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from oakling.app import App
    from oakling.testing import TestClient

__all__ = (
    "app",
    "async_db",
    "client",
    "db",
    "db_metadata",
    "db_url",
    "pytest_addoption",
    "wsgi_client",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``oakling_app`` and ``oakling_db_url`` ini options and ``--db-url``."""
    parser.addini("oakling_app", "The app under test, as 'module:attribute'", default="")
    parser.addini("oakling_db_url", "Database server for the test database", default="")
    parser.addoption(
        "--db-url",
        default=None,
        help="Database URL to make the test database on (default: a SQLite file)",
    )


def _load(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attr or "app")
    return value() if callable(value) and not hasattr(value, "router") else value


@pytest.fixture
def app(request: pytest.FixtureRequest) -> App:
    """The app under test: override this fixture, or set ``oakling_app``/``OAKLING_APP``."""
    target = str(request.config.getini("oakling_app")) or os.environ.get("OAKLING_APP", "")
    if not target:
        pytest.fail(
            "No app to test: define an 'app' fixture in conftest.py, or set "
            "oakling_app = 'module:app' in the pytest ini options (or OAKLING_APP)",
            pytrace=False,
        )
    loaded: App = _load(target)
    return loaded


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    """A ``TestClient`` for ``app`` over ASGI, with the lifespan running."""
    from oakling.testing import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def wsgi_client(app: App) -> Iterator[TestClient]:
    """A ``TestClient`` for ``app`` over WSGI."""
    from oakling.testing import TestClient

    with TestClient(app, wsgi=True) as test_client:
        yield test_client


# -- data layer (oakling[db]); SQLAlchemy is imported only when a test asks ---------------


@pytest.fixture(scope="session")
def db_metadata() -> Any:
    """The tables of the test database: ``Model.metadata`` (override to choose)."""
    from oakling.db import Model

    return Model.metadata


@pytest.fixture(scope="session")
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, db_metadata: Any
) -> Iterator[str]:
    """The URL of a test database made for this run, with ``db_metadata``'s tables."""
    from oakling.db.testing import make_test_database

    url = (
        request.config.getoption("db_url")
        or str(request.config.getini("oakling_db_url"))
        or os.environ.get("OAKLING_TEST_DB_URL")
    )
    with make_test_database(url, tmp_path_factory.mktemp("db"), db_metadata) as made:
        yield made


@pytest.fixture
def db(app: App, db_url: str) -> Iterator[Any]:
    """A ``Session`` in a transaction rolled back after the test; ``app`` joins it."""
    from oakling.db.testing import bind_session

    with bind_session(app, db_url) as session:
        yield session


@pytest.fixture
async def async_db(app: App, db_url: str) -> AsyncIterator[Any]:
    """An ``AsyncSession`` in a transaction rolled back after the test (anyio tests)."""
    from oakling.db.testing import bind_async_session

    async with bind_async_session(app, db_url) as session:
        yield session
