"""msgspec models shared by the oakling and Litestar apps (constraints in msgspec.Meta)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Price = Annotated[float, msgspec.Meta(gt=0)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=1000)]
Tags = Annotated[list[str], msgspec.Meta(max_length=10)]


class ItemIn(msgspec.Struct):
    name: Name
    price: Price
    quantity: Quantity
    tags: Tags = []


class ItemOut(msgspec.Struct):
    id: int
    name: str
    price: float
    quantity: int
    tags: list[str]


class Page(msgspec.Struct):
    items: list[ItemOut]
    total: int
    limit: int
    offset: int


CATALOGUE = [ItemOut(i, f"item{i}", float(i) + 0.5, i % 7 + 1, ["x"]) for i in range(1, 101)]
