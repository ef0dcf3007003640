"""Sessions: one per request, injected by annotation, committed before the response.

``def handler(db: Session)`` (or ``async def handler(db: AsyncSession)``) gets a
session of the default database; ``Annotated[Session, Database("analytics")]`` one
of a named database. The session connects only when first used, is committed
when the handler succeeds (before anything is sent, so a failed commit becomes the
response), rolled back when it raises, and always closed. Outside requests (CLI,
scripts, tasks) use ``with session(app) as db:`` or ``async with async_session(app)``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator  # noqa: TC003  # read by injection
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from sqlalchemy import orm, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext import asyncio as sa_asyncio

from oakling.db import query
from oakling.db.engine import DEFAULT, Databases, databases
from oakling.db.query import MAX_PER_PAGE, KeysetPage, Page
from oakling.exceptions import ConfigurationError
from oakling.http.request import Request  # noqa: TC001  # read by injection
from oakling.params import Depends

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSessionTransaction
    from sqlalchemy.orm import SessionTransaction

__all__ = ("AsyncSession", "Database", "Session", "async_session", "atomic", "session")

T = TypeVar("T")


class Session(orm.Session):
    """A SQLAlchemy ``Session`` with oakling's helpers; injected into sync handlers.

    ``def show(id: int, db: Session)`` gets one per request (see the module docs).
    Objects stay usable after commit (``expire_on_commit=False``).
    """

    __oakling_depends__: ClassVar[Depends]

    @property
    def request(self) -> Request | None:
        """The request this session serves (``None`` outside requests)."""
        found: Request | None = self.info.get("request")
        return found

    def atomic(self) -> SessionTransaction:
        """Begin a savepoint: ``with db.atomic(): ...`` undoes only this block on error.

        Blocks nest (a savepoint each). The outer transaction is the request's.
        """
        return self.begin_nested()

    def get_or_404(self, entity: type[T], ident: Any) -> T:
        """The ``entity`` row with primary key ``ident``.

        Raises:
            NotFound: There is no such row (a 404).
        """
        found = self.get(entity, ident)
        if found is None:
            raise query.not_found(entity, ident)
        return found

    def first_or_404(self, statement: Select[T]) -> T:
        """The first object (or value) ``statement`` selects.

        Raises:
            NotFound: It selects nothing (a 404).
        """
        found = self.scalars(statement.limit(1)).first()
        if found is None:
            raise query.not_found(statement.column_descriptions[0].get("entity"))
        return found

    def exists(self, statement: Select[Any]) -> bool:
        """Whether ``statement`` selects at least one row (``SELECT EXISTS``)."""
        return bool(self.scalar(select(statement.exists())))

    def paginate(
        self,
        statement: Select[T],
        page: int | None = None,
        per_page: int | None = None,
        *,
        max_per_page: int = MAX_PER_PAGE,
    ) -> Page[T]:
        """One page of ``statement``'s rows, with the total and links to its neighbours.

        ``page`` and ``per_page`` default to the request's ``?page=`` and
        ``?per_page=`` query parameters (then 1 and 20); ``per_page`` is capped
        at ``max_per_page``. Give ``statement`` an ORDER BY so pages are stable.

        Raises:
            ValidationError: ``page`` or ``per_page`` is not a number of 1 or more (a 422).
        """
        request = self.request
        page, per_page = query.page_arguments(request, page, per_page, max_per_page)
        total: int = self.scalar(query.count_statement(statement)) or 0
        sliced = query.slice_statement(statement, page, per_page)
        items = self._rows(sliced)
        return query.make_page(items, total, page, per_page, request)

    def keyset(
        self,
        statement: Select[T],
        order_by: Sequence[Any],
        after: str | None = None,
        limit: int = query.DEFAULT_PER_PAGE,
    ) -> KeysetPage[T]:
        """One page of ``statement`` in ``order_by`` order, starting after cursor ``after``.

        For large tables: no ``OFFSET`` and no ``COUNT``. ``order_by`` lists columns
        (``User.created_at.desc(), User.id``); together they must be unique, so end
        with the primary key. Pass the page's ``next_cursor`` as ``after`` for the next.

        Raises:
            BadRequest: ``after`` is not a cursor made by ``keyset`` (a 400).
        """
        built, columns = query.keyset_statement(statement, order_by, after, limit)
        rows = self.execute(built).all()
        single = query.single_column(statement)
        return query.make_keyset_page(rows, len(columns), limit, self.request, single)

    def get_or_create(
        self, entity: type[T], defaults: Mapping[str, Any] | None = None, **lookup: Any
    ) -> tuple[T, bool]:
        """The ``entity`` row matching ``lookup``, made (with ``defaults``) if missing.

        Returns ``(object, created)``. Safe when two requests race: the insert runs in
        a savepoint, and on a unique violation the row the other one made is returned.
        """
        statement = select(entity).filter_by(**lookup).limit(1)
        found = self.scalars(statement).first()
        if found is not None:
            return found, False
        made = entity(**lookup, **(defaults or {}))
        try:
            with self.begin_nested():
                self.add(made)
        except IntegrityError:
            found = self.scalars(_latest(statement)).first()
            if found is None:
                raise
            return found, False
        return made, True

    def _rows(self, statement: Select[Any]) -> list[Any]:
        if query.single_column(statement):
            return list(self.scalars(statement).all())
        return list(self.execute(statement).all())


class AsyncSession(sa_asyncio.AsyncSession):
    """A SQLAlchemy ``AsyncSession`` with oakling's helpers; injected into async handlers.

    ``async def show(id: int, db: AsyncSession)`` gets one per request (see the module
    docs). Objects stay usable after commit (``expire_on_commit=False``).
    """

    __oakling_depends__: ClassVar[Depends]

    @property
    def request(self) -> Request | None:
        """The request this session serves (``None`` outside requests)."""
        found: Request | None = self.info.get("request")
        return found

    def atomic(self) -> AsyncSessionTransaction:
        """Begin a savepoint: ``async with db.atomic(): ...`` undoes only this block on error."""
        return self.begin_nested()

    async def get_or_404(self, entity: type[T], ident: Any) -> T:
        """The ``entity`` row with primary key ``ident``.

        Raises:
            NotFound: There is no such row (a 404).
        """
        found = await self.get(entity, ident)
        if found is None:
            raise query.not_found(entity, ident)
        return found

    async def first_or_404(self, statement: Select[T]) -> T:
        """The first object (or value) ``statement`` selects.

        Raises:
            NotFound: It selects nothing (a 404).
        """
        found = (await self.scalars(statement.limit(1))).first()
        if found is None:
            raise query.not_found(statement.column_descriptions[0].get("entity"))
        return found

    async def exists(self, statement: Select[Any]) -> bool:
        """Whether ``statement`` selects at least one row (``SELECT EXISTS``)."""
        return bool(await self.scalar(select(statement.exists())))

    async def paginate(
        self,
        statement: Select[T],
        page: int | None = None,
        per_page: int | None = None,
        *,
        max_per_page: int = MAX_PER_PAGE,
    ) -> Page[T]:
        """One page of ``statement``'s rows; see ``Session.paginate``.

        Raises:
            ValidationError: ``page`` or ``per_page`` is not a number of 1 or more (a 422).
        """
        request = self.request
        page, per_page = query.page_arguments(request, page, per_page, max_per_page)
        total: int = await self.scalar(query.count_statement(statement)) or 0
        sliced = query.slice_statement(statement, page, per_page)
        if query.single_column(sliced):
            items: list[Any] = list((await self.scalars(sliced)).all())
        else:
            items = list((await self.execute(sliced)).all())
        return query.make_page(items, total, page, per_page, request)

    async def keyset(
        self,
        statement: Select[T],
        order_by: Sequence[Any],
        after: str | None = None,
        limit: int = query.DEFAULT_PER_PAGE,
    ) -> KeysetPage[T]:
        """One page of ``statement`` after cursor ``after``; see ``Session.keyset``.

        Raises:
            BadRequest: ``after`` is not a cursor made by ``keyset`` (a 400).
        """
        built, columns = query.keyset_statement(statement, order_by, after, limit)
        rows = (await self.execute(built)).all()
        single = query.single_column(statement)
        return query.make_keyset_page(rows, len(columns), limit, self.request, single)

    async def get_or_create(
        self, entity: type[T], defaults: Mapping[str, Any] | None = None, **lookup: Any
    ) -> tuple[T, bool]:
        """The ``entity`` row matching ``lookup``, made if missing; see ``Session``'s."""
        statement = select(entity).filter_by(**lookup).limit(1)
        found = (await self.scalars(statement)).first()
        if found is not None:
            return found, False
        made = entity(**lookup, **(defaults or {}))
        try:
            async with self.begin_nested():
                self.add(made)
        except IntegrityError:
            found = (await self.scalars(_latest(statement))).first()
            if found is None:
                raise
            return found, False
        return made, True


