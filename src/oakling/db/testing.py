"""Test support of the data layer: a test database per run, a transaction per test.

The pytest plugin (``oakling.pytest_plugin``) offers these as fixtures:

* ``db_url`` (once per run): a fresh database made from ``--db-url`` (or the
  ``oakling_db_url`` ini option, or ``OAKLING_TEST_DB_URL``; default a SQLite file in
  a temporary folder), with the tables of ``db_metadata`` (``Model.metadata``) created,
  dropped at the end. On a server a new database ``<name>_test_<random>`` is made next
  to the one named, so parallel runs never share tables.
* ``db`` / ``async_db``: a ``Session`` / ``AsyncSession`` inside a transaction that is
  rolled back after the test. The app under test (the ``app`` fixture) is pointed at the
  test database, and the sessions it injects join that same transaction (SQLAlchemy's
  "join an external transaction" recipe: their commits become savepoints).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from oakling.db.engine import DEFAULT, databases, sync_url
from oakling.db.session import AsyncSession, Session

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

__all__ = ("bind_async_session", "bind_session", "make_test_database")


@contextlib.contextmanager
def make_test_database(url: str | None, tmp: Path, metadata: sa.MetaData) -> Iterator[str]:
    """Make a throwaway database like ``url``, create ``metadata``'s tables, yield its URL.

    SQLite (or no URL) gets a file in ``tmp``; PostgreSQL and MySQL/MariaDB a new
    database on the same server, dropped afterwards.
    """
    parsed = sa.make_url(url or "sqlite://")
    backend = parsed.get_backend_name()
    name = f"{parsed.database or 'oakling'}_test_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        made = parsed.set(database=str(tmp / "test.sqlite3"))
    else:
        made = parsed.set(database=name)
        _admin(parsed, f"CREATE DATABASE {_quote(backend, name)}")
    try:
        engine = sa.create_engine(sync_url(made))
        try:
            metadata.create_all(engine)
        finally:
            engine.dispose()
        yield made.render_as_string(hide_password=False)
    finally:
        if backend != "sqlite":
            force = " WITH (FORCE)" if backend == "postgresql" else ""
            _admin(parsed, f"DROP DATABASE IF EXISTS {_quote(backend, name)}{force}")


def _quote(backend: str, name: str) -> str:
    return f"`{name}`" if backend in ("mysql", "mariadb") else f'"{name}"'


def _admin(url: sa.URL, statement: str) -> None:
    backend = url.get_backend_name()
    admin_db = {"postgresql": "postgres", "mysql": None, "mariadb": None}.get(backend)
    engine = sa.create_engine(sync_url(url.set(database=admin_db)), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@contextlib.contextmanager
def bind_session(app: Any, url: str, name: str = DEFAULT) -> Iterator[Session]:
    """Point ``app``'s database at ``url`` and open a transaction rolled back at the end.

    Yields a ``Session`` in that transaction; sessions the app makes meanwhile (injected
    or from ``session(app)``) join it, their commits turned into savepoints.
    """
    dbs = databases(app)
    dbs.set_url(name, url)
    connection = dbs.engine(name).connect()
    transaction = connection.begin()
    dbs.bound[name] = connection
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        dbs.bound.pop(name, None)
        if transaction.is_active:
            transaction.rollback()
        # NOTE: the app's shutdown may have disposed the pool meanwhile: close the driver
        # connection itself rather than return it to a pool nobody will close.
        connection.invalidate()
        connection.close()


@contextlib.asynccontextmanager
async def bind_async_session(
    app: Any, url: str, name: str = DEFAULT
) -> AsyncIterator[AsyncSession]:
    """The async twin of ``bind_session``; drive the app with ``AsyncTestClient``.

    The app's async sessions join the test's transaction on the test's event loop (an
    asyncio connection cannot move to another loop, such as ``TestClient``'s thread).
    """
    dbs = databases(app)
    dbs.set_url(name, url)
    engine = dbs.async_engine(name)
    connection = await engine.connect()
    transaction = await connection.begin()
    dbs.async_bound[name] = connection
    db = AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield db
    finally:
        await db.close()
        dbs.async_bound.pop(name, None)
        if transaction.is_active:
            await transaction.rollback()
        await connection.invalidate()
        await connection.close()
        await dbs.dispose()
