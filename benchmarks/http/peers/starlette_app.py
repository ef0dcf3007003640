"""Starlette: Routes, a lifespan-held asyncpg pool, Jinja2Templates, JSONResponse."""

from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from tfb import (
    TEMPLATES, create_pool, query_count, read_fortunes, read_world, read_worlds, update_worlds,
)

templates = Jinja2Templates(directory=TEMPLATES)


async def json_(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def db(request: Request) -> JSONResponse:
    return JSONResponse(await read_world(request.state.pool))


async def queries(request: Request) -> JSONResponse:
    count = query_count(request.query_params.get("queries"))
    return JSONResponse(await read_worlds(request.state.pool, count))


async def updates(request: Request) -> JSONResponse:
    count = query_count(request.query_params.get("queries"))
    return JSONResponse(await update_worlds(request.state.pool, count))


async def fortunes(request: Request):
    rows = await read_fortunes(request.state.pool)
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": rows})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette):
    pool = await create_pool()
    yield {"pool": pool}
    await pool.close()


app = Starlette(
    routes=[
        Route("/json", json_),
        Route("/plaintext", plaintext),
        Route("/db", db),
        Route("/queries", queries),
        Route("/updates", updates),
        Route("/fortunes", fortunes),
    ],
    lifespan=lifespan,
)
