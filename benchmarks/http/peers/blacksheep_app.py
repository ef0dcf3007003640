"""BlackSheep: typed query binding, an asyncpg pool made on start, its Jinja2 renderer."""

from __future__ import annotations

import os

# NOTE: BlackSheep appends this extension to view names (".jinja" by default).
os.environ.setdefault("APP_JINJA_EXTENSION", ".html")

from blacksheep import Application, Response, json, text  # noqa: E402
from blacksheep.server.rendering.jinja2 import JinjaRenderer  # noqa: E402
from blacksheep.server.responses import view  # noqa: E402
from blacksheep.settings.html import html_settings  # noqa: E402
from jinja2 import FileSystemLoader  # noqa: E402

from tfb import (  # noqa: E402
    TEMPLATES, create_pool, query_count, read_fortunes, read_world, read_worlds, update_worlds,
)

html_settings.use(JinjaRenderer(loader=FileSystemLoader(TEMPLATES)))
app = Application()
get = app.router.get
pool = None


async def open_pool(application: Application) -> None:
    global pool
    pool = await create_pool()


async def close_pool(application: Application) -> None:
    await pool.close()


app.on_start += open_pool
app.on_stop += close_pool


@get("/json")
async def json_() -> Response:
    return json({"message": "Hello, World!"})


@get("/plaintext")
async def plaintext() -> Response:
    return text("Hello, World!")


@get("/db")
async def db() -> Response:
    return json(await read_world(pool))


# NOTE: `queries: str | None`: the rules turn bad values into 1, where `int` would give 400.
@get("/queries")
async def queries(queries: str | None = None) -> Response:
    return json(await read_worlds(pool, query_count(queries)))


@get("/updates")
async def updates(queries: str | None = None) -> Response:
    return json(await update_worlds(pool, query_count(queries)))


@get("/fortunes")
async def fortunes() -> Response:
    return view("fortunes", fortunes=await read_fortunes(pool))
