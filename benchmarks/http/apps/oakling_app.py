"""oakling (ASGI): async handlers on a raw asyncpg pool made in the app's lifespan.

The pool is held on ``app.state`` (the lifespan's returned dict); templates go through
``oakling.web.templating`` (Jinja2).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from tfb import (
    TEMPLATES,
    create_pool,
    query_count,
    read_fortunes,
    read_world,
    read_worlds,
    update_worlds,
)

from oakling import App, PlainTextResponse, Request, Settings
from oakling.web.templating import Template, render

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[dict[str, object]]:
    pool = await create_pool()
    yield {"pool": pool}
    await pool.close()


app = App(
    settings=Settings(secret_key="benchmark-only-not-secret", template_dirs=(TEMPLATES,)),
    lifespan=lifespan,
)
state = app.state


@app.get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


@app.get("/db")
async def db() -> dict[str, int]:
    return await read_world(state.pool)


# NOTE: `queries: str | None`: the rules turn bad values into 1, where `int` would give 422.
@app.get("/queries")
async def queries(queries: str | None = None) -> list[dict[str, int]]:
    return await read_worlds(state.pool, query_count(queries))


@app.get("/updates")
async def updates(queries: str | None = None) -> list[dict[str, int]]:
    return await update_worlds(state.pool, query_count(queries))


@app.get("/fortunes")
async def fortunes(request: Request) -> Template:
    return render(request, "fortunes.html", fortunes=await read_fortunes(state.pool))
