"""Read one row by primary key on PostgreSQL: oakling's AsyncSession vs raw drivers.

In-process, like ``benchmarks/inprocess.py``: each app runs in its own subprocess (with
the malloc thresholds of DESIGN.md), requests are ASGI calls on one event loop, one at a
time, against a throwaway database on 127.0.0.1:5432. Apps:

* ``oakling``: ``async def world(id: int, db: AsyncSession)`` → ``await db.get(World, id)``,
  returns a dict (JSON); the session is injected, committed and closed per request.
* ``asyncpg``: a bare ASGI callable, an asyncpg pool, ``fetchrow`` (prepared, cached).
* ``psycopg``: a bare ASGI callable, one psycopg 3 ``AsyncConnection`` (prepared after
  5 runs; psycopg_pool is not installed, and one request runs at a time anyway).

Run: ``.venv/bin/python benchmarks/db/run.py [--requests N] [--rounds R]``.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
APPS = ("oakling", "oakling-core", "asyncpg", "asyncpg-conn", "psycopg")
ROWS = 10_000


def _make_database() -> str:
    import psycopg

    name = f"oakling_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={name}", autocommit=True) as conn:
        conn.execute("CREATE TABLE world (id integer PRIMARY KEY, randomnumber integer NOT NULL)")
        conn.execute(
            "INSERT INTO world SELECT i, (random() * 10000)::int FROM generate_series(1, %s) i",
            (ROWS,),
        )
    return name


def _drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the apps ----------------------------------------------------------------------------


def oakling_app(dbname: str) -> Any:
    from sqlalchemy.orm import Mapped, mapped_column

    from oakling import App
    from oakling.config import Settings
    from oakling.db import AsyncSession, Model

    class World(Model):
        __tablename__ = "world"
        id: Mapped[int] = mapped_column(primary_key=True)
        randomnumber: Mapped[int]

    app = App(
        settings=Settings(
            database_url=f"postgresql://postgres@127.0.0.1/{dbname}",
            secret_key="benchmark-" + "x" * 50,
        )
    )

    @app.get("/db/{id:int}")
    async def world(id: int, db: AsyncSession) -> dict[str, int]:
        row = await db.get_or_404(World, id)
        return {"id": row.id, "randomNumber": row.randomnumber}

    return app


def oakling_core_app(dbname: str) -> Any:
    from sqlalchemy import column, select, table

    from oakling import App, NotFound
    from oakling.config import Settings
    from oakling.db import AsyncSession

    world_table = table("world", column("id"), column("randomnumber"))
    app = App(
        settings=Settings(
            database_url=f"postgresql://postgres@127.0.0.1/{dbname}",
            secret_key="benchmark-" + "x" * 50,
        )
    )
    statement = select(world_table.c.id, world_table.c.randomnumber)

    @app.get("/db/{id:int}")
    async def world(id: int, db: AsyncSession) -> dict[str, int]:
        conn = await db.connection()
        row = (await conn.execute(statement.where(world_table.c.id == id))).first()
        if row is None:
            raise NotFound
        return {"id": row[0], "randomNumber": row[1]}

    return app


def _json_response(body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
    }
    return start, {"type": "http.response.body", "body": body}


def asyncpg_conn_app(dbname: str) -> Any:
    import asyncpg
    import msgspec

    state: dict[str, Any] = {}
    encode = msgspec.json.encode

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            state["conn"] = await asyncpg.connect(f"postgresql://postgres@127.0.0.1/{dbname}")
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await state["conn"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        id = int(scope["path"].rsplit("/", 1)[1])
        row = await state["conn"].fetchrow("SELECT id, randomnumber FROM world WHERE id = $1", id)
        start, body = _json_response(encode({"id": row[0], "randomNumber": row[1]}))
        await send(start)
        await send(body)

    return app


def asyncpg_app(dbname: str) -> Any:
    import asyncpg
    import msgspec

    state: dict[str, Any] = {}
    encode = msgspec.json.encode

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            state["pool"] = await asyncpg.create_pool(
                f"postgresql://postgres@127.0.0.1/{dbname}", min_size=5, max_size=15
            )
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await state["pool"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        id = int(scope["path"].rsplit("/", 1)[1])
        async with state["pool"].acquire() as conn:
            row = await conn.fetchrow("SELECT id, randomnumber FROM world WHERE id = $1", id)
        start, body = _json_response(encode({"id": row[0], "randomNumber": row[1]}))
        await send(start)
        await send(body)

    return app


def psycopg_app(dbname: str) -> Any:
    import msgspec
    import psycopg

    state: dict[str, Any] = {}
    encode = msgspec.json.encode

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            state["conn"] = await psycopg.AsyncConnection.connect(
                f"host=127.0.0.1 user=postgres dbname={dbname}", autocommit=True
            )
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await state["conn"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        id = int(scope["path"].rsplit("/", 1)[1])
        cursor = await state["conn"].execute(
            "SELECT id, randomnumber FROM world WHERE id = %s", (id,)
        )
        row = await cursor.fetchone()
        start, body = _json_response(encode({"id": row[0], "randomNumber": row[1]}))
        await send(start)
        await send(body)

    return app


# -- driving one app ----------------------------------------------------------------------


async def _lifespan(app: Any) -> tuple[asyncio.Task[None], asyncio.Queue[dict[str, Any]]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.get_running_loop().create_future()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set_result(None)

    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, send)
    )
    await started
    return task, inbox


async def _request(app: Any, id: int) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/db/{id}",
        "raw_path": f"/db/{id}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost:8000"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    result: dict[str, Any] = {"body": b""}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            result["status"] = message["status"]
        else:
            result["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return result["status"], result["body"]


async def _measure(name: str, dbname: str, requests: int) -> tuple[float, float]:
    makers = {
        "oakling": oakling_app,
        "oakling-core": oakling_core_app,
        "asyncpg": asyncpg_app,
        "asyncpg-conn": asyncpg_conn_app,
        "psycopg": psycopg_app,
    }
    app = makers[name](dbname)
    task, inbox = await _lifespan(app)
    status, body = await _request(app, 42)
    if status != 200 or json.loads(body)["id"] != 42:
        raise SystemExit(f"{name}: wrong answer {status} {body!r}")
    for i in range(2000):  # warm up: caches, prepared statements, pool
        await _request(app, 1 + i % ROWS)
    samples, cpu_samples = [], []
    batch = requests // 5
    for _ in range(5):
        start, cpu_start = time.perf_counter_ns(), time.process_time_ns()
        for i in range(batch):
            await _request(app, 1 + (i * 7919) % ROWS)
        samples.append((time.perf_counter_ns() - start) / batch / 1000)
        cpu_samples.append((time.process_time_ns() - cpu_start) / batch / 1000)
    await inbox.put({"type": "lifespan.shutdown"})
    await task
    return statistics.median(samples), statistics.median(cpu_samples)


def _worker(name: str, dbname: str, requests: int) -> None:
    wall, cpu = asyncio.run(_measure(name, dbname, requests))
    print(json.dumps({"app": name, "us": wall, "cpu": cpu}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", nargs=2, metavar=("APP", "DB"))
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker[0], args.worker[1], args.requests)
        return
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "1048576", "MALLOC_TRIM_THRESHOLD_": "4194304"}
    dbname = _make_database()
    results: dict[str, list[float]] = {name: [] for name in APPS}
    cpu: dict[str, list[float]] = {name: [] for name in APPS}
    try:
        for round_ in range(args.rounds):
            order = APPS if round_ % 2 == 0 else tuple(reversed(APPS))
            for name in order:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--requests",
                        str(args.requests),
                        "--worker",
                        name,
                        dbname,
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                found = json.loads(out.stdout.strip().splitlines()[-1])
                results[name].append(found["us"])
                cpu[name].append(found["cpu"])
    finally:
        _drop_database(dbname)
    base, cpu_base = min(results["asyncpg"]), min(cpu["asyncpg"])
    print("| app | wall µs/req | req/s | vs asyncpg (pool) | CPU µs/req | CPU vs asyncpg |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in APPS:
        best, best_cpu = min(results[name]), min(cpu[name])
        print(
            f"| {name} | {best:.0f} | {1e6 / best:,.0f} | {base / best:.0%} "
            f"| {best_cpu:.0f} | {cpu_base / best_cpu:.0%} |"
        )


if __name__ == "__main__":
    main()
