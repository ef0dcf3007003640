"""A sync-only app: `oakling serve` picks WSGI for it."""

from __future__ import annotations

from oakling import App

app = App()


@app.get("/")
def index() -> str:
    return "<h1>Hello</h1>"


@app.get("/api/items/{item_id}", name="item")
def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@app.post("/api/items", status=201)
def create() -> dict[str, bool]:
    return {"created": True}


@app.get("/debug")
def debug() -> dict[str, bool]:
    return {"debug": app.debug, "access_log": app.settings.access_log}
