"""The oakling showcase: a small inventory with an HTML page, a JSON API and a websocket.

Run it from this folder with ``oakling run`` (debug on, http://127.0.0.1:8000/), or
serve it with any ASGI server (``uvicorn app:app``) or WSGI server (``gunicorn app:wsgi``;
no websocket there). Nothing else is needed: the items live in memory, the documents and
users in a SQLite file (``db.sqlite3``, migrated when the app starts).

What it shows:

* ``GET /``: an HTML page built with ``request.url_for``; its form posts to ``POST /items``.
* ``/api/items``: a ``Component`` included under ``/api`` with typed query parameters, a
  dependency (``Depends``), a validated ``msgspec.Struct`` body (422 when it is wrong),
  a class-based view for one item and an error handler that turns ``KeyError`` into 404.
* ``/ws/echo``: a websocket that sends back what it receives (ASGI only).
* ``/documents`` (``documents.py``): database-backed pages with a layout (``templates/``),
  static files (``static/``), a validated form, flash messages, sign-in and sign-up
  (``oakling.auth`` under ``/auth``), staff-only deletion and a paginated JSON endpoint.
  ``oakling createsuperuser`` makes a staff account.
* ``/openapi.json`` and ``/docs``: the items API's OpenAPI 3.1 document and Swagger UI.
* ``debug`` comes from the settings (``OAKLING_DEBUG``, set by ``oakling run``).
"""

from __future__ import annotations

import html
import itertools
from pathlib import Path
from typing import Annotated

import msgspec
from documents import documents

from oakling import App, Component, Depends, Request, View, redirect
from oakling.api import Created, OpenAPI, created
from oakling.auth import Auth
from oakling.db.migrations import migrate
from oakling.errors import error_response

# NOTE: handler annotations are read at run time (they say where each argument comes
# from), so the types they name are imported for real, not under TYPE_CHECKING.
from oakling.http.response import RedirectResponse, Response  # noqa: TC001
from oakling.http.websocket import WebSocket  # noqa: TC001

HERE = Path(__file__).resolve().parent

# -- the data ----------------------------------------------------------------------------


class ItemIn(msgspec.Struct, forbid_unknown_fields=True):
    """What a client sends to create or replace an item."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    price: Annotated[float, msgspec.Meta(gt=0)]
    tags: list[str] = []


class Item(msgspec.Struct):
    """A stored item, as the API returns it."""

    id: int
    name: str
    price: float
    tags: list[str]


class Inventory:
    """The items, in memory; one per app (``app.state.inventory``)."""

    def __init__(self) -> None:
        self._items: dict[int, Item] = {}
        self._ids = itertools.count(1)

    def add(self, data: ItemIn) -> Item:
        """Store a new item and return it with its id."""
        item = Item(next(self._ids), data.name, data.price, list(data.tags))
        self._items[item.id] = item
        return item

    def get(self, item_id: int) -> Item:
        """Return item ``item_id``; ``KeyError`` if there is none."""
        return self._items[item_id]

    def replace(self, item_id: int, data: ItemIn) -> Item:
        """Replace item ``item_id``; ``KeyError`` if there is none."""
        self.get(item_id)
        item = Item(item_id, data.name, data.price, list(data.tags))
        self._items[item_id] = item
        return item

    def delete(self, item_id: int) -> None:
        """Delete item ``item_id``; ``KeyError`` if there is none."""
        del self._items[item_id]

    def search(self, text: str | None, limit: int, offset: int) -> list[Item]:
        """Return the items whose name contains ``text``, one page of them."""
        found = [i for i in self._items.values() if not text or text.lower() in i.name.lower()]
        return found[offset : offset + limit]


# -- dependencies ------------------------------------------------------------------------


def inventory(request: Request) -> Inventory:
    """The app's inventory (a dependency: ``Annotated[Inventory, Depends(inventory)]``)."""
    store: Inventory = request.app.state.inventory
    return store


