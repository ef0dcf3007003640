"""Litestar: typed handlers, an asyncpg pool made at start-up, the Jinja engine."""

from __future__ import annotations

from litestar import Litestar, MediaType, get
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.response import Template
from litestar.template.config import TemplateConfig

from tfb import (
    TEMPLATES, create_pool, query_count, read_fortunes, read_world, read_worlds, update_worlds,
)


@get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "Hello, World!"


@get("/db")
async def db(state: State) -> dict[str, int]:
    return await read_world(state.pool)


# NOTE: `queries: str | None`: the rules turn bad values into 1, where `int` would give 400.
@get("/queries")
async def queries(state: State, queries: str | None = None) -> list[dict[str, int]]:
    return await read_worlds(state.pool, query_count(queries))


@get("/updates")
async def updates(state: State, queries: str | None = None) -> list[dict[str, int]]:
    return await update_worlds(state.pool, query_count(queries))


@get("/fortunes", media_type=MediaType.HTML)
async def fortunes(state: State) -> Template:
    rows = await read_fortunes(state.pool)
    return Template(template_name="fortunes.html", context={"fortunes": rows})


async def open_pool(app: Litestar) -> None:
    app.state.pool = await create_pool()


async def close_pool(app: Litestar) -> None:
    await app.state.pool.close()


app = Litestar(
    [json_, plaintext, db, queries, updates, fortunes],
    on_startup=[open_pool],
    on_shutdown=[close_pool],
    template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
    openapi_config=None,
)