def _latest(statement: Select[T]) -> Select[T]:
    # NOTE: under REPEATABLE READ (MySQL/MariaDB's default) a plain SELECT still sees the
    # snapshot without the row the other request just committed; a locking read sees it.
    return statement.with_for_update(read=True)


# -- making sessions --------------------------------------------------------------------

# NOTE: a session bound to a test's connection works in savepoints of its transaction.
_JOIN_TEST_TRANSACTION: dict[str, Any] = {"join_transaction_mode": "create_savepoint"}


def new_session(dbs: Databases, name: str = DEFAULT, request: Request | None = None) -> Session:
    """A fresh ``Session`` of database ``name`` (joined to a test transaction if bound)."""
    bound = dbs.bound.get(name)
    info = {"request": request} if request is not None else None
    if bound is None and name in dbs.async_bound:
        raise ConfigurationError(
            "This test uses the 'async_db' fixture, which holds an async transaction; a "
            "sync handler cannot join it. Use the 'db' fixture for sync handlers."
        )
    if bound is not None:
        return Session(bind=bound, expire_on_commit=False, info=info, **_JOIN_TEST_TRANSACTION)
    return Session(bind=dbs.engine(name), expire_on_commit=False, info=info)


def new_async_session(
    dbs: Databases, name: str = DEFAULT, request: Request | None = None
) -> AsyncSession:
    """A fresh ``AsyncSession`` of database ``name`` (call it with a running loop)."""
    bound = dbs.async_bound.get(name)
    info = {"request": request} if request is not None else None
    if bound is None and name in dbs.bound:
        raise ConfigurationError(
            "This test uses the 'db' fixture, which holds a sync transaction; an async "
            "handler cannot join it. Use the 'async_db' fixture with AsyncTestClient."
        )
    if bound is not None:
        return AsyncSession(bind=bound, expire_on_commit=False, info=info, **_JOIN_TEST_TRANSACTION)
    return AsyncSession(bind=dbs.async_engine(name), expire_on_commit=False, info=info)


