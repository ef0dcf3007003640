"""A hand-written WSGI callable on psycopg 3: the WSGI ceiling."""

from __future__ import annotations

from html import escape

import msgspec

from tfb import (
    query_count, read_fortunes_sync, read_world_sync, read_worlds_sync, update_worlds_sync,
)

_encode = msgspec.json.encode
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"


def _count(environ) -> int:
    for pair in environ.get("QUERY_STRING", "").split("&"):
        key, _, value = pair.partition("=")
        if key == "queries":
            return query_count(value)
    return 1


def _fortunes_page() -> bytes:
    return "".join([
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
        "<tr><th>id</th><th>message</th></tr>",
        *[f"<tr><td>{id_}</td><td>{escape(message)}</td></tr>"
          for id_, message in read_fortunes_sync()],
        "</table></body></html>",
    ]).encode()


ROUTES = {
    "/json": (JSON, lambda environ: _encode({"message": "Hello, World!"})),
    "/plaintext": (TEXT, lambda environ: b"Hello, World!"),
    "/db": (JSON, lambda environ: _encode(read_world_sync())),
    "/queries": (JSON, lambda environ: _encode(read_worlds_sync(_count(environ)))),
    "/updates": (JSON, lambda environ: _encode(update_worlds_sync(_count(environ)))),
    "/fortunes": (HTML, lambda environ: _fortunes_page()),
}


def app(environ, start_response):
    route = ROUTES.get(environ["PATH_INFO"])
    if route is None:
        start_response("404 Not Found", [("Content-Type", TEXT), ("Content-Length", "9")])
        return [b"Not Found"]
    content_type, handler = route
    body = handler(environ)
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
