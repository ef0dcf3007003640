"""Model: constraint names by convention, the mixins, DDL on every dialect."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, oracle, postgresql, sqlite
from sqlalchemy.schema import CreateTable
from tests.db.models import METADATA, DbtAuthor, DbtBook, DbtTag

from oakling import App
from oakling.db import session


def test_constraints_are_named_by_the_convention() -> None:
    author, book = DbtAuthor.__table__, DbtBook.__table__
    names = {c.name for c in [*author.constraints, *book.constraints]}
    assert {
        "pk_dbt_author",
        "uq_dbt_author_name",
        "ck_dbt_author_name_not_empty",
        "pk_dbt_book",
        "fk_dbt_book_author_id_dbt_author",
    } <= names


@pytest.mark.parametrize(
    "dialect",
    [postgresql.dialect(), mysql.dialect(), sqlite.dialect(), mssql.dialect(), oracle.dialect()],
    ids=lambda d: d.name,
)
def test_ddl_compiles_on_every_dialect(dialect: sa.Dialect) -> None:
    for table in METADATA.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=dialect))
        assert table.name in ddl
    book = str(CreateTable(DbtBook.__table__).compile(dialect=dialect))
    assert "fk_dbt_book_author_id_dbt_author" in book


def test_mixins_fill_keys_and_timestamps(
    server_url: str, plain_app: Callable[..., App], engine: sa.Engine
) -> None:
    app = plain_app(server_url)
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    with session(app) as db:
        author = DbtAuthor(name="Ada")
        db.add(author)
        db.flush()
        assert isinstance(author.id, int)
        assert author.created_at.tzinfo is not None
        assert before <= author.created_at <= dt.datetime.now(dt.UTC)
        created = author.created_at
        author.name = "Ada L."
        db.flush()
        assert author.updated_at >= created
    with session(app) as db:  # read back: aware UTC on every backend (ORM loads)
        again = db.get_or_404(DbtAuthor, author.id)
        assert again.created_at.tzinfo is not None
        assert abs(again.created_at - created) < dt.timedelta(seconds=1)
        db.refresh(again)
        assert again.updated_at.tzinfo is not None
    tag = DbtTag(label="x")
    assert tag.id is None  # made by Python at insert time
    with session(app) as db:
        db.add(tag)
    assert isinstance(tag.id, uuid.UUID)
    with session(app) as db:
        assert db.get_or_404(DbtTag, tag.id).label == "x"
