"""Server-side sessions in the database: ``OAKLING_SESSION_BACKEND=db``.

One row per session in the ``oakling_session`` table of the default database
(``session_key``, JSON ``data``, ``expires_at`` in Unix seconds). The table is
created on first use when missing. Expired rows are never returned; delete them
now and then with ``store.delete_expired()`` (a cron job or a task).

The table is not part of your models' metadata: if you autogenerate Alembic
migrations, exclude ``oakling_session`` (``include_object``) so they do not drop it.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, delete, select, update

from oakling.db.engine import DEFAULT, databases

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ("DatabaseSessionStore", "session_table")

metadata = MetaData()
session_table = Table(
    "oakling_session",
    metadata,
    Column("session_key", String(64), primary_key=True),
    Column("data", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)
"""The sessions table: id, JSON data and expiry (Unix seconds)."""

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


class DatabaseSessionStore:
    """A ``SessionStore`` over the app's database (``oakling.db``).

    Args:
        app: The app whose databases (``database_url``) hold the sessions.
        database: The name of the database to use.
    """

    def __init__(self, app: Any, database: str = DEFAULT) -> None:
        self.app = app
        self.database = database
        self._created: set[int] = set()
        self._lock = threading.Lock()

    # -- the table -----------------------------------------------------------------------

    def _engine(self) -> Engine:
        engine = databases(self.app).engine(self.database)
        if id(engine) not in self._created:
            with self._lock:
                metadata.create_all(engine, checkfirst=True)
                self._created.add(id(engine))
        return engine

    async def _async_engine(self) -> AsyncEngine:
        engine = databases(self.app).async_engine(self.database)
        if id(engine) not in self._created:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all, checkfirst=True)
            self._created.add(id(engine))
        return engine

    # -- blocking ------------------------------------------------------------------------

    def load(self, key: str) -> dict[str, Any] | None:
        """Return the data stored under ``key``, or ``None`` (unknown or expired)."""
        with self._engine().connect() as conn:
            raw = conn.execute(_select(key)).scalar()
        return _read(raw)

    def save(self, key: str, data: dict[str, Any], max_age: int) -> None:
        """Store ``data`` under ``key`` for ``max_age`` seconds."""
        with self._engine().begin() as conn:
            _write(conn, key, data, max_age)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._engine().begin() as conn:
            conn.execute(delete(session_table).where(session_table.c.session_key == key))

    def delete_expired(self) -> int:
        """Delete expired sessions; return how many."""
        with self._engine().begin() as conn:
            now = int(time.time())
            result = conn.execute(delete(session_table).where(session_table.c.expires_at <= now))
        return int(result.rowcount)

    # -- async ---------------------------------------------------------------------------

    async def aload(self, key: str) -> dict[str, Any] | None:
        """Async ``load``."""
        engine = await self._async_engine()
        async with engine.connect() as conn:
            raw = (await conn.execute(_select(key))).scalar()
        return _read(raw)

    async def asave(self, key: str, data: dict[str, Any], max_age: int) -> None:
        """Async ``save``."""
        engine = await self._async_engine()
        async with engine.begin() as conn:
            await conn.run_sync(_write, key, data, max_age)

    async def adelete(self, key: str) -> None:
        """Async ``delete``."""
        engine = await self._async_engine()
        async with engine.begin() as conn:
            await conn.execute(delete(session_table).where(session_table.c.session_key == key))


def _select(key: str) -> Any:
    table = session_table
    return select(table.c.data).where(
        table.c.session_key == key, table.c.expires_at > int(time.time())
    )


def _read(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        return _decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _write(conn: Connection, key: str, data: dict[str, Any], max_age: int) -> None:
    # NOTE: update, then insert: portable across every dialect (no upsert syntax needed);
    # keys are random, so two requests never race to insert the same one.
    table = session_table
    values = {"data": _encode(data).decode(), "expires_at": int(time.time()) + max_age}
    result = conn.execute(update(table).where(table.c.session_key == key).values(**values))
    if not result.rowcount:
        conn.execute(table.insert().values(session_key=key, **values))
