"""A showcase API covering every parameter, body and response kind oakling documents."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from typing import Annotated, Literal, TypedDict

import msgspec
import pydantic

from oakling import (
    App,
    Component,
    Cookie,
    Depends,
    Form,
    Header,
    JSONResponse,
    NotFound,
    PlainTextResponse,
    Query,
    RedirectResponse,
    Request,
    Response,
    Unauthorized,
    UploadFile,
    View,
)
from oakling.api import (
    Created,
    OpenAPI,
    ResponseDoc,
    api_conventions,
    bearer_auth,
    cookie_auth,
    created,
    doc,
)


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Dimensions(msgspec.Struct):
    """Size in centimetres."""

    width: Annotated[float, msgspec.Meta(gt=0)]
    height: Annotated[float, msgspec.Meta(gt=0)]


class ItemIn(msgspec.Struct):
    """An item to create."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50, examples=["pen"])]
    price: Annotated[float, msgspec.Meta(ge=0, description="In euros")]
    tags: list[str] = []
    colour: Colour = Colour.RED
    size: Dimensions | None = None


class ItemOut(ItemIn):
    id: int = 0


class ItemPage(msgspec.Struct):
    items: list[ItemOut]
    total: int
    limit: int
    offset: int


@dataclasses.dataclass
class Note:
    text: str
    pinned: bool = False


class Rating(TypedDict):
    stars: int
    comment: str


class Review(pydantic.BaseModel):
    """A review (a pydantic model)."""

    author: str = pydantic.Field(min_length=1)
    stars: int = pydantic.Field(ge=1, le=5)


ITEMS: dict[int, ItemOut] = {1: ItemOut(name="pen", price=1.5, id=1)}


def pagination(
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10,
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0,
) -> tuple[int, int]:
    return limit, offset


@doc(security=["bearer"], responses={401: "Missing or bad token"})
def current_user(
    authorization: Annotated[str | None, Header(description="Bearer token")] = None,
) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("Send Authorization: Bearer <token>")
    return "alice"


def create_app() -> App:  # noqa: C901 - one long showcase on purpose
    app = App(debug=True)

    shop = Component("shop", prefix="/v1")
    doc(tags=["items"], description="The shop's items")(shop)
    api_conventions(shop)

    @shop.get("/items")
    def list_items(
        page: Annotated[tuple[int, int], Depends(pagination)],
        q: Annotated[str | None, Query(description="Search in names")] = None,
        tag: list[str] | None = None,
        colour: Colour | None = None,
        sort: Literal["name", "price"] = "name",
        since: datetime.date | None = None,
        in_stock: bool = False,
    ) -> ItemPage:
        """List items.

        Filter by name, tags and colour; paginated with limit/offset.
        """
        limit, offset = page
        items = [i for i in ITEMS.values() if q is None or q in i.name]
        return ItemPage(items[offset : offset + limit], len(items), limit, offset)

    @shop.post("/items", status=201)
    @doc(
        request_examples={"pen": {"name": "pen", "price": 1.5}},
        responses={409: "An item with that name exists"},
    )
    def create_item(
        item: ItemIn, request: Request, user: Annotated[str, Depends(current_user)]
    ) -> Created[ItemOut]:
        """Create an item."""
        new = ItemOut(**msgspec.structs.asdict(item), id=len(ITEMS) + 1)
        ITEMS[new.id] = new
        return created(new, location=str(request.url_for("shop.get_item", id=new.id)))

    @shop.get("/items/{id:int}")
    @doc(response_examples={"pen": {"name": "pen", "price": 1.5, "id": 1}})
    def get_item(id: int) -> ItemOut:
        """Fetch one item."""
        if id not in ITEMS:
            raise NotFound(f"No item {id}")
        return ITEMS[id]

    @shop.delete("/items/{id:int}")
    def delete_item(id: int, user: Annotated[str, Depends(current_user)]) -> None:
        ITEMS.pop(id, None)

    @shop.get("/items/by-colour/{colour}")
    def by_colour(colour: Colour) -> list[ItemOut]:
        return [i for i in ITEMS.values() if i.colour == colour]

    @shop.get("/legacy/{id:int}")
    @doc(deprecated=True, summary="Old lookup", operation_id="legacyLookup")
    def legacy(id: int) -> ItemOut | None:
        return ITEMS.get(id)

    @shop.route("/notes/{note_id:uuid}")
    class NoteView(View):
        def get(self, note_id: uuid.UUID) -> Note:
            """Read a note."""
            return Note(text=str(note_id))

        def put(self, note_id: uuid.UUID, note: Note) -> Note:
            """Replace a note."""
            return note

    admin = Component("admin", prefix="/admin")
    doc(security=[{"session": []}], responses={401: "No session"})(admin)

    @admin.before_request
    def signed_in(request: Request) -> None:
        if "session" not in request.cookies:
            raise Unauthorized("Sign in first")

    @admin.post("/ratings")
    def rate(rating: Rating, session_id: Annotated[str | None, Cookie()] = None) -> Rating:
        return rating

    @admin.post("/reviews", status=201)
    def review(body: Review) -> Review:
        return body

    @admin.get("/hidden")
    @doc(include_in_schema=False)
    def hidden() -> dict[str, bool]:
        return {"hidden": True}

    shop.include(admin)

    @app.get("/")
    def index() -> str:
        """Home page."""
        return "<h1>Shop</h1>"

    @app.post("/upload")
    def upload(
        title: Annotated[str, Form(description="A caption")],
        file: UploadFile,
        extras: list[UploadFile] | None = None,
        count: Annotated[int, Form()] = 1,
    ) -> dict[str, str]:
        return {"title": title, "file": file.filename or ""}

    @app.post("/contact")
    def contact(
        email: Annotated[str, Form()], message: Annotated[str, Form()] = ""
    ) -> RedirectResponse:
        return RedirectResponse("/", 303)

    @app.get("/export.csv")
    @doc(responses={200: ResponseDoc("A CSV export", type=str, media_type="text/csv")})
    def export() -> Response:
        return Response("id,name\n1,pen\n", media_type="text/csv")

    @app.get("/health")
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/raw")
    def raw() -> JSONResponse:
        return JSONResponse({"raw": True})

    @app.get("/search/{term:path}")
    def search(
        term: str, x_client: Annotated[str | None, Header(alias="X-Client")] = None
    ) -> dict[str, str]:
        return {"term": term}

    app.include(shop)
    app.include(
        OpenAPI(
            title="Showcase shop",
            version="1.2.0",
            description="Every kind of parameter, body and response.",
            security_schemes={"bearer": bearer_auth(bearer_format="JWT"), "session": cookie_auth()},
            tags={"items": "Things for sale"},
        )
    )
    return app


app = create_app()
