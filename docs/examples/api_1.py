from typing import Annotated

import msgspec

from oakling import App, Component, Depends, Header, NotFound, Request, Unauthorized
from oakling.api import Created, OpenAPI, api_conventions, bearer_auth, created, doc


class BookIn(msgspec.Struct):
    """A book to add to the catalogue."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200, examples=["Dune"])]
    year: Annotated[int, msgspec.Meta(ge=1450, le=2100)]


class Book(BookIn):
    id: int


class Page(msgspec.Struct):
    items: list[Book]
    total: int


BOOKS: dict[int, Book] = {1: Book(title="Dune", year=1965, id=1)}


@doc(security=["bearer"], responses={401: "No or bad token"})
def editor(authorization: Annotated[str | None, Header()] = None) -> str:
    if authorization != "Bearer let-me-edit":
        raise Unauthorized("Send Authorization: Bearer <token>")
    return "editor"


v1 = Component("books", prefix="/v1")
api_conventions(v1)  # 406 for an Accept that refuses JSON; errors always problem+json


@v1.get("/books")
def list_books(
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20,
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0,
) -> Page:
    """List the books.

    Paginated with `limit` and `offset`.
    """
    books = list(BOOKS.values())
    return Page(items=books[offset : offset + limit], total=len(books))


@v1.get("/books/{id:int}")
@doc(responses={404: "No such book"})
def get_book(id: int) -> Book:
    """Fetch one book."""
    if id not in BOOKS:
        raise NotFound(f"No book {id}")
    return BOOKS[id]


@v1.post("/books")
def add_book(
    book: BookIn, request: Request, user: Annotated[str, Depends(editor)]
) -> Created[Book]:
    """Add a book."""
    new = Book(title=book.title, year=book.year, id=max(BOOKS) + 1)
    BOOKS[new.id] = new
    return created(new, location=str(request.url_for("books.get_book", id=new.id)))


app = App()
app.include(v1)
app.include(
    OpenAPI(
        title="Library",
        version="1.0.0",
        description="Books, by the shelf.",
        security_schemes={"bearer": bearer_auth()},
    )
)
