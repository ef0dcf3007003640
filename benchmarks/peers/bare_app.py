"""A hand-written ASGI callable: the ceiling every framework is compared with."""

from __future__ import annotations

from typing import Any

import msgspec


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


_encode = msgspec.json.encode
_decoder = msgspec.json.Decoder(Item)
JSON_HEADERS = [(b"content-type", b"application/json")]
TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]


def _start(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> dict[str, Any]:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
    }


async def _respond(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send(_start(status, headers, body))
    await send({"type": "http.response.body", "body": body})


async def _json(send: Any, data: object, status: int = 200) -> None:
    await _respond(send, status, JSON_HEADERS, _encode(data))


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _query_ints(query_string: bytes, defaults: dict[str, int]) -> dict[str, int] | None:
    values = dict(defaults)
    for pair in query_string.split(b"&"):
        key, _, value = pair.partition(b"=")
        name = key.decode("latin-1")
        if name in values:
            try:
                values[name] = int(value)
            except ValueError:
                return None
    return values


async def _users(scope: dict[str, Any], send: Any) -> None:
    raw = scope["path"][7:]
    if not raw.isdigit():
        await _respond(send, 404, TEXT_HEADERS, b"Not Found")
        return
    user_id = int(raw)
    await _json(send, {"id": user_id, "name": f"user{user_id}"})


async def _query(scope: dict[str, Any], send: Any) -> None:
    values = _query_ints(scope["query_string"], {"limit": 10, "offset": 0})
    if values is None:
        await _json(send, {"detail": "invalid query"}, 422)
        return
    await _json(send, values)


async def _items(receive: Any, send: Any) -> None:
    try:
        item = _decoder.decode(await _read_body(receive))
    except msgspec.ValidationError as exc:
        await _json(send, {"detail": str(exc)}, 422)
        return
    except msgspec.DecodeError:
        await _json(send, {"detail": "invalid JSON"}, 400)
        return
    await _json(send, {"id": 1, "name": item.name, "price": item.price, "tags": item.tags}, 201)


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        return
    path, method = scope["path"], scope["method"]
    if method == "GET":
        if path == "/plaintext":
            await _respond(send, 200, TEXT_HEADERS, b"Hello, World!")
            return
        if path == "/json":
            await _json(send, {"message": "Hello, World!"})
            return
        if path == "/query":
            await _query(scope, send)
            return
        if path.startswith("/users/"):
            await _users(scope, send)
            return
    elif method == "POST" and path == "/items":
        await _items(receive, send)
        return
    await _respond(send, 404, TEXT_HEADERS, b"Not Found")
