"""Database URLs and engines: one sync and one async engine per named database.

``databases(app)`` gives the app's ``Databases``, made on first use from the
settings (``database_url`` is ``"default"``, ``databases`` adds named ones).
Engines are created lazily, the pool sized from the settings, with a connect
timeout, idle connections pinged before use (``PING_AFTER_IDLE``), and disposed
when the app shuts down.

SQLite connections get ``PRAGMA foreign_keys=ON`` and explicit ``BEGIN`` (so
savepoints work with the stdlib driver). A failed connect is marked as a
disconnect, so the data layer answers it with a 503 and the pool starts afresh.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import create_async_engine

from oakling.exceptions import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from oakling.config import Settings

__all__ = ("DEFAULT", "Databases", "async_url", "databases", "sync_url")

DEFAULT = "default"

logger = logging.getLogger("oakling.db")

# dialect -> (sync driver, async driver); the drivers the extras install.
_DRIVERS: dict[str, tuple[str, str]] = {
    "sqlite": ("pysqlite", "aiosqlite"),
    "postgresql": ("psycopg", "asyncpg"),
    "mysql": ("pymysql", "asyncmy"),
    "mariadb": ("pymysql", "asyncmy"),
    "mssql": ("pyodbc", "aioodbc"),
    "oracle": ("oracledb", "oracledb_async"),
}
_ASYNC_DRIVERS = frozenset(
    {"aiosqlite", "asyncpg", "psycopg_async", "asyncmy", "aiomysql", "aioodbc", "oracledb_async"}
)
# connect_args key for the connect timeout, by driver (seconds).
_TIMEOUT_ARG = {
    "psycopg": "connect_timeout",
    "asyncpg": "timeout",
    "pymysql": "connect_timeout",
    "asyncmy": "connect_timeout",
    "aiomysql": "connect_timeout",
    "pysqlite": "timeout",
    "aiosqlite": "timeout",
}


def _parse(url: str | URL) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            f"Database URL {str(url)[:80]!r} is not valid; expected e.g. "
            "sqlite:///db.sqlite3, postgresql://user@host/name or mysql://user@host/name"
        ) from None


def _with_driver(url: URL, mode: str) -> URL:
    dialect, _, driver = url.drivername.partition("+")
    drivers = _DRIVERS.get(dialect)
    if drivers is None:
        if driver:
            return url
        raise ConfigurationError(
            f"Unknown database kind {dialect!r} in the database URL; use one of "
            + ", ".join(sorted(_DRIVERS))
        )
    sync_driver, async_driver = drivers
    wanted = async_driver if mode == "async" else sync_driver
    if driver and (driver in _ASYNC_DRIVERS) == (mode == "async"):
        wanted = driver  # the user chose a driver of the right kind: keep it
    if dialect == "mariadb":
        dialect = "mysql"
    return url.set(drivername=f"{dialect}+{wanted}")


def sync_url(url: str | URL) -> URL:
    """``url`` with the blocking driver of its database (``postgresql+psycopg``...)."""
    return _with_driver(_parse(url), "sync")


def async_url(url: str | URL) -> URL:
    """``url`` with the asyncio driver of its database (``postgresql+asyncpg``...)."""
    return _with_driver(_parse(url), "async")


PING_AFTER_IDLE = 1.0
"""Seconds a pooled connection may sit idle before it is pinged at checkout.

