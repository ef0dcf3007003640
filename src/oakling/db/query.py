"""Pagination and lookups shared by ``Session`` and ``AsyncSession``.

The pure parts live here (statements to run, checks of the input, pages built
from the rows); the sessions only execute them, so the sync and async helpers
cannot drift apart.

* ``Page``: one page of a ``paginate()`` (offset pagination, with a total).
* ``KeysetPage``: one page of a ``keyset()`` (for large tables: no ``OFFSET``,
  no ``COUNT``; the next page starts after an opaque cursor).
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

import msgspec
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from oakling.exceptions import BadRequest, NotFound, ValidationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import ColumnElement, Select

    from oakling.http.request import Request

__all__ = ("DEFAULT_PER_PAGE", "MAX_PER_PAGE", "KeysetPage", "Page")

T = TypeVar("T")

DEFAULT_PER_PAGE = 20
"""Items per page when neither the call nor the query string says."""
MAX_PER_PAGE = 100
"""The largest ``per_page`` served; a larger one is capped (a client cannot ask for all)."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results from ``paginate()``.

    ``next_url`` and ``prev_url`` are the current request's path and query with the
    ``page`` parameter changed (``None`` at the ends, or outside a request).
    """

    items: list[T]
    total: int
    page: int
    per_page: int
    next_url: str | None = None
    prev_url: str | None = None

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1, even when there are no items)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        """Whether a page follows this one."""
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        """Whether a page comes before this one."""
        return self.page > 1


@dataclass(frozen=True, slots=True)
class KeysetPage(Generic[T]):
    """One page of results from ``keyset()``.

    Pass ``next_cursor`` back as ``after=`` for the following page; it is ``None``
    on the last page. ``next_url`` is the current request's URL with ``after`` set.
    """

    items: list[T]
    next_cursor: str | None
    next_url: str | None = None

    @property
    def has_next(self) -> bool:
        """Whether a page follows this one."""
        return self.next_cursor is not None


# -- offset pagination ------------------------------------------------------------------


def _query_int(request: Request | None, key: str) -> int | None:
    if request is None:
        return None
    raw = request.query.get(key)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(
            [{"loc": ["query", key], "msg": f"Expected a whole number, got {raw!r}", "type": "int"}]
        ) from None


def page_arguments(
    request: Request | None, page: int | None, per_page: int | None, max_per_page: int
) -> tuple[int, int]:
    """Check ``page`` and ``per_page`` (read from the query string when ``None``).

    Raises:
        ValidationError: ``page`` or ``per_page`` is not a whole number of 1 or more.
    """
    if page is None:
        page = _query_int(request, "page")
        page = 1 if page is None else page
    if per_page is None:
        per_page = _query_int(request, "per_page")
        per_page = DEFAULT_PER_PAGE if per_page is None else per_page
    errors = []
    if page < 1:
        errors.append({"loc": ["query", "page"], "msg": "Page numbers start at 1", "type": "ge"})
    if per_page < 1:
        errors.append(
            {"loc": ["query", "per_page"], "msg": "per_page must be at least 1", "type": "ge"}
        )
    if errors:
        raise ValidationError(errors)
    return page, min(per_page, max_per_page)


def count_statement(statement: Select[Any]) -> Select[Any]:
    """``SELECT count(*)`` of the rows ``statement`` returns (its ORDER BY dropped)."""
    inner = statement.order_by(None).limit(None).offset(None).subquery()
    return select(func.count()).select_from(inner)


def slice_statement(statement: Select[Any], page: int, per_page: int) -> Select[Any]:
    """``statement`` limited to page ``page``."""
    return statement.limit(per_page).offset((page - 1) * per_page)


def single_column(statement: Select[Any]) -> bool:
    """Whether rows of ``statement`` are one object or value each (use ``scalars``)."""
    return len(statement.selected_columns) == 1 or len(statement.column_descriptions) == 1


def _url_with(request: Request | None, **params: Any) -> str | None:
    if request is None:
        return None
    scope = request.scope
    query = [
        (key, value)
        for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
        if key not in params
    ]
    query.extend((key, str(value)) for key, value in params.items())
    path = scope.get("root_path", "") + scope.get("path", "/")
    return f"{path}?{urlencode(query)}"


def make_page(
    items: Sequence[Any], total: int, page: int, per_page: int, request: Request | None
) -> Page[Any]:
    """Build the ``Page``, with URLs of its neighbours."""
    built: Page[Any] = Page(list(items), total, page, per_page)
    next_url = _url_with(request, page=page + 1) if built.has_next else None
    prev_url = _url_with(request, page=min(page - 1, built.pages)) if built.has_prev else None
    return Page(built.items, total, page, per_page, next_url, prev_url)


# -- keyset pagination ------------------------------------------------------------------


def _columns(order_by: Sequence[Any]) -> list[tuple[ColumnElement[Any], bool]]:
    columns = []
    for item in order_by:
        descending = False
        element = item
        if isinstance(item, UnaryExpression) and item.modifier in (
            operators.desc_op,
            operators.asc_op,
        ):
            descending = item.modifier is operators.desc_op
            element = item.element
        columns.append((element, descending))
    return columns


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque, URL-safe token for the sort values of the last row of a page."""
    return base64.urlsafe_b64encode(msgspec.json.encode(list(values))).rstrip(b"=").decode()


