"""The same routes twice, with sync handlers (``Session``) and async ones (``AsyncSession``).

Tests call them through either flavour and expect the same answers.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select
from tests.db.models import DbtAuthor, DbtBook

from oakling import App
from oakling.config import Settings
from oakling.db import AsyncSession, Session


class AuthorIn(msgspec.Struct):
    name: str


class BookIn(msgspec.Struct):
    title: str | None
    author_id: int


class Boom(Exception):
    pass


def _author(author: DbtAuthor) -> dict[str, Any]:
    return {"id": author.id, "name": author.name}


def make_app(url: str, *, is_async: bool, **more: Any) -> App:
    app = App(settings=Settings(**{"debug": True, "database_url": url, **more}))
    (_async_routes if is_async else _sync_routes)(app)

    @app.errorhandler(Boom)
    def boom(request: Any, exc: Boom) -> tuple[str, int]:
        return "boom", 500

    return app


def _sync_routes(app: App) -> None:  # noqa: C901
    @app.post("/authors", status=201)
    def create(body: AuthorIn, db: Session) -> dict[str, Any]:
        author = DbtAuthor(name=body.name)
        db.add(author)
        db.flush()
        return _author(author)

    @app.post("/authors/many", status=201)
    def create_many(body: list[AuthorIn], db: Session) -> dict[str, Any]:
        for item in body:
            db.add(DbtAuthor(name=item.name))
            db.flush()
        return {"count": len(body)}

    @app.post("/authors/late", status=201)
    def create_late(body: list[AuthorIn], db: Session) -> dict[str, Any]:
        db.add_all([DbtAuthor(name=item.name) for item in body])
        return {"count": len(body)}  # the commit after the handler fails

    @app.post("/authors/fail")
    def create_then_fail(body: AuthorIn, db: Session) -> None:
        db.add(DbtAuthor(name=body.name))
        db.flush()
        raise Boom

    @app.post("/books", status=201)
    def create_book(body: BookIn, db: Session) -> dict[str, Any]:
        book = DbtBook(title=body.title, author_id=body.author_id)  # type: ignore[arg-type]
        db.add(book)
        db.flush()
        return {"id": book.id}

    @app.delete("/authors/{id:int}")
    def delete(id: int, db: Session) -> None:
        db.delete(db.get_or_404(DbtAuthor, id))
        db.flush()

    @app.get("/authors/{id:int}")
    def show(id: int, db: Session) -> dict[str, Any]:
        return _author(db.get_or_404(DbtAuthor, id))

    @app.get("/first")
    def first(name: str, db: Session) -> dict[str, Any]:
        return _author(db.first_or_404(select(DbtAuthor).where(DbtAuthor.name == name)))

    @app.get("/exists")
    def exists(name: str, db: Session) -> dict[str, Any]:
        return {"exists": db.exists(select(DbtAuthor).where(DbtAuthor.name == name))}

    @app.get("/authors")
    def page(db: Session) -> dict[str, Any]:
        found = db.paginate(select(DbtAuthor).order_by(DbtAuthor.name), max_per_page=3)
        return _page(found)

    @app.get("/names")
    def names(db: Session) -> dict[str, Any]:
        found = db.paginate(select(DbtAuthor.id, DbtAuthor.name).order_by(DbtAuthor.id))
        return {"items": [list(row) for row in found.items], "total": found.total}

    @app.get("/keyset")
    def keyset(db: Session, after: str | None = None, limit: int = 2) -> dict[str, Any]:
        order = (DbtAuthor.born.desc(), DbtAuthor.id)
        found = db.keyset(select(DbtAuthor), order, after=after, limit=limit)
        return {"items": [a.name for a in found.items], "next": found.next_cursor}

    @app.post("/goc/{name}")
    def get_or_create(name: str, db: Session) -> dict[str, Any]:
        author, created = db.get_or_create(DbtAuthor, name=name)
        return {"id": author.id, "created": created}

    @app.post("/atomic")
    def atomic(body: list[AuthorIn], db: Session) -> dict[str, Any]:
        kept = []
        for item in body:
            try:
                with db.atomic():
                    db.add(DbtAuthor(name=item.name))
            except Exception:
                continue
            kept.append(item.name)
        return {"kept": kept}

    @app.get("/noop")
    def noop(db: Session) -> dict[str, Any]:
        return {"ok": True}


def _async_routes(app: App) -> None:  # noqa: C901
    @app.post("/authors", status=201)
    async def create(body: AuthorIn, db: AsyncSession) -> dict[str, Any]:
        author = DbtAuthor(name=body.name)
        db.add(author)
        await db.flush()
        return _author(author)

    @app.post("/authors/many", status=201)
    async def create_many(body: list[AuthorIn], db: AsyncSession) -> dict[str, Any]:
        for item in body:
            db.add(DbtAuthor(name=item.name))
            await db.flush()
        return {"count": len(body)}

    @app.post("/authors/late", status=201)
    async def create_late(body: list[AuthorIn], db: AsyncSession) -> dict[str, Any]:
        db.add_all([DbtAuthor(name=item.name) for item in body])
        return {"count": len(body)}

    @app.post("/authors/fail")
    async def create_then_fail(body: AuthorIn, db: AsyncSession) -> None:
        db.add(DbtAuthor(name=body.name))
        await db.flush()
        raise Boom

    @app.post("/books", status=201)
    async def create_book(body: BookIn, db: AsyncSession) -> dict[str, Any]:
        book = DbtBook(title=body.title, author_id=body.author_id)  # type: ignore[arg-type]
        db.add(book)
        await db.flush()
        return {"id": book.id}

    @app.delete("/authors/{id:int}")
    async def delete(id: int, db: AsyncSession) -> None:
        await db.delete(await db.get_or_404(DbtAuthor, id))
        await db.flush()

    @app.get("/authors/{id:int}")
    async def show(id: int, db: AsyncSession) -> dict[str, Any]:
        return _author(await db.get_or_404(DbtAuthor, id))

    @app.get("/first")
    async def first(name: str, db: AsyncSession) -> dict[str, Any]:
        statement = select(DbtAuthor).where(DbtAuthor.name == name)
        return _author(await db.first_or_404(statement))

    @app.get("/exists")
    async def exists(name: str, db: AsyncSession) -> dict[str, Any]:
        return {"exists": await db.exists(select(DbtAuthor).where(DbtAuthor.name == name))}

    @app.get("/authors")
    async def page(db: AsyncSession) -> dict[str, Any]:
        statement = select(DbtAuthor).order_by(DbtAuthor.name)
        return _page(await db.paginate(statement, max_per_page=3))

    @app.get("/names")
    async def names(db: AsyncSession) -> dict[str, Any]:
        statement = select(DbtAuthor.id, DbtAuthor.name).order_by(DbtAuthor.id)
        found = await db.paginate(statement)
        return {"items": [list(row) for row in found.items], "total": found.total}

    @app.get("/keyset")
    async def keyset(db: AsyncSession, after: str | None = None, limit: int = 2) -> dict[str, Any]:
        order = (DbtAuthor.born.desc(), DbtAuthor.id)
        found = await db.keyset(select(DbtAuthor), order, after=after, limit=limit)
        return {"items": [a.name for a in found.items], "next": found.next_cursor}

    @app.post("/goc/{name}")
    async def get_or_create(name: str, db: AsyncSession) -> dict[str, Any]:
        author, created = await db.get_or_create(DbtAuthor, name=name)
        return {"id": author.id, "created": created}

    @app.post("/atomic")
    async def atomic(body: list[AuthorIn], db: AsyncSession) -> dict[str, Any]:
        kept = []
        for item in body:
            try:
                async with db.atomic():
                    db.add(DbtAuthor(name=item.name))
            except Exception:
                continue
            kept.append(item.name)
        return {"kept": kept}

    @app.get("/noop")
    async def noop(db: AsyncSession) -> dict[str, Any]:
        return {"ok": True}


def _page(found: Any) -> dict[str, Any]:
    return {
        "items": [a.name for a in found.items],
        "total": found.total,
        "page": found.page,
        "per_page": found.per_page,
        "pages": found.pages,
        "has_next": found.has_next,
        "has_prev": found.has_prev,
        "next_url": found.next_url,
        "prev_url": found.prev_url,
    }
