"""Starlette: plain routes and async endpoints; msgspec validates the POST body."""

from __future__ import annotations

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


async def plaintext(request: Request) -> Response:
    return PlainTextResponse("Hello, World!")


async def json_(request: Request) -> Response:
    return JSONResponse({"message": "Hello, World!"})


async def user(request: Request) -> Response:
    user_id: int = request.path_params["id"]
    return JSONResponse({"id": user_id, "name": f"user{user_id}"})


async def query(request: Request) -> Response:
    try:
        limit = int(request.query_params.get("limit", 10))
        offset = int(request.query_params.get("offset", 0))
    except ValueError:
        return JSONResponse({"detail": "invalid query"}, status_code=422)
    return JSONResponse({"limit": limit, "offset": offset})


async def create(request: Request) -> Response:
    try:
        item = msgspec.json.decode(await request.body(), type=Item)
    except msgspec.ValidationError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    except msgspec.DecodeError:
        return JSONResponse({"detail": "invalid JSON"}, status_code=400)
    return JSONResponse({"id": 1, **msgspec.structs.asdict(item)}, status_code=201)


app = Starlette(
    routes=[
        Route("/plaintext", plaintext),
        Route("/json", json_),
        Route("/users/{id:int}", user),
        Route("/query", query),
        Route("/items", create, methods=["POST"]),
    ]
)