def decode_cursor(cursor: str, columns: Sequence[tuple[ColumnElement[Any], bool]]) -> list[Any]:
    """The sort values in ``cursor``, converted to the columns' Python types.

    Raises:
        BadRequest: The cursor was not made by ``keyset()`` for this ordering.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = msgspec.json.decode(raw)
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("wrong number of values")
        return [_convert(value, column) for value, (column, _) in zip(values, columns, strict=True)]
    except (ValueError, binascii.Error, msgspec.DecodeError, msgspec.ValidationError):
        raise BadRequest(
            "Invalid pagination cursor; use the next_cursor of a previous page, unchanged"
        ) from None


def _convert(value: Any, column: ColumnElement[Any]) -> Any:
    if value is None:
        return None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    return msgspec.convert(value, python_type, strict=False)


def keyset_statement(
    statement: Select[Any], order_by: Sequence[Any], after: str | None, limit: int
) -> tuple[Select[Any], list[tuple[ColumnElement[Any], bool]]]:
    """``statement`` ordered by ``order_by``, after ``after``, one row more than ``limit``.

    Raises:
        BadRequest: ``after`` is not a valid cursor.
        ValidationError: ``limit`` is below 1.
    """
    if limit < 1:
        raise ValidationError(
            [{"loc": ["query", "limit"], "msg": "limit must be at least 1", "type": "ge"}]
        )
    if not order_by:
        raise TypeError("keyset() needs order_by: one or more columns, the last one unique")
    columns = _columns(order_by)
    if after:
        values = decode_cursor(after, columns)
        statement = statement.where(_after(columns, values))
    ordered = [column.desc() if descending else column.asc() for column, descending in columns]
    labelled = [column.label(f"_oakling_k{i}") for i, (column, _) in enumerate(columns)]
    return statement.order_by(None).order_by(*ordered).add_columns(*labelled).limit(
        limit + 1
    ), columns


def _after(columns: Sequence[tuple[ColumnElement[Any], bool]], values: Sequence[Any]) -> Any:
    # (a > x) OR (a = x AND b > y) OR ...: works on every backend and with mixed directions.
    clauses = []
    for i, (column, descending) in enumerate(columns):
        value = values[i]
        if value is None:  # a hand-made cursor: keyset() never makes one with NULL
            return false()
        equal = [columns[j][0] == values[j] for j in range(i)]
        beyond = column < value if descending else column > value
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


def make_keyset_page(
    rows: Sequence[Any], columns_count: int, limit: int, request: Request | None, single: bool
) -> KeysetPage[Any]:
    """Build the ``KeysetPage`` from rows that end with the sort values."""
    more = len(rows) > limit
    rows = rows[:limit]
    width = len(rows[0]) - columns_count if rows else 0
    items = [row[0] if single else row[:width] for row in rows]
    cursor = None
    if more and rows:
        values = list(rows[-1][width:])
        if any(value is None for value in values):
            raise TypeError(
                "keyset(): a sort column is NULL in a row, so pages after it cannot be "
                "found; sort by NOT NULL columns (or coalesce(column, ...)), ending with "
                "the primary key"
            )
        cursor = encode_cursor(values)
    next_url = _url_with(request, after=cursor) if cursor else None
    return KeysetPage(items, cursor, next_url)


def not_found(entity: Any, ident: Any = None) -> NotFound:
    """The 404 of a missing ``entity`` row."""
    name = getattr(entity, "__name__", "object")
    if ident is None:
        return NotFound(f"No {name} matches this request")
    return NotFound(f"No {name} with id {ident!r}")
