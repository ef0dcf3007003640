"""Flask: view functions, psycopg 3 (a connection per server thread), render_template."""

from __future__ import annotations

from flask import Flask, render_template, request

from tfb import (
    TEMPLATES, query_count, read_fortunes_sync, read_world_sync, read_worlds_sync,
    update_worlds_sync,
)

app = Flask(__name__, template_folder=TEMPLATES)


@app.get("/json")
def json_():
    return {"message": "Hello, World!"}


@app.get("/plaintext")
def plaintext():
    return "Hello, World!", {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/db")
def db():
    return read_world_sync()


@app.get("/queries")
def queries():
    return read_worlds_sync(query_count(request.args.get("queries")))


@app.get("/updates")
def updates():
    return update_worlds_sync(query_count(request.args.get("queries")))


@app.get("/fortunes")
def fortunes():
    return render_template("fortunes.html", fortunes=read_fortunes_sync())
