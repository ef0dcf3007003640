"""FastAPI: pydantic models with Field constraints, Query constraints, response models."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    price: float = Field(gt=0)
    quantity: int = Field(ge=1, le=1000)
    tags: list[str] = Field(default=[], max_length=10)


class ItemOut(BaseModel):
    id: int
    name: str
    price: float
    quantity: int
    tags: list[str]


class Page(BaseModel):
    items: list[ItemOut]
    total: int
    limit: int
    offset: int


CATALOGUE = [
    ItemOut(id=i, name=f"item{i}", price=float(i) + 0.5, quantity=i % 7 + 1, tags=["x"])
    for i in range(1, 101)
]

app = FastAPI()


@app.post("/api/items", status_code=201)
async def create(item: ItemIn) -> ItemOut:
    return ItemOut(id=101, **item.model_dump())


@app.get("/api/items")
async def list_items(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page:
    return Page(
        items=CATALOGUE[offset : offset + limit], total=len(CATALOGUE), limit=limit, offset=offset
    )
