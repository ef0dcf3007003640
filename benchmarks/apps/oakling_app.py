"""oakling: the benchmark app, written against the public API (async handlers)."""

import msgspec

from oakling import App, Response

app = App()


@app.get("/plaintext")
async def plaintext() -> Response:
    return Response("Hello, World!", media_type="text/plain")


@app.get("/json")
async def json_() -> dict:
    return {"message": "Hello, World!"}


@app.get("/users/{id:int}")
async def user(id: int) -> dict:
    return {"id": id, "name": f"user{id}"}


@app.get("/query")
async def query(limit: int = 10, offset: int = 0) -> dict:
    return {"limit": limit, "offset": offset}


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


@app.post("/items", status=201)
async def create(item: Item) -> dict:
    return {"id": 1, **msgspec.structs.asdict(item)}
