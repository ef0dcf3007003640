"""Falcon (ASGI): resource classes with async responders; msgspec validates the POST body."""

from __future__ import annotations

import falcon
import falcon.asgi
import msgspec


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


class PlainText:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class Json:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"message": "Hello, World!"}


class User:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, id: int) -> None:
        resp.media = {"id": id, "name": f"user{id}"}


class Query:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        limit = req.get_param_as_int("limit", default=10)
        offset = req.get_param_as_int("offset", default=0)
        resp.media = {"limit": limit, "offset": offset}


class Items:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        try:
            item = msgspec.json.decode(await req.stream.read(), type=Item)
        except msgspec.ValidationError as exc:
            raise falcon.HTTPUnprocessableEntity(description=str(exc)) from exc
        except msgspec.DecodeError as exc:
            raise falcon.HTTPBadRequest(description="invalid JSON") from exc
        resp.status = falcon.HTTP_201
        resp.media = {"id": 1, **msgspec.structs.asdict(item)}


app = falcon.asgi.App()
app.add_route("/plaintext", PlainText())
app.add_route("/json", Json())
app.add_route("/users/{id:int}", User())
app.add_route("/query", Query())
app.add_route("/items", Items())
