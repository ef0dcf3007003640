"""The app the integration tests serve with real servers.

ASGI:  granian --interface asgi serverapp:app     uvicorn serverapp:app
WSGI:  granian --interface wsgi serverapp:app.wsgi
       gunicorn -k gthread serverapp:wsgi_app

Production settings (debug off, a secret key, two allowed hosts) so that the
real checks run, and small limits so that the tests can go over them cheaply.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import msgspec

from oakling import App, Form, PlainTextResponse, Settings
from oakling.http import EventSourceResponse, FileResponse, ServerSentEvent, StreamingResponse
from oakling.http.multipart import UploadFile
from oakling.http.websocket import WebSocket

MAX_BODY_SIZE = 1024
FILE_BYTES = bytes(range(256)) * 8  # 2048 bytes; the tests build the same
BIG_FILE_BYTES = bytes((n * 7 + n // 256) % 256 for n in range(200_000))  # several chunks
STREAM_PAUSE = 0.2  # seconds between streamed chunks

settings = Settings(
    secret_key="integration-tests-7c1f0b2e9d4a4f6c8b3e5a7d9c1e3f5a7b9d1f3e5a7c9e1b3d5f7a9c",
    allowed_hosts=("127.0.0.1", "localhost"),
    max_body_size=MAX_BODY_SIZE,
    max_upload_size=64 * 1024,
    spool_max_size=1024,
)
MARKERS = os.environ.get("SERVERAPP_MARKERS")  # a folder where shutdown leaves a trace


def _mark(event: str) -> None:
    if MARKERS:
        Path(MARKERS, event).write_text(str(os.getpid()))


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[dict[str, object]]:
    yield {"resource": "open"}
    _mark("lifespan-exit")


app = App(settings=settings, lifespan=lifespan)
app.state.startups = 0
wsgi_app = app.wsgi  # gunicorn needs a module-level name


@app.on_startup
def started() -> None:
    app.state.startups += 1


@app.on_shutdown
async def stopped() -> None:
    _mark("shutdown")


_files = tempfile.TemporaryDirectory(prefix="oakling-serverapp-")  # removed at exit
DATA_FILE = Path(_files.name) / "data.bin"
DATA_FILE.write_bytes(FILE_BYTES)
BIG_FILE = Path(_files.name) / "big.bin"
BIG_FILE.write_bytes(BIG_FILE_BYTES)

closed_streams: list[str] = []  # the endless streams whose generator was closed


class ItemIn(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(ge=0)]
    tags: list[str] = []


@app.get("/plain")
def plain() -> PlainTextResponse:
    return PlainTextResponse("hello, world")


@app.get("/lifespan")
def lifespan_state() -> dict[str, object]:
    return {"startups": app.state.startups, "resource": getattr(app.state, "resource", None)}


@app.get("/hello/{name}")
def hello(name: str) -> dict[str, str]:
    return {"name": name}


@app.get("/json")
async def json_data() -> dict[str, object]:
    return {"answer": 42, "items": [1, 2, 3], "text": "héllo"}


@app.get("/items/{item_id:int}")
def read_item(
    item_id: Annotated[int, msgspec.Meta(le=1000)],
    q: str | None = None,
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10,
    flags: list[bool] | None = None,
) -> dict[str, object]:
    return {"item_id": item_id, "q": q, "limit": limit, "flags": flags}


@app.post("/items", status=201)
def create_item(item: ItemIn) -> dict[str, object]:
    return {"name": item.name, "price": item.price, "tags": item.tags}


@app.post("/echo")
async def echo(item: ItemIn) -> ItemIn:
    return item


@app.get("/slash/")
def slash(q: str = "") -> dict[str, str]:
    return {"q": q}


@app.get("/stream/sync")
def stream_sync() -> StreamingResponse:
    def chunks() -> Iterator[str]:
        for number in range(3):
            if number:
                time.sleep(STREAM_PAUSE)
            yield f"sync chunk {number}\n"

    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/stream/async")
async def stream_async() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for number in range(3):
            if number:
                await asyncio.sleep(STREAM_PAUSE)
            yield f"async chunk {number}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/stream/endless/{tag}")
def stream_endless(tag: str) -> StreamingResponse:
    def chunks() -> Iterator[bytes]:
        try:
            while True:
                yield b"x" * 1024
                time.sleep(0.01)
        finally:
            closed_streams.append(tag)

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@app.get("/stream/closed")
def stream_closed() -> list[str]:
    return closed_streams


@app.get("/events")
async def events() -> EventSourceResponse:
    async def stream() -> AsyncIterator[object]:
        yield "plain text"
        yield {"n": 1}
        yield ServerSentEvent("two\nlines", event="multi", id="e2")
        yield ServerSentEvent("done", event="finished", id="e3", retry=5000)

    return EventSourceResponse(stream(), ping=None)


@app.get("/events/ping")
async def events_ping() -> EventSourceResponse:
    async def stream() -> AsyncIterator[object]:
        yield "first"
        await asyncio.sleep(0.35)
        yield "second"

    return EventSourceResponse(stream(), ping=0.1)


@app.get("/file")
def file() -> FileResponse:
    return FileResponse(DATA_FILE, media_type="application/octet-stream")


@app.get("/file/big")
async def big_file() -> FileResponse:
    return FileResponse(BIG_FILE, filename="große datei.bin")


@app.post("/upload")
def upload(title: Annotated[str, Form()], document: UploadFile) -> dict[str, object]:
    content = document.read()
    return {
        "title": title,
        "filename": document.filename,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": hashlib.sha256(content).hexdigest(),
    }


@app.get("/boom")
def boom() -> str:
    raise RuntimeError("secret internal detail 0xDEADBEEF")


@app.get("/aboom")
async def aboom() -> str:
    raise RuntimeError("secret internal detail 0xDEADBEEF")


class Move(msgspec.Struct):
    x: int
    y: int


@app.websocket("/ws")
async def websocket_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():  # stops when the client disconnects
        await websocket.send_text(f"echo: {text}")


@app.websocket("/ws/json")
async def websocket_json(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:  # ends when the client disconnects; a bad message closes with 1007
        move = await websocket.receive_json(Move)
        await websocket.send_json({"x": move.x * 2, "y": move.y * 2})
