"""Helpers for the ``oakling db`` tests: throwaway databases, projects on disk, the CLI.

Model-changing scenarios run ``oakling`` in a subprocess, the way a user runs
it after editing a file: models are declared in ``Model.metadata``, one per
process, so a test cannot redefine a table in-process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
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
    folder: Path, *args: str, url: str, input: str | None = None, spawn: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``oakling ARGS`` in ``folder`` with ``DATABASE_URL=url``, in a fresh process.

    The process is a fork of this one (oakling, SQLAlchemy and Alembic are
    imported already, the project's modules not), as fresh for the project as
    a new ``oakling`` process and ten times cheaper to start. ``spawn`` starts
    a new interpreter instead (when this process has imported the project's models).
    """
    if spawn or not hasattr(os, "fork"):
        return _spawn(folder, args, url, input)
    with tempfile.TemporaryDirectory() as tmp:
        out, err, stdin = Path(tmp, "out"), Path(tmp, "err"), Path(tmp, "in")
        stdin.write_text(input or "")
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            _child(folder, args, url, (stdin, out, err))
        deadline = time.monotonic() + 60
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise TimeoutError(f"oakling {' '.join(args)} took over 60 s")
            time.sleep(0.01)
        return subprocess.CompletedProcess(
            ["oakling", *args], os.waitstatus_to_exitcode(status), out.read_text(), err.read_text()
        )


def _child(folder: Path, args: tuple[str, ...], url: str, files: tuple[Path, Path, Path]) -> None:
    code = 1
    try:
        write = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        for fd, path, mode in zip((0, 1, 2), files, (os.O_RDONLY, write, write), strict=True):
            os.dup2(os.open(path, mode, 0o600), fd)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        for key in [k for k in os.environ if k.startswith("OAKLING_")]:
            del os.environ[key]
        os.environ.update(OAKLING_DATABASE_URL=url, OAKLING_DEBUG="1")
        os.chdir(folder)
        for name in [n for n in sys.modules if n.split(".")[0] in _PROJECT_MODULES]:
            del sys.modules[name]
        from oakling.cli.commands import cli

        code = cli.main(list(args), prog_name="oakling", standalone_mode=False) or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:
        import click

        if isinstance(exc, click.exceptions.Exit):
            code = exc.exit_code
        elif isinstance(exc, click.ClickException):
            exc.show()
            code = exc.exit_code
        else:
            import traceback

            traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


# Top-level module names the test projects use; a fork forgets them.
_PROJECT_MODULES = {"app", "models", "people", "shop", "library", "site_fx"}


def _spawn(
    folder: Path, args: tuple[str, ...], url: str, input: str | None
) -> subprocess.CompletedProcess[str]:
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
