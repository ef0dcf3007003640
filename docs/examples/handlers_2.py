import dataclasses
import math
from typing import Annotated

import msgspec

from oakling import App, Body, Form
from oakling.http.multipart import UploadFile

app = App()


class Order(msgspec.Struct):
    product: str
    quantity: Annotated[int, msgspec.Meta(ge=1)] = 1


@dataclasses.dataclass
class Point:
    x: float
    y: float


@app.post("/orders", status=201)
def create_order(order: Order) -> Order:  # a Struct: the body (JSON or a form)
    return order


@app.post("/distance")
def distance(point: Point) -> float:  # dataclasses, TypedDicts, pydantic models too
    return math.hypot(point.x, point.y)


@app.post("/scores")
def scores(values: Annotated[dict[str, int], Body()]) -> int:  # any type, marked Body()
    return sum(values.values())


@app.post("/login")
def login(username: Annotated[str, Form()], remember: Annotated[bool, Form()] = False) -> str:
    return f"{username} {'(remembered)' if remember else ''}".strip()


@app.post("/upload")
def upload(
    title: Annotated[str, Form()],
    document: UploadFile,  # one file (required)
    extras: list[UploadFile] | None = None,  # several files under one name (optional)
) -> dict[str, object]:
    return {
        "title": title,
        "filename": document.filename,  # made safe: no directories, no control chars
        "size": document.size,
        "first_bytes": document.read(5).decode(),
        "extras": [f.filename for f in extras or []],
    }
