"""Litestar: msgspec Structs with constraints, Parameter constraints, async handlers."""

from __future__ import annotations

from typing import Annotated

from litestar import Litestar, get, post
from litestar.params import Parameter

from api.models import CATALOGUE, ItemIn, ItemOut, Page


@post("/api/items", status_code=201)
async def create(data: ItemIn) -> ItemOut:
    return ItemOut(101, data.name, data.price, data.quantity, data.tags)


@get("/api/items")
async def list_items(
    limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    offset: Annotated[int, Parameter(ge=0)] = 0,
) -> Page:
    return Page(CATALOGUE[offset : offset + limit], len(CATALOGUE), limit, offset)


app = Litestar([create, list_items], openapi_config=None)
