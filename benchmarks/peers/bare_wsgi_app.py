"""A hand-written WSGI callable: the WSGI ceiling."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


_encode = msgspec.json.encode
_decoder = msgspec.json.Decoder(Item)
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
STATUS = {200: "200 OK", 201: "201 Created", 400: "400 Bad Request", 404: "404 Not Found",
          422: "422 Unprocessable Content"}

StartResponse = Callable[..., Any]


def _respond(start_response: StartResponse, status: int, ctype: str, body: bytes) -> list[bytes]:
    start_response(STATUS[status], [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


def _json(start_response: StartResponse, data: object, status: int = 200) -> list[bytes]:
    return _respond(start_response, status, JSON, _encode(data))


def _query_ints(query_string: str, defaults: dict[str, int]) -> dict[str, int] | None:
    values = dict(defaults)
    for pair in query_string.split("&"):
        key, _, value = pair.partition("=")
        if key in values:
            try:
                values[key] = int(value)
            except ValueError:
                return None
    return values


def _users(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    raw = environ["PATH_INFO"][7:]
    if not raw.isdigit():
        return _respond(start_response, 404, TEXT, b"Not Found")
    user_id = int(raw)
    return _json(start_response, {"id": user_id, "name": f"user{user_id}"})


def _query(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    values = _query_ints(environ.get("QUERY_STRING", ""), {"limit": 10, "offset": 0})
    if values is None:
        return _json(start_response, {"detail": "invalid query"}, 422)
    return _json(start_response, values)


def _items(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        item = _decoder.decode(environ["wsgi.input"].read(length))
    except msgspec.ValidationError as exc:
        return _json(start_response, {"detail": str(exc)}, 422)
    except msgspec.DecodeError:
        return _json(start_response, {"detail": "invalid JSON"}, 400)
    return _json(start_response, {"id": 1, "name": item.name, "price": item.price,
                                  "tags": item.tags}, 201)


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
    if method == "GET":
        if path == "/plaintext":
            return _respond(start_response, 200, TEXT, b"Hello, World!")
        if path == "/json":
            return _json(start_response, {"message": "Hello, World!"})
        if path == "/query":
            return _query(environ, start_response)
        if path.startswith("/users/"):
            return _users(environ, start_response)
    elif method == "POST" and path == "/items":
        return _items(environ, start_response)
    return _respond(start_response, 404, TEXT, b"Not Found")
