"""FastAPI: typed query parameter, a lifespan-held asyncpg pool, Jinja2Templates."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates

from tfb import (
    TEMPLATES, create_pool, query_count, read_fortunes, read_world, read_worlds, update_worlds,
)

templates = Jinja2Templates(directory=TEMPLATES)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    pool = await create_pool()
    yield {"pool": pool}
    await pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/db")
async def db(request: Request) -> dict[str, int]:
    return await read_world(request.state.pool)


# NOTE: `queries: str | None`: the rules turn bad values into 1, where `int` would give 422.
@app.get("/queries")
async def queries(request: Request, queries: str | None = None) -> list[dict[str, int]]:
    return await read_worlds(request.state.pool, query_count(queries))


@app.get("/updates")
async def updates(request: Request, queries: str | None = None) -> list[dict[str, int]]:
    return await update_worlds(request.state.pool, query_count(queries))


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes(request: Request):
    rows = await read_fortunes(request.state.pool)
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": rows})
