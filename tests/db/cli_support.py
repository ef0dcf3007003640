"""Helpers for the ``oakling db`` tests: throwaway databases, projects on disk, the CLI.

Model-changing scenarios run ``oakling`` in a subprocess, the way a user runs
it after editing a file: models are declared in ``Model.metadata``, one per
process, so a test cannot redefine a table in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from tests.services import mariadb_database, postgres_database

from oakling.db import sync_url

BACKENDS = ["sqlite", "postgresql", "mariadb"]


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database of ``backend``; its URL."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'db.sqlite3'}"
    elif backend == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        with mariadb_database() as url:
            yield url


def write(folder: Path, files: dict[str, str]) -> None:
    """Write ``files`` (path -> dedented text) under ``folder``."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


def oakling(
    folder: Path, *args: str, url: str, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``oakling ARGS`` in ``folder`` with ``DATABASE_URL=url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAKLING_")}
    env.update(OAKLING_DATABASE_URL=url, OAKLING_DEBUG="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "oakling.cli", *args],
        cwd=folder,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The output of a command that must have succeeded."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@contextmanager
def connect(url: str) -> Iterator[sa.Connection]:
    """A connection (in a transaction, committed) to the database at ``url``."""
    engine = sa.create_engine(sync_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    """The table names in the database at ``url``."""
    with connect(url) as connection:
        return set(sa.inspect(connection).get_table_names())


def columns(url: str, table: str) -> dict[str, str]:
    """The columns of ``table``: name -> type name (upper case)."""
    with connect(url) as connection:
        return {
            c["name"]: type(c["type"]).__name__.upper()
            for c in sa.inspect(connection).get_columns(table)
        }


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    """The rows of ``query``."""
    with connect(url) as connection:
        result = connection.execute(sa.text(query))
        return [tuple(row) for row in result] if result.returns_rows else []