class Page(msgspec.Struct):
    """Which slice of a listing to return."""

    limit: int
    offset: int


def pagination(
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20,
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0,
) -> Page:
    """Read ``?limit=&offset=`` once for every listing that needs them."""
    return Page(limit, offset)


Store = Annotated[Inventory, Depends(inventory)]

# -- the app and its JSON API (a component) ---------------------------------------------

app = App()  # settings, debug included, from OAKLING_* variables and .env
app.state.inventory = Inventory()
wsgi = app.wsgi  # for WSGI servers: gunicorn app:wsgi
app.static()  # static/ next to this file, at /static
app.include(Auth(signup=True))
app.include(documents)


@app.on_startup
def apply_migrations() -> None:
    """Bring the database up to date (a showcase convenience: projects run `oakling db migrate`)."""
    migrate(app, root=HERE)


api = Component("api", prefix="/api")


@api.get("/items")
def list_items(
    store: Store, page: Annotated[Page, Depends(pagination)], q: str | None = None
) -> list[Item]:
    """List the items, optionally only those whose name contains ``q``."""
    return store.search(q, page.limit, page.offset)


@api.post("/items")
def create_item(data: ItemIn, store: Store, request: Request) -> Created[Item]:
    """Create an item from a JSON body; 201 with its URL in ``Location``."""
    item = store.add(data)
    return created(item, request.url_for("api.item", item_id=item.id))


@api.route("/items/{item_id:int}", name="item")
class ItemView(View):
    """One item: read, replace, delete."""

    def get(self, item_id: int, store: Store) -> Item:
        """Return the item."""
        return store.get(item_id)

    def put(self, item_id: int, data: ItemIn, store: Store) -> Item:
        """Replace the item with the body."""
        return store.replace(item_id, data)

    def delete(self, item_id: int, store: Store) -> None:
        """Delete the item (204)."""
        store.delete(item_id)


@api.errorhandler(KeyError)
def no_such_item(request: Request, exc: KeyError) -> Response:
    """Answer 404 (problem details, as the API documents) when there is no such item."""
    return error_response(
        404, f"No item with id {exc.args[0]}", accept=request.header("accept"), request=request
    )


app.include(api)
app.include(OpenAPI("oakling showcase", components=[api]))  # /openapi.json and /docs

# -- the HTML side and the websocket -----------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oakling showcase</title></head>
<body>
<h1>oakling showcase</h1>
<p>Debug mode is {debug}.</p>
<ul>{items}</ul>
<form method="post" action="{create}">
  <input name="name" placeholder="name" required> <input name="price" placeholder="price">
  <button>Add</button>
</form>
<p>API: <a href="{listing}">{listing}</a>; websocket echo at <code>{echo}</code>.</p>
<p><a href="{documents}">Documents</a> (database, templates, forms, sign-in).</p>
</body></html>
"""


@app.get("/")
def home(request: Request, store: Store) -> str:
    """The home page: the items and a form to add one (a ``str`` is sent as HTML)."""
    items = "".join(
        f'<li><a href="{request.url_for("api.item", item_id=item.id)}">'
        f"{html.escape(item.name)}</a>: {item.price:.2f}</li>"
        for item in store.search(None, 100, 0)
    )
    return _PAGE.format(
        debug="on" if request.app.debug else "off",
        items=items or "<li>No items yet.</li>",
        create=app.url_for("add_item"),
        listing=request.url_for("api.list_items"),
        echo=request.url_for("echo").replace("http", "ws", 1),
        documents=request.url_for("documents.document_list"),
    )


@app.post("/items")
def add_item(data: ItemIn, store: Store) -> RedirectResponse:
    """Create an item from the home page's form, then go back there (303 See Other)."""
    store.add(data)
    return redirect(app.url_for("home"), 303)


@app.websocket("/ws/echo")
async def echo(websocket: WebSocket) -> None:
    """Send every text message back until the client closes (ASGI only)."""
    await websocket.accept()
    async for message in websocket.iter_text():
        await websocket.send_text(message)