SQLAlchemy's ``pool_pre_ping`` pings at every checkout: one more round trip per request.
oakling pings only connections idle longer than this (a database restart, a proxy or
firewall timeout); a connection dropped while busy fails its request with a 503, and the
pool then replaces every connection opened before the failure.
"""


def _engine_options(url: URL, settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"echo": settings.db_echo}
    driver = url.drivername.partition("+")[2]
    timeout_arg = _TIMEOUT_ARG.get(driver)
    if timeout_arg is not None:
        timeout: float = settings.db_connect_timeout
        options["connect_args"] = {
            timeout_arg: int(timeout) if "connect" in timeout_arg else timeout
        }
    memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    if not memory:
        options.update(
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
        )
    return options


def _mark_connect_failure(context: ExceptionContext) -> None:
    # NOTE: a refused or timed-out connect is "the database is unreachable": flag it as a
    # disconnect so the error says so (connection_invalidated) and the pool is reset.
    if context.connection is None and not context.is_pre_ping:
        context.is_disconnect = True


def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    # NOTE: asyncio drivers (asyncpg) let a refused or timed-out connect escape as a bare
    # OSError/TimeoutError; make it the driver's OperationalError, so SQLAlchemy wraps it
    # and handle_error sees it like every other backend's failed connect.
    try:
        return dialect.connect(*cargs, **cparams)
    except (OSError, TimeoutError) as exc:
        raise dialect.loaded_dbapi.OperationalError(f"{type(exc).__name__}: {exc}") from exc


def _checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["oakling_idle_since"] = time.monotonic()


def _make_checkout(dialect: Any) -> Any:
    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # NOTE: the "pessimistic disconnect handling" of SQLAlchemy's docs, only for
        # connections that were idle (a new one was just opened: no ping).
        idle_since = record.info.get("oakling_idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(str(exc)) from exc
            raise

    return checkout


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # NOTE: the stdlib driver opens transactions itself and breaks SAVEPOINT; let
    # SQLAlchemy emit BEGIN (see _sqlite_begin), and enforce foreign keys as servers do.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _instrument(engine: Engine) -> Engine:
    event.listen(engine, "handle_error", _mark_connect_failure)
    event.listen(engine, "do_connect", _connect)
    event.listen(engine.pool, "checkin", _checkin)
    event.listen(engine.pool, "checkout", _make_checkout(engine.dialect))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


class Databases:
    """The named databases of one app, each with a lazily created sync and async engine.

    Async engines are kept per event loop: a pooled asyncio connection belongs to the
    loop that opened it (WSGI runs async handlers on one loop per thread).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.urls: dict[str, URL] = {DEFAULT: _parse(settings.database_url)}
        for name, url in settings.databases.items():
            self.urls[name] = _parse(url)
        self._engines: dict[str, Engine] = {}
        self._async_engines: dict[tuple[str, asyncio.AbstractEventLoop], AsyncEngine] = {}
        self._lock = threading.Lock()
        self.bound: dict[str, Connection] = {}
        """Test hook: sessions of these databases join this connection's transaction."""
        self.async_bound: dict[str, AsyncConnection] = {}
        """Test hook: async sessions of these databases join this connection's transaction."""

    def url(self, name: str = DEFAULT) -> URL:
        """The configured URL of database ``name``.

        Raises:
            ConfigurationError: No database has that name.
        """
        try:
            return self.urls[name]
        except KeyError:
            raise ConfigurationError(
                f"No database named {name!r}; configured: {', '.join(self.urls)}. "
                "Add it to the DATABASES setting."
            ) from None

    def engine(self, name: str = DEFAULT) -> Engine:
        """The blocking engine of database ``name``, created on first use."""
        engine = self._engines.get(name)
        if engine is None:
            with self._lock:
                engine = self._engines.get(name)
                if engine is None:
                    url = sync_url(self.url(name))
                    engine = create_engine(url, **_engine_options(url, self.settings))
                    self._engines[name] = _instrument(engine)
        return engine

    def async_engine(self, name: str = DEFAULT) -> AsyncEngine:
        """The asyncio engine of database ``name`` for the running loop, made on first use."""
        key = (name, asyncio.get_running_loop())
        engine = self._async_engines.get(key)
        if engine is None:
            with self._lock:
                engine = self._async_engines.get(key)
                if engine is None:
                    url = async_url(self.url(name))
                    engine = create_async_engine(url, **_engine_options(url, self.settings))
                    _instrument(engine.sync_engine)
                    self._async_engines[key] = engine
        return engine

    def set_url(self, name: str, url: str | URL) -> None:
        """Point database ``name`` at ``url`` (tests); its engines are made afresh."""
        self.urls[name] = _parse(url)
        old = self._engines.pop(name, None)
        if old is not None:
            old.dispose()
        for key in [key for key in self._async_engines if key[0] == name]:
            self._async_engines.pop(key).sync_engine.dispose(close=False)

    async def dispose(self) -> None:
        """Close every pooled connection (at app shutdown)."""
        engines, async_engines = list(self._engines.values()), dict(self._async_engines)
        self._engines.clear()
        self._async_engines.clear()
        for engine in engines:
            engine.dispose()
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for (_name, loop), async_engine in async_engines.items():
            try:
                if loop is running:
                    await async_engine.dispose()
                elif not loop.is_closed() and not loop.is_running():
                    loop.run_until_complete(async_engine.dispose())
                else:  # its loop is gone or busy elsewhere: forget the connections
                    await async_engine.dispose(close=False)
            except Exception as exc:  # shutting down: report, and close the others
                logger.warning("Could not close the connections of %r: %s", async_engine, exc)


def databases(app: Any) -> Databases:
    """The ``Databases`` of ``app`` (an ``App``), made from its settings on first use."""
    found: Databases | None = app.extensions.get("db")
    if found is None:
        with _CREATE_LOCK:
            found = app.extensions.get("db")
            if found is None:
                found = app.extensions["db"] = Databases(app.settings)
                if hasattr(app, "on_shutdown"):
                    app.on_shutdown(found.dispose)
    return found


_CREATE_LOCK = threading.Lock()
