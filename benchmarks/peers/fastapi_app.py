"""FastAPI: pydantic models, typed path/query parameters, async path operations."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


app = FastAPI()


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{id}")
async def user(id: int) -> dict[str, int | str]:
    return {"id": id, "name": f"user{id}"}


@app.get("/query")
async def query(limit: int = 10, offset: int = 0) -> dict[str, int]:
    return {"limit": limit, "offset": offset}


@app.post("/items", status_code=201)
async def create(item: Item) -> dict[str, object]:
    return {"id": 1, **item.model_dump()}
