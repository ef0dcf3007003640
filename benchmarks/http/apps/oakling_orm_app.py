"""oakling (ASGI) on its own data layer: models and an injected ``AsyncSession``.

The session comes from ``oakling.db`` (SQLAlchemy 2 on asyncpg, the pool sized from
the settings, committed before the response); templates go through
``oakling.web.templating`` (Jinja2).
"""

from __future__ import annotations

from operator import attrgetter

from sqlalchemy import select
from tfb import ADDITIONAL_FORTUNE, DSN, POOL_SIZE, ROWS, TEMPLATES, query_count, random_id
from tfb import random_ids as _random_ids

from oakling import App, PlainTextResponse, Request, Settings
from oakling.db import AsyncSession  # noqa: TC001  # read by injection
from oakling.web.templating import Template, render

from .orm_models import Fortune, World

by_message = attrgetter("message")

app = App(
    settings=Settings(
        secret_key="benchmark-only-not-secret",
        template_dirs=(TEMPLATES,),
        database_url=DSN,
        db_pool_size=POOL_SIZE,
        db_max_overflow=0,
    )
)


@app.get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


@app.get("/db")
async def single(db: AsyncSession) -> dict[str, int]:
    world = await db.get_one(World, random_id(1, ROWS))
    return {"id": world.id, "randomNumber": world.randomnumber}


# NOTE: `queries: str | None`: the rules turn bad values into 1, where `int` would give 422.
@app.get("/queries")
async def queries(db: AsyncSession, queries: str | None = None) -> list[dict[str, int]]:
    worlds = [await db.get_one(World, i) for i in _random_ids(query_count(queries))]
    return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]


@app.get("/updates")
async def updates(db: AsyncSession, queries: str | None = None) -> list[dict[str, int]]:
    worlds = [await db.get_one(World, i) for i in _random_ids(query_count(queries))]
    for world in worlds:
        world.randomnumber = random_id(1, ROWS)
    # NOTE: the injected session commits (one batched UPDATE) before the response.
    return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]


@app.get("/fortunes")
async def fortunes(request: Request, db: AsyncSession) -> Template:
    rows = list(await db.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
    rows.sort(key=by_message)
    return render(request, "fortunes.html", fortunes=rows)
