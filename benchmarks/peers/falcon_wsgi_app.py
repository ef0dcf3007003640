"""Falcon (WSGI): resource classes with sync responders; msgspec validates the POST body."""

from __future__ import annotations

import falcon
import msgspec


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


class PlainText:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class Json:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Hello, World!"}


class User:
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        resp.media = {"id": id, "name": f"user{id}"}


class Query:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit = req.get_param_as_int("limit", default=10)
        offset = req.get_param_as_int("offset", default=0)
        resp.media = {"limit": limit, "offset": offset}


class Items:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            item = msgspec.json.decode(req.bounded_stream.read(), type=Item)
        except msgspec.ValidationError as exc:
            raise falcon.HTTPUnprocessableEntity(description=str(exc)) from exc
        except msgspec.DecodeError as exc:
            raise falcon.HTTPBadRequest(description="invalid JSON") from exc
        resp.status = falcon.HTTP_201
        resp.media = {"id": 1, **msgspec.structs.asdict(item)}


app = falcon.App()
app.add_route("/plaintext", PlainText())
app.add_route("/json", Json())
app.add_route("/users/{id:int}", User())
app.add_route("/query", Query())
app.add_route("/items", Items())
