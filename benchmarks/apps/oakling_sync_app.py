"""oakling: the benchmark app, written against the public API (sync handlers, for app.wsgi)."""

import msgspec

from oakling import App, Response

app = App()


@app.get("/plaintext")
def plaintext() -> Response:
    return Response("Hello, World!", media_type="text/plain")


@app.get("/json")
def json_() -> dict:
    return {"message": "Hello, World!"}


@app.get("/users/{id:int}")
def user(id: int) -> dict:
    return {"id": id, "name": f"user{id}"}


@app.get("/query")
def query(limit: int = 10, offset: int = 0) -> dict:
    return {"limit": limit, "offset": offset}


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


@app.post("/items", status=201)
def create(item: Item) -> dict:
    return {"id": 1, **msgspec.structs.asdict(item)}
