"""The helpers: get_or_404, first_or_404, exists, paginate, keyset, get_or_create, atomic."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from tests.db.conftest import count
from tests.db.models import DbtAuthor

from oakling import App
from oakling.db import Session, async_session, databases, session
from oakling.testing import TestClient


def _add(engine: sa.Engine, *names: str, born: dt.date | None = None) -> list[int]:
    with engine.begin() as conn:
        return [
            conn.execute(
                sa.insert(DbtAuthor).values(name=name, born=born).returning(DbtAuthor.id)
            ).scalar_one()
            if engine.dialect.name != "mysql"
            else conn.execute(sa.insert(DbtAuthor).values(name=name, born=born)).lastrowid
            for name in names
        ]


def test_get_or_404(client: TestClient, engine: sa.Engine) -> None:
    [ada] = _add(engine, "Ada")
    assert client.get(f"/authors/{ada}").json() == {"id": ada, "name": "Ada"}
    missing = client.get(f"/authors/{ada + 1000}")
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"No DbtAuthor with id {ada + 1000}"


def test_first_or_404_and_exists(client: TestClient, engine: sa.Engine) -> None:
    _add(engine, "Ada")
    assert client.get("/first", params={"name": "Ada"}).json()["name"] == "Ada"
    missing = client.get("/first", params={"name": "Bob"})
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No DbtAuthor matches this request"
    assert client.get("/exists", params={"name": "Ada"}).json() == {"exists": True}
    assert client.get("/exists", params={"name": "Bob"}).json() == {"exists": False}


def test_paginate_counts_and_links_to_neighbours(client: TestClient, engine: sa.Engine) -> None:
    _add(engine, *"abcde")
    first = client.get("/authors", params={"per_page": 2, "sort": "x"}).json()
    assert first == {
        "items": ["a", "b"],
        "total": 5,
        "page": 1,
        "per_page": 2,
        "pages": 3,
        "has_next": True,
        "has_prev": False,
        "next_url": "/authors?per_page=2&sort=x&page=2",
        "prev_url": None,
    }
    last = client.get("/authors?page=3&per_page=2").json()
    assert last["items"] == ["e"]
    assert (last["has_next"], last["next_url"]) == (False, None)
    assert last["prev_url"] == "/authors?per_page=2&page=2"
    beyond = client.get("/authors?page=9&per_page=2").json()
    assert beyond["items"] == []
    assert beyond["prev_url"] == "/authors?per_page=2&page=3"


def test_paginate_caps_per_page(client: TestClient, engine: sa.Engine) -> None:
    _add(engine, *"abcde")
    capped = client.get("/authors?per_page=1000").json()
    assert (capped["per_page"], capped["items"]) == (3, ["a", "b", "c"])


def test_paginate_rows_of_several_columns(client: TestClient, engine: sa.Engine) -> None:
    ids = _add(engine, "a", "b")
    assert client.get("/names").json() == {"items": [[ids[0], "a"], [ids[1], "b"]], "total": 2}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=0", "query.page: Page numbers start at 1"),
        ("page=-3", "query.page: Page numbers start at 1"),
        ("per_page=0", "query.per_page: per_page must be at least 1"),
        ("page=two", "query.page: Expected a whole number, got 'two'"),
    ],
)
def test_paginate_rejects_bad_pages(client: TestClient, query: str, message: str) -> None:
    response = client.get(f"/authors?{query}")
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_keyset_walks_every_row_once(client: TestClient, engine: sa.Engine) -> None:
    _add(engine, "old", born=dt.date(1900, 1, 1))
    _add(engine, "new1", "new2", born=dt.date(2000, 1, 1))
    _add(engine, "mid", born=dt.date(1950, 1, 1))
    seen, after, pages = [], None, 0
    while True:
        params = {"after": after} if after else {}
        page = client.get("/keyset", params=params).json()
        seen += page["items"]
        pages += 1
        after = page["next"]
        if after is None:
            break
    assert seen[:2] == ["new1", "new2"] or seen[:2] == ["new2", "new1"]
    assert seen[2:] == ["mid", "old"]
    assert pages == 2


@pytest.mark.parametrize("cursor", ["garbage!", "WzFd", "bm90IGpzb24", "WyJ4IiwgMV0"])
def test_keyset_bad_cursor_is_a_400(client: TestClient, cursor: str) -> None:
    response = client.get("/keyset", params={"after": cursor})
    assert response.status_code == 400
    assert "Invalid pagination cursor" in response.json()["detail"]


def test_keyset_limit_below_one_is_a_422(client: TestClient) -> None:
    assert client.get("/keyset?limit=0").status_code == 422


def test_get_or_create(client: TestClient, engine: sa.Engine) -> None:
    made = client.post("/goc/Ada").json()
    assert made["created"] is True
    again = client.post("/goc/Ada").json()
    assert again == {"id": made["id"], "created": False}
    assert count(engine, "dbt_author") == 1


def test_atomic_undoes_only_the_failed_block(client: TestClient, engine: sa.Engine) -> None:
    names = [{"name": "a"}, {"name": "b"}, {"name": "a"}, {"name": "c"}]
    assert client.post("/atomic", json=names).json() == {"kept": ["a", "b", "c"]}
    with engine.connect() as conn:
        stored = conn.execute(sa.select(DbtAuthor.name).order_by(DbtAuthor.name)).scalars().all()
    assert stored == ["a", "b", "c"]


def _other_request_inserts_first(db: Session, engine: sa.Engine, name: str) -> None:
    fired: list[bool] = []

    @event.listens_for(db, "before_flush")
    def other_request_wins(*args: object) -> None:
        if not fired:
            fired.append(True)
            with engine.begin() as conn:
                conn.execute(sa.insert(DbtAuthor).values(name=name))


def test_get_or_create_returns_the_row_a_racing_request_made(
    server_url: str, plain_app: Callable[..., App], engine: sa.Engine
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: requests cannot race to insert")
    app = plain_app(server_url)
    with session(app) as db:
        db.scalar(sa.select(sa.func.count()).select_from(DbtAuthor))  # snapshot taken
        _other_request_inserts_first(db, engine, "Ada")
        author, created = db.get_or_create(DbtAuthor, name="Ada")
        assert (author.name, created) == ("Ada", False)

    async def in_async() -> tuple[str, bool]:
        async with async_session(app) as adb:
            await adb.scalar(sa.select(sa.func.count()).select_from(DbtAuthor))
            _other_request_inserts_first(adb.sync_session, engine, "Bob")  # type: ignore[arg-type]
            found, made = await adb.get_or_create(DbtAuthor, name="Bob")
            result = (found.name, made)
        await databases(app).dispose()
        return result

    assert asyncio.run(in_async()) == ("Bob", False)
    assert count(engine, "dbt_author") == 2  # each name once: the racing inserts were refused


def test_keyset_refuses_nullable_sort_values(client: TestClient, engine: sa.Engine) -> None:
    _add(engine, "a", "b", "c")  # born is NULL: the route sorts by it
    response = client.get("/keyset")
    assert response.status_code == 500
    assert "keyset(): a sort column is NULL" in response.text
