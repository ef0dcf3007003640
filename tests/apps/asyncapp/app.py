"""An app with an async handler and a websocket route: served over ASGI."""

from __future__ import annotations

from oakling import App
from oakling.http.websocket import WebSocket

app = App()


@app.get("/")
async def index() -> dict[str, str]:
    return {"hello": "async"}


@app.get("/sync")
def sync() -> str:
    return "sync"


@app.websocket("/ws", name="echo")
async def echo(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text(await ws.receive_text())
    await ws.close()
