"""oakling (WSGI): sync handlers on psycopg 3 (a connection per server thread), ``app.wsgi``."""

from __future__ import annotations

from tfb import (
    TEMPLATES,
    query_count,
    read_fortunes_sync,
    read_world_sync,
    read_worlds_sync,
    update_worlds_sync,
)

from oakling import App, PlainTextResponse, Request, Settings
from oakling.web.templating import Template, render

app = App(settings=Settings(secret_key="benchmark-only-not-secret", template_dirs=(TEMPLATES,)))


@app.get("/json")
def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/plaintext")
def plaintext() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


@app.get("/db")
def db() -> dict[str, int]:
    return read_world_sync()


# NOTE: `queries: str | None`: the rules turn bad values into 1, where `int` would give 422.
@app.get("/queries")
def queries(queries: str | None = None) -> list[dict[str, int]]:
    return read_worlds_sync(query_count(queries))


@app.get("/updates")
def updates(queries: str | None = None) -> list[dict[str, int]]:
    return update_worlds_sync(query_count(queries))


@app.get("/fortunes")
def fortunes(request: Request) -> Template:
    return render(request, "fortunes.html", fortunes=read_fortunes_sync())


wsgi = app.wsgi
