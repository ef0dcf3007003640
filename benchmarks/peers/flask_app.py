"""Flask (WSGI): view functions, typed query args, msgspec validates the POST body."""

from __future__ import annotations

import msgspec
from flask import Flask, Response, request


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


app = Flask(__name__)


@app.get("/plaintext")
def plaintext() -> Response:
    return Response("Hello, World!", mimetype="text/plain")


@app.get("/json")
def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/<int:id>")
def user(id: int) -> dict[str, int | str]:
    return {"id": id, "name": f"user{id}"}


@app.get("/query")
def query() -> dict[str, int]:
    limit = request.args.get("limit", 10, type=int)
    offset = request.args.get("offset", 0, type=int)
    return {"limit": limit, "offset": offset}


@app.post("/items")
def create() -> tuple[dict[str, object], int]:
    try:
        item = msgspec.json.decode(request.get_data(), type=Item)
    except msgspec.ValidationError as exc:
        return {"detail": str(exc)}, 422
    except msgspec.DecodeError:
        return {"detail": "invalid JSON"}, 400
    return {"id": 1, **msgspec.structs.asdict(item)}, 201
