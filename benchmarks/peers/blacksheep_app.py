"""BlackSheep: typed route/query binding, a pydantic model bound with FromJSON."""

from __future__ import annotations

from blacksheep import Application, FromJSON, Response, json, text
from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


app = Application()
get = app.router.get
post = app.router.post


@get("/plaintext")
async def plaintext() -> Response:
    return text("Hello, World!")


@get("/json")
async def json_() -> Response:
    return json({"message": "Hello, World!"})


@get("/users/{int:id}")
async def user(id: int) -> Response:
    return json({"id": id, "name": f"user{id}"})


@get("/query")
async def query(limit: int = 10, offset: int = 0) -> Response:
    return json({"limit": limit, "offset": offset})


@post("/items")
async def create(item: FromJSON[Item]) -> Response:
    return json({"id": 1, **item.value.model_dump()}, status=201)
