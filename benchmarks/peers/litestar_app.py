"""Litestar: msgspec Structs, typed path/query parameters, async handlers."""

from __future__ import annotations

import msgspec
from litestar import Litestar, MediaType, get, post


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "Hello, World!"


@get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@get("/users/{id:int}")
async def user(id: int) -> dict[str, int | str]:
    return {"id": id, "name": f"user{id}"}


@get("/query")
async def query(limit: int = 10, offset: int = 0) -> dict[str, int]:
    return {"limit": limit, "offset": offset}


@post("/items", status_code=201)
async def create(data: Item) -> dict[str, object]:
    return {"id": 1, **msgspec.structs.asdict(data)}


app = Litestar([plaintext, json_, user, query, create])
