"""What every app of the HTTP benchmark shares: the database, the SQL and the test rules.

The apps import this module (``PYTHONPATH`` holds ``benchmarks/http`` for every server),
so each framework runs the same statements against the same pool size; what differs is
only the framework's own code. The rules are TechEmpower's (Framework Benchmarks, "test
types"): see benchmarks/README.md, section "HTTP".
"""

from __future__ import annotations

import os
import random
import threading
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import asyncpg
    import psycopg

__all__ = (
    "ADDITIONAL_FORTUNE",
    "DSN",
    "POOL_SIZE",
    "READ_ALL_FORTUNES",
    "READ_ROW",
    "ROWS",
    "TEMPLATES",
    "UPDATE_ROWS",
    "Fortune",
    "create_pool",
    "query_count",
    "random_id",
    "random_ids",
    "read_fortunes",
    "read_fortunes_sync",
    "read_world",
    "read_world_sync",
    "read_worlds",
    "read_worlds_sync",
    "sorted_fortunes",
    "update_worlds",
    "update_worlds_sync",
)

DSN = os.environ.get("TFB_DSN", "postgresql://postgres@127.0.0.1:5432/oakling_bench")
POOL_SIZE = int(os.environ.get("TFB_POOL_SIZE", "8"))
"""Connections per worker: asyncpg pool size, and WSGI threads (one connection each)."""
ROWS = 10_000
TEMPLATES = str(Path(__file__).parent / "templates")

READ_ROW = 'SELECT "id", "randomnumber" FROM "world" WHERE id = $1'
READ_ALL_FORTUNES = 'SELECT "id", "message" FROM "fortune"'
# NOTE: TechEmpower allows batching the writes of /updates; every app sends the same
# statement through its driver's executemany (asyncpg and psycopg 3 both pipeline it).
UPDATE_ROWS = 'UPDATE "world" SET "randomnumber" = $2 WHERE "id" = $1'
ADDITIONAL_FORTUNE = "Additional fortune added at request time."

random_id = random.Random().randint
_sample = random.sample
_population = range(1, ROWS + 1)


def random_ids(count: int) -> list[int]:
    """``count`` distinct random row ids, sorted (updates then lock rows in one order)."""
    return sorted(_sample(_population, count))


def query_count(raw: str | bytes | None) -> int:
    """The ``queries`` parameter by the rules: an int clamped to 1..500, anything else 1."""
    try:
        count = int(raw) if raw else 1
    except ValueError:
        return 1
    return 1 if count < 1 else min(count, 500)


class Fortune(NamedTuple):
    """A row of ``fortune`` (attribute access for every template engine)."""

    id: int
    message: str


_by_message = attrgetter("message")


def sorted_fortunes(rows: Any) -> list[Fortune]:
    """The rows plus the one added at request time, sorted by message (the rules)."""
    fortunes = [Fortune(*row) for row in rows]
    fortunes.append(Fortune(0, ADDITIONAL_FORTUNE))
    fortunes.sort(key=_by_message)
    return fortunes


# -- asyncpg (ASGI apps): the same statements for every framework ----------------------


async def create_pool() -> asyncpg.Pool:
    """An asyncpg pool of ``POOL_SIZE`` connections (statements prepared and cached)."""
    import asyncpg

    return await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)


async def read_world(pool: asyncpg.Pool) -> dict[str, int]:
    """One random row of ``world`` as ``{"id", "randomNumber"}``."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(READ_ROW, random_id(1, ROWS))
    return {"id": row[0], "randomNumber": row[1]}


async def read_worlds(pool: asyncpg.Pool, count: int) -> list[dict[str, int]]:
    """``count`` random rows of ``world``, one query each (the rules forbid ``IN``)."""
    async with pool.acquire() as conn:
        statement = await conn.prepare(READ_ROW)
        return [
            {"id": i, "randomNumber": await statement.fetchval(i, column=1)}
            for i in random_ids(count)
        ]


async def update_worlds(pool: asyncpg.Pool, count: int) -> list[dict[str, int]]:
    """Read ``count`` random rows one by one, give each a new number, write them in a batch."""
    ids = random_ids(count)
    async with pool.acquire() as conn:
        statement = await conn.prepare(READ_ROW)
        for i in ids:
            await statement.fetchval(i, column=1)
        worlds = [{"id": i, "randomNumber": random_id(1, ROWS)} for i in ids]
        await conn.executemany(UPDATE_ROWS, [(w["id"], w["randomNumber"]) for w in worlds])
    return worlds


async def read_fortunes(pool: asyncpg.Pool) -> list[Fortune]:
    """Every row of ``fortune`` plus the added one, sorted by message."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(READ_ALL_FORTUNES)
    return sorted_fortunes(rows)


# -- psycopg 3 (WSGI apps): one connection per server thread ---------------------------

_local = threading.local()
_READ_ROW_PG = READ_ROW.replace("$1", "%s")
_UPDATE_ROWS_PG = UPDATE_ROWS.replace("$2", "%s").replace("$1", "%s")


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        import psycopg

        # NOTE: prepare_threshold=0: every statement is prepared on first use, as asyncpg does.
        conn = _local.conn = psycopg.connect(DSN, autocommit=True, prepare_threshold=0)
    return conn


def read_world_sync() -> dict[str, int]:
    """``read_world`` over this thread's psycopg connection."""
    row = _connection().execute(_READ_ROW_PG, (random_id(1, ROWS),)).fetchone()
    return {"id": row[0], "randomNumber": row[1]}


def read_worlds_sync(count: int) -> list[dict[str, int]]:
    """``read_worlds`` over this thread's psycopg connection."""
    cursor = _connection().cursor()
    execute = cursor.execute
    return [
        {"id": i, "randomNumber": execute(_READ_ROW_PG, (i,)).fetchone()[1]}
        for i in random_ids(count)
    ]


def update_worlds_sync(count: int) -> list[dict[str, int]]:
    """``update_worlds`` over this thread's psycopg connection (executemany pipelines)."""
    ids = random_ids(count)
    cursor = _connection().cursor()
    for i in ids:
        cursor.execute(_READ_ROW_PG, (i,)).fetchone()
    worlds = [{"id": i, "randomNumber": random_id(1, ROWS)} for i in ids]
    # NOTE: UPDATE_ROWS takes ($2, $1) as (number, id): keep that order here.
    cursor.executemany(_UPDATE_ROWS_PG, [(w["randomNumber"], w["id"]) for w in worlds])
    return worlds


def read_fortunes_sync() -> list[Fortune]:
    """``read_fortunes`` over this thread's psycopg connection."""
    return sorted_fortunes(_connection().execute(READ_ALL_FORTUNES).fetchall())
