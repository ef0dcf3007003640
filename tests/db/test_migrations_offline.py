"""MSSQL and Oracle, which cannot run here: compiled DDL, queries and offline migrations.

The expected SQL is checked in under ``snapshots/``. After a deliberate change,
rewrite them with ``OAKLING_UPDATE_SNAPSHOTS=1 pytest tests/db/test_migrations_offline.py``
and review the diff.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, oracle, postgresql
from sqlalchemy.schema import CreateIndex, CreateTable
from tests.db.cli_support import oakling, ok

from oakling.db import Model

HERE = Path(__file__).parent
PROJECT = HERE / "offline_project"
SNAPSHOTS = HERE / "snapshots"
DIALECTS = {
    "mssql": mssql.dialect(),
    "oracle": oracle.dialect(),
    "postgresql": postgresql.dialect(),
}


def _snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("OAKLING_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"no snapshot {path}: run with OAKLING_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), f"{name} differs from its snapshot"


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def models() -> tuple[type[Model], type[Model]]:
    """The offline project's Author and Book, imported once under private names."""
    project = _load("_oakling_offline_models", PROJECT / "models.py")
    library = _load("_oakling_offline_library_models", PROJECT / "library" / "models.py")
    return project.Author, library.Book


@pytest.mark.parametrize("dialect", ["mssql", "oracle"])
def test_models_ddl_compiles(dialect: str, models: tuple[type[Model], type[Model]]) -> None:
    statements = []
    for model in models:
        table = model.__table__
        assert isinstance(table, sa.Table)
        statements.append(str(CreateTable(table).compile(dialect=DIALECTS[dialect])).strip())
        statements += [
            str(CreateIndex(index).compile(dialect=DIALECTS[dialect])).strip()
            for index in sorted(table.indexes, key=lambda i: str(i.name))
        ]
    _snapshot(f"ddl_{dialect}.sql", ";\n\n".join(statements) + ";\n")


@pytest.mark.parametrize("dialect", ["mssql", "oracle"])
def test_typical_queries_compile(dialect: str, models: tuple[type[Model], type[Model]]) -> None:
    author, book = models
    queries: list[sa.Executable] = [
        sa.select(author).where(author.id == 5),  # type: ignore[attr-defined]
        sa.select(book.title, author.name)  # type: ignore[attr-defined]
        .join(author, book.author_id == author.id)  # type: ignore[attr-defined]
        .where(author.name.like("A%"))  # type: ignore[attr-defined]
        .order_by(book.title)  # type: ignore[attr-defined]
        .limit(10)
        .offset(20),
        sa.select(sa.func.count()).select_from(book).where(book.pages > 100),  # type: ignore[attr-defined]
        sa.select(author.id).where(  # type: ignore[attr-defined]
            sa.exists().where(book.author_id == author.id)  # type: ignore[attr-defined]
        ),
        sa.insert(author).values(name="Ada", fee=1),
        sa.update(book).where(book.id == 1).values(pages=book.pages + 1),  # type: ignore[attr-defined]
        sa.delete(book).where(book.author_id.in_([1, 2, 3])),  # type: ignore[attr-defined]
    ]
    text = ";\n\n".join(
        str(q.compile(dialect=DIALECTS[dialect], compile_kwargs={"literal_binds": True}))
        for q in queries
    )
    _snapshot(f"queries_{dialect}.sql", text + ";\n")


@pytest.mark.parametrize("dialect", ["mssql", "oracle", "postgresql"])
def test_migrate_sql_offline(dialect: str) -> None:
    args = ("db", "migrate", "--sql", "--url", f"{dialect}://")
    out = ok(oakling(PROJECT, *args, url="sqlite://", spawn=True))
    assert out.index("CREATE TABLE ofl_author") < out.index("CREATE TABLE ofl_book")
    assert "RETURNING" not in out  # a script has nowhere to return to (Oracle's needs a bind)
    assert "OUTPUT inserted" not in out
    _snapshot(f"migrate_{dialect}.sql", out)


def test_downgrade_sql_offline() -> None:
    args = ("db", "downgrade", "--sql", "heads:base")
    out = ok(oakling(PROJECT, *args, url="mssql+pyodbc://u:p@h/db", spawn=True))
    assert out.index("DROP TABLE ofl_book") < out.index("DROP TABLE ofl_author")
    _snapshot("downgrade_mssql.sql", out)
