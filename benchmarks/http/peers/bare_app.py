"""A hand-written ASGI callable on an asyncpg pool: the ceiling every framework is held to."""

from __future__ import annotations

from html import escape

import msgspec

from tfb import (
    create_pool, query_count, read_fortunes, read_world, read_worlds, update_worlds,
)

_encode = msgspec.json.encode
JSON = [(b"content-type", b"application/json")]
TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
HTML = [(b"content-type", b"text/html; charset=utf-8")]
pool = None


async def _send(send, headers, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [*headers, (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


def _count(scope) -> int:
    for pair in scope["query_string"].split(b"&"):
        key, _, value = pair.partition(b"=")
        if key == b"queries":
            return query_count(value)
    return 1


async def json_(scope, send):
    await _send(send, JSON, _encode({"message": "Hello, World!"}))


async def plaintext(scope, send):
    await _send(send, TEXT, b"Hello, World!")


async def db(scope, send):
    await _send(send, JSON, _encode(await read_world(pool)))


async def queries(scope, send):
    await _send(send, JSON, _encode(await read_worlds(pool, _count(scope))))


async def updates(scope, send):
    await _send(send, JSON, _encode(await update_worlds(pool, _count(scope))))


async def fortunes(scope, send):
    rows = await read_fortunes(pool)
    body = "".join([
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
        "<tr><th>id</th><th>message</th></tr>",
        *[f"<tr><td>{id_}</td><td>{escape(message)}</td></tr>" for id_, message in rows],
        "</table></body></html>",
    ]).encode()
    await _send(send, HTML, body)


ROUTES = {"/json": json_, "/plaintext": plaintext, "/db": db, "/queries": queries,
          "/updates": updates, "/fortunes": fortunes}


async def _lifespan(receive, send) -> None:
    global pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            pool = await create_pool()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send):
    if scope["type"] == "http":
        handler = ROUTES.get(scope["path"])
        if handler is None:
            await send({"type": "http.response.start", "status": 404, "headers": TEXT})
            await send({"type": "http.response.body", "body": b"Not Found"})
            return
        await handler(scope, send)
    elif scope["type"] == "lifespan":
        await _lifespan(receive, send)
