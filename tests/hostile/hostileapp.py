"""The app the hostile-input catalogue attacks, served by granian (ASGI) and gunicorn (WSGI).

Production settings (debug off, a secret key, allowed hosts) so the real checks
run, and small limits so that the tests can go over them cheaply. Every write
is recorded in ``STORED``; ``GET /_stored`` tells how many there were, so a test
can check that a refused request stored nothing.
"""

from __future__ import annotations

import datetime
import enum
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from oakling import App, Cookie, Form, PlainTextResponse, Settings, redirect
from oakling.http import FileResponse, StreamingResponse
from oakling.http.multipart import UploadFile
from oakling.http.response import Response
from oakling.http.websocket import WebSocket

MAX_BODY_SIZE = 4096
MAX_UPLOAD_SIZE = 64 * 1024

settings = Settings(
    secret_key="hostile-tests-0b7e3c9a1d5f4e2a8c6b0d9e7f5a3c1b9d7e5f3a1c9b7d5e3f1a9c7b5d3e1f",
    allowed_hosts=("127.0.0.1", "localhost"),
    max_body_size=MAX_BODY_SIZE,
    max_upload_size=MAX_UPLOAD_SIZE,
    max_form_fields=50,
    max_multipart_parts=50,
    max_field_size=1024,
    max_part_header_size=1024,
    spool_max_size=1024,
    max_json_depth=32,
)

app = App(settings=settings)
wsgi_app = app.wsgi  # gunicorn needs a module-level name

STORED: list[object] = []
ERRORS_SEEN: list[str] = []

_root = tempfile.TemporaryDirectory(prefix="oakling-hostile-")  # removed at exit
ROOT = Path(_root.name)
PUBLIC = ROOT / "public"
PUBLIC.mkdir()
(PUBLIC / "hello.txt").write_text("hello, file\n")
(ROOT / "secret.txt").write_text("TOP SECRET\n")
(PUBLIC / ".hidden").write_text("dotfile\n")
(PUBLIC / "escape.txt").symlink_to(ROOT / "secret.txt")  # a symlink out of the folder
(PUBLIC / "sub").mkdir()
(PUBLIC / "sub" / "inner.txt").write_text("inner\n")


app.static("/static", PUBLIC)


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Point(msgspec.Struct, forbid_unknown_fields=True):
    x: int
    y: int


class Record(msgspec.Struct, forbid_unknown_fields=True):
    """One field of each type a handler may declare."""

    text: str
    count: int
    price: float
    active: bool
    tags: list[str]
    scores: dict[str, int]
    ident: uuid.UUID
    when: datetime.datetime
    day: datetime.date
    kind: Literal["a", "b"]
    colour: Colour
    point: Point
    maybe: int | None = None
    limited: Annotated[int, msgspec.Meta(ge=0, le=10)] = 0


@app.get("/plain")
def plain() -> PlainTextResponse:
    return PlainTextResponse("hello, world")


@app.get("/_stored")
def stored() -> dict[str, int]:
    return {"count": len(STORED)}


@app.get("/_temp_files")
def temp_files() -> dict[str, int]:
    """How many files under the temp folder this worker holds open (spooled uploads)."""
    folder = tempfile.gettempdir()
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(folder) and not target.startswith(str(ROOT)):
            count += 1
    return {"count": count}


@app.post("/records", status=201)
def create_record(record: Record) -> dict[str, bool]:
    STORED.append(record)
    return {"ok": True}


@app.post("/json", status=201)
async def any_json(body: dict[str, object]) -> dict[str, int]:
    STORED.append(body)
    return {"keys": len(body)}


@app.post("/form", status=201)
def form(name: Annotated[str, Form()], note: Annotated[str, Form()] = "") -> dict[str, str]:
    STORED.append(name)
    return {"name": name}


@app.post("/upload", status=201)
def upload(title: Annotated[str, Form()], document: UploadFile) -> dict[str, object]:
    STORED.append(title)
    return {"title": title, "filename": document.filename, "size": document.size}


@app.get("/search")
def search(q: str = "", page: int = 1) -> dict[str, object]:
    return {"q": q, "page": page}


@app.get("/cookie")
def cookie(session: Annotated[str | None, Cookie()] = None) -> dict[str, object]:
    return {"session": session}


@app.get("/hello/{name}")
def hello(name: str) -> dict[str, str]:
    return {"name": name}


@app.get("/dir/{name}/")
def directory(name: str) -> dict[str, str]:
    return {"name": name}


@app.get("/{page}/")
def page(page: str) -> dict[str, str]:
    return {"page": page}


@app.get("/files/{name}")
def files(name: str) -> FileResponse:
    # NOTE: the str converter stops at "/", so only one segment reaches the handler.
    return FileResponse(PUBLIC / name, media_type="text/plain")


@app.get("/download")
def download(name: str) -> FileResponse:
    # NOTE: a careless handler joining a query parameter to a folder; the framework
    # must at least never answer 500 for what the client put in it.
    return FileResponse(os.path.join(PUBLIC, name), media_type="text/plain")


@app.get("/login")
def login(next: str = "/") -> Response:
    return redirect(next)


@app.post("/delete", status=200)
def delete() -> dict[str, str]:
    STORED.append("deleted")
    return {"deleted": "yes"}


@app.get("/method")
def method_get() -> dict[str, str]:
    return {"method": "GET"}


@app.get("/stream/broken")
def stream_broken() -> StreamingResponse:
    def chunks() -> Iterator[bytes]:
        yield b"first chunk\n"
        raise RuntimeError("broken stream on purpose")

    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/stream/abroken")
async def stream_abroken() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first chunk\n"
        raise RuntimeError("broken stream on purpose")

    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/stream/long")
def stream_long() -> StreamingResponse:
    def chunks() -> Iterator[bytes]:
        for _ in range(2000):
            yield b"y" * 4096

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@app.websocket("/ws/echo")
async def websocket_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(f"echo: {text}")


@app.websocket("/ws/json")
async def websocket_json(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        point = await websocket.receive_json(Point)
        await websocket.send_json({"x": point.x, "y": point.y})