def _note_retry_after(exc: BaseException, dbs: Databases) -> None:
    # NOTE: the 503 translation reads the app's Retry-After from the error itself.
    if not hasattr(exc, "oakling_retry_after"):
        with contextlib.suppress(AttributeError):  # a builtin exception without __dict__
            exc.oakling_retry_after = dbs.settings.db_retry_after  # type: ignore[attr-defined]


def _sync_provider(name: str) -> Callable[[Request], Iterator[Session]]:
    def provide_session(request: Request) -> Iterator[Session]:
        dbs = databases(request.app)
        db = new_session(dbs, name, request)
        try:
            yield db
            if db.in_transaction():
                db.commit()
        except BaseException as exc:
            _note_retry_after(exc, dbs)
            db.rollback()
            raise
        finally:
            db.close()

    provide_session.__qualname__ = f"provide_session[{name}]"
    return provide_session


def _commit_and_close(db: orm.Session) -> None:
    try:
        db.commit()
    finally:
        db.close()


def _close(db: orm.Session) -> None:
    db.close()  # rolls back


def _async_provider(name: str) -> Callable[[Request], AsyncIterator[AsyncSession]]:
    async def provide_async_session(request: Request) -> AsyncIterator[AsyncSession]:
        dbs = databases(request.app)
        db = new_async_session(dbs, name, request)
        try:
            yield db
        except BaseException as exc:
            _note_retry_after(exc, dbs)
            if db.sync_session.in_transaction():
                await db.run_sync(_close)
            raise
        if db.sync_session.in_transaction():  # else it never connected: nothing to end
            try:
                await db.run_sync(_commit_and_close)  # one trip into the greenlet, not two
            except BaseException as exc:
                _note_retry_after(exc, dbs)
                raise

    provide_async_session.__qualname__ = f"provide_async_session[{name}]"
    return provide_async_session


