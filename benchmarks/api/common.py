"""The API benchmark's cases: a validated POST and a paginated list, same data for every app."""

from __future__ import annotations

from harness.cases import Case

ITEM = b'{"name": "widget", "price": 9.5, "quantity": 3, "tags": ["a", "b"]}'
BAD_ITEM = b'{"name": "", "price": -1, "quantity": 0, "tags": ["a"]}'
CATALOGUE = [
    {"id": i, "name": f"item{i}", "price": float(i) + 0.5, "quantity": i % 7 + 1, "tags": ["x"]}
    for i in range(1, 101)
]

CASES: tuple[Case, ...] = (
    Case(
        "POST validated",
        "POST",
        "/api/items",
        body=ITEM,
        status=201,
        expect_json={"id": 101, "name": "widget", "price": 9.5, "quantity": 3, "tags": ["a", "b"]},
        media_type="application/json",
    ),
    Case("POST invalid (422)", "POST", "/api/items", body=BAD_ITEM, status=422),
    Case(
        "list paginated",
        "GET",
        "/api/items",
        query=b"limit=20&offset=40",
        expect_json={"items": CATALOGUE[40:60], "total": 100, "limit": 20, "offset": 40},
        media_type="application/json",
    ),
)
