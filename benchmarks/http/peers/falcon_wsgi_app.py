"""Falcon (WSGI): sync resource classes, psycopg 3 (a connection per server thread), Jinja2."""

from __future__ import annotations

import falcon
import jinja2

from tfb import (
    TEMPLATES, query_count, read_fortunes_sync, read_world_sync, read_worlds_sync,
    update_worlds_sync,
)

# NOTE: Falcon has no template engine of its own; Jinja2 is what its docs suggest.
fortunes_template = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True
).get_template("fortunes.html")


class Json:
    def on_get(self, req, resp) -> None:
        resp.media = {"message": "Hello, World!"}


class PlainText:
    def on_get(self, req, resp) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class Db:
    def on_get(self, req, resp) -> None:
        resp.media = read_world_sync()


class Queries:
    def on_get(self, req, resp) -> None:
        resp.media = read_worlds_sync(query_count(req.get_param("queries")))


class Updates:
    def on_get(self, req, resp) -> None:
        resp.media = update_worlds_sync(query_count(req.get_param("queries")))


class Fortunes:
    def on_get(self, req, resp) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = fortunes_template.render(fortunes=read_fortunes_sync())


app = falcon.App()
app.add_route("/json", Json())
app.add_route("/plaintext", PlainText())
app.add_route("/db", Db())
app.add_route("/queries", Queries())
app.add_route("/updates", Updates())
app.add_route("/fortunes", Fortunes())