_PROVIDERS: dict[tuple[str, bool], Depends] = {}


def _depends(name: str, is_async: bool) -> Depends:
    found = _PROVIDERS.get((name, is_async))
    if found is None:
        provider = _async_provider(name) if is_async else _sync_provider(name)
        found = _PROVIDERS[(name, is_async)] = Depends(provider, scope="function")
    return found


Session.__oakling_depends__ = _depends(DEFAULT, is_async=False)
AsyncSession.__oakling_depends__ = _depends(DEFAULT, is_async=True)


@dataclass(frozen=True, slots=True)
class Database:
    """Marker: inject a session of the named database, ``Annotated[Session, Database("x")]``.

    The name is a key of the ``DATABASES`` setting (``"default"`` is ``DATABASE_URL``).
    Works on ``Session`` and ``AsyncSession`` alike; one session per database per request.
    """

    name: str

    def __oakling_depends_for__(self, annotation: Any) -> Depends:
        """The provider of a session of this database for ``annotation``'s session type."""
        if isinstance(annotation, type) and issubclass(annotation, AsyncSession):
            return _depends(self.name, is_async=True)
        if isinstance(annotation, type) and issubclass(annotation, Session):
            return _depends(self.name, is_async=False)
        raise ConfigurationError(
            f"Database({self.name!r}) marks a Session or an AsyncSession parameter "
            f"(from oakling.db), not {annotation!r}"
        )


# -- outside requests ---------------------------------------------------------------------


@contextmanager
def session(app: Any, name: str = DEFAULT) -> Iterator[Session]:
    """Open a session of ``app`` outside requests (CLI commands, scripts, tasks).

    Use it as ``with session(app) as db:``.

    Committed when the block ends normally, rolled back if it raises, then closed.
    """
    db = new_session(databases(app), name)
    try:
        yield db
        if db.in_transaction():
            db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


@asynccontextmanager
async def async_session(app: Any, name: str = DEFAULT) -> AsyncIterator[AsyncSession]:
    """Open an async session of ``app`` outside requests (scripts, tasks).

    Use it as ``async with async_session(app) as db:``.

    Committed when the block ends normally, rolled back if it raises, then closed.
    """
    db = new_async_session(databases(app), name)
    try:
        yield db
        if db.in_transaction():
            await db.commit()
    except BaseException:
        await db.rollback()
        raise
    finally:
        await db.close()


@overload
def atomic(db: Session) -> SessionTransaction: ...
@overload
def atomic(db: AsyncSession) -> AsyncSessionTransaction: ...
def atomic(db: Session | AsyncSession) -> SessionTransaction | AsyncSessionTransaction:
    """Begin a savepoint block on ``db``; the same as ``db.atomic()``.

    ``with atomic(db):`` for a ``Session``, ``async with atomic(db):`` for an
    ``AsyncSession``: an error inside undoes the block's writes only, then propagates.
    """
    return db.begin_nested()
