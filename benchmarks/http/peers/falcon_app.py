"""Falcon (ASGI): async resource classes, an asyncpg pool opened by a startup middleware."""

from __future__ import annotations

import falcon
import falcon.asgi
import jinja2

from tfb import (
    TEMPLATES, create_pool, query_count, read_fortunes, read_world, read_worlds, update_worlds,
)

# NOTE: Falcon has no template engine of its own; Jinja2 is what its docs suggest.
fortunes_template = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True
).get_template("fortunes.html")


class Pool:
    pool = None

    async def process_startup(self, scope, event) -> None:
        Pool.pool = await create_pool()

    async def process_shutdown(self, scope, event) -> None:
        await Pool.pool.close()


class Json:
    async def on_get(self, req, resp) -> None:
        resp.media = {"message": "Hello, World!"}


class PlainText:
    async def on_get(self, req, resp) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class Db:
    async def on_get(self, req, resp) -> None:
        resp.media = await read_world(Pool.pool)


class Queries:
    async def on_get(self, req, resp) -> None:
        resp.media = await read_worlds(Pool.pool, query_count(req.get_param("queries")))


class Updates:
    async def on_get(self, req, resp) -> None:
        resp.media = await update_worlds(Pool.pool, query_count(req.get_param("queries")))


class Fortunes:
    async def on_get(self, req, resp) -> None:
        rows = await read_fortunes(Pool.pool)
        resp.content_type = falcon.MEDIA_HTML
        resp.text = fortunes_template.render(fortunes=rows)


app = falcon.asgi.App(middleware=[Pool()])
app.add_route("/json", Json())
app.add_route("/plaintext", PlainText())
app.add_route("/db", Db())
app.add_route("/queries", Queries())
app.add_route("/updates", Updates())
app.add_route("/fortunes", Fortunes())
