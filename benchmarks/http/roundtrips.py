"""Count the statements each app sends to PostgreSQL per request (asyncpg apps, in-process).

Usage:
    benchmarks/.venv/bin/python benchmarks/http/roundtrips.py apps.oakling_orm_app:app ...

Each statement is one round trip to the database server (asyncpg does not pipeline
them, except ``executemany``, counted once). The app runs in-process on an
asyncio loop, driven the way a server drives it (lifespan, then one ``http`` scope per
request), with no test mode switched on.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import asyncpg.connection  # noqa: E402
import asyncpg.prepared_stmt  # noqa: E402

PATHS = {
    "db": "/db",
    "queries": "/queries?queries=20",
    "updates": "/updates?queries=20",
    "fortunes": "/fortunes",
}
sent: collections.Counter[str] = collections.Counter()


def _counting(method: Any, label: Any) -> Any:
    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        name = label(self, args)
        if name:
            sent[name] += 1
        return await method(self, *args, **kwargs)

    return wrapper


def _first_words(query: Any) -> str:
    return " ".join(str(query).split()[:2])[:30]


def install() -> None:
    """Count every statement that asyncpg sends, by its first words."""
    conn = asyncpg.connection.Connection
    # NOTE: execute() with arguments goes through _execute(): count it there only.
    conn.execute = _counting(conn.execute, lambda s, a: None if a[1:] else _first_words(a[0]))
    conn._execute = _counting(conn._execute, lambda s, a: _first_words(a[0]))
    conn._executemany = _counting(conn._executemany, lambda s, a: "executemany")
    stmt = asyncpg.prepared_stmt.PreparedStatement
    name = "_PreparedStatement__bind_execute"
    setattr(stmt, name, _counting(getattr(stmt, name), lambda s, a: _first_words(s._query)))


async def _lifespan(app: Any) -> tuple[asyncio.Task[None], asyncio.Queue[dict[str, Any]]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()
    await inbox.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, send))
    await asyncio.wait_for(started.wait(), 10)
    return task, inbox


async def _get(app: Any, target: str) -> int:
    path, _, query = target.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {},
    }  # fmt: skip
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def count(target: str, requests: int = 20) -> dict[str, dict[str, float]]:
    """Statements per request, by test, for the ASGI app ``module:attribute``."""
    module, _, attribute = target.partition(":")
    app = getattr(import_module(module), attribute)
    task, inbox = await _lifespan(app)
    found: dict[str, dict[str, float]] = {}
    for test, path in PATHS.items():
        await _get(app, path)  # prepare statements, fill pools
        sent.clear()
        for _ in range(requests):
            status = await _get(app, path)
            if status != 200:
                raise SystemExit(f"{target} {path}: status {status}")
        found[test] = {k: v / requests for k, v in sent.items()}
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(task, 10)
    return found


def main() -> None:
    install()
    for target in sys.argv[1:]:
        print(target)
        for test, statements in asyncio.run(count(target)).items():
            total = sum(statements.values())
            detail = ", ".join(f"{k}: {v:g}" for k, v in sorted(statements.items()))
            print(f"  {test:9} {total:5.1f} statements/request  ({detail})")


if __name__ == "__main__":
    main()
