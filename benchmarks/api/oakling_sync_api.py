"""oakling over WSGI: the same app with sync handlers."""

from __future__ import annotations

from typing import Annotated

import msgspec

from api.models import CATALOGUE, ItemIn, ItemOut, Page
from oakling import App

app = App()


@app.post("/api/items", status=201)
def create(item: ItemIn) -> ItemOut:
    return ItemOut(101, item.name, item.price, item.quantity, item.tags)


@app.get("/api/items")
def list_items(
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20,
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0,
) -> Page:
    return Page(CATALOGUE[offset : offset + limit], len(CATALOGUE), limit, offset)
