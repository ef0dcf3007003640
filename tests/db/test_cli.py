"""``oakling db``: one-line errors that say what to do, and the database shell."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url
from tests.db.cli_support import database, oakling, ok, write

from oakling.cli import cli
from oakling.cli.db import client_command

Invoke = Callable[..., Result]

APP = """
    from oakling import App
    app = App(debug=True)
"""


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """Run ``oakling`` in-process in ``tmp_path`` (an app without models)."""
    for key in list(os.environ):
        if key.startswith("OAKLING_"):
            monkeypatch.delenv(key)
    write(tmp_path, {"app.py": APP})
    monkeypatch.chdir(tmp_path)
    modules, path = set(sys.modules), list(sys.path)

    def forget() -> None:  # the app reads its settings when imported: import it afresh
        for name in set(sys.modules) - modules:
            if (getattr(sys.modules[name], "__file__", None) or "").startswith(str(tmp_path)):
                del sys.modules[name]

    def run(*args: str, url: str | None = None, env: dict[str, str] | None = None) -> Result:
        forget()
        more = {"OAKLING_DATABASE_URL": url or f"sqlite:///{tmp_path / 'db.sqlite3'}"}
        return CliRunner().invoke(cli, list(args), env={**more, **(env or {})})

    yield run
    forget()
    sys.path[:] = path


def test_db_help_lists_the_commands(invoke: Invoke) -> None:
    result = invoke("db", "--help")
    assert result.exit_code == 0
    for name in ("init", "makemigrations", "migrate", "downgrade", "history", "current"):
        assert f"  {name}" in result.output
    for name in ("check", "dump", "load", "shell"):
        assert f"  {name}" in result.output


@pytest.mark.parametrize(
    "args", [("migrate",), ("makemigrations", "-m", "x"), ("history",), ("check",)]
)
def test_commands_need_the_migrations_folder(
    invoke: Invoke, tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = invoke("db", *args)
    assert result.exit_code == (1 if args == ("check",) else 2)
    assert result.output == (
        f"Error: No migrations folder at {tmp_path / 'migrations'}: run `oakling db init` first\n"
    )


def test_init_twice_says_there_is_nothing_to_do(invoke: Invoke, tmp_path: Path) -> None:
    assert invoke("db", "init").exit_code == 0
    assert (tmp_path / "migrations" / "README").is_file()
    result = invoke("db", "init")
    assert result.exit_code == 2
    assert result.output == f"Error: {tmp_path / 'migrations'} already exists: nothing to do\n"


def test_an_unreachable_database_is_one_line_without_the_password(invoke: Invoke) -> None:
    invoke("db", "init")
    result = invoke("db", "current", url="postgresql://me:s3cret@127.0.0.1:1/nothing")
    assert result.exit_code == 2
    assert result.output.startswith(
        "Error: Cannot connect to the database postgresql+psycopg://me:***@127.0.0.1:1/nothing: "
    )
    assert result.output.endswith("Is the server running? Check DATABASE_URL\n")
    assert "s3cret" not in result.output
    assert len(result.output.splitlines()) == 1


def test_a_bad_revision_points_to_history(invoke: Invoke) -> None:
    invoke("db", "init")
    made = invoke("db", "makemigrations", "-m", "empty start", "--empty")
    assert made.exit_code == 0, made.output
    assert made.output.startswith("Wrote app ")
    result = invoke("db", "migrate", "nosuchrev")
    assert result.exit_code == 2
    assert result.output == (
        "Error: Can't locate revision identified by 'nosuchrev': "
        "see `oakling db history` for the revisions\n"
    )
    result = invoke("db", "downgrade", "nosuchrev")
    assert "see `oakling db history`" in result.output


def test_unknown_component_and_database_are_named(invoke: Invoke) -> None:
    invoke("db", "init")
    result = invoke("db", "makemigrations", "-m", "x", "--component", "blog")
    assert result.exit_code == 2
    assert result.output == (
        "Error: No component with models is called 'blog'; known: app "
        "('app' is the project itself)\n"
    )
    result = invoke("db", "current", "--database", "analytics")
    assert result.exit_code == 2
    assert "No database named 'analytics'; configured: default" in result.output


def test_named_database(invoke: Invoke, tmp_path: Path) -> None:
    invoke("db", "init")
    invoke("db", "makemigrations", "-m", "empty", "--empty")
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    env = {"OAKLING_DATABASES": f'{{"other": "{other}"}}'}
    assert invoke("db", "migrate", "--database", "other", env=env).exit_code == 0
    assert "No migration applied yet." in invoke("db", "current").output
    assert invoke("db", "current", "--database", "other", env=env).output.startswith("app ")


def test_url_goes_only_with_sql(invoke: Invoke) -> None:
    result = invoke("db", "migrate", "--url", "mssql://")
    assert result.exit_code == 2
    assert "--url only goes with --sql" in result.output


def test_check_says_to_migrate_first(invoke: Invoke) -> None:
    invoke("db", "init")
    invoke("db", "makemigrations", "-m", "empty", "--empty")
    result = invoke("db", "check")
    assert result.exit_code == 1
    assert "The database is not up to date (1 revision(s) to apply: " in result.output
    assert "run `oakling db migrate`, then check again" in result.output
    assert invoke("db", "migrate").exit_code == 0
    assert invoke("db", "check").output == "The models and the migrations agree.\n"


def test_client_command_passes_the_password_in_the_environment() -> None:
    argv, env = client_command(make_url("postgresql://me:s3cret@db.example:5433/shop"))
    assert argv == ["psql", "-h", "db.example", "-p", "5433", "-U", "me", "-d", "shop"]
    assert env == {"PGPASSWORD": "s3cret"}
    argv, env = client_command(make_url("mysql+pymysql://root:pw@127.0.0.1:3306/shop"))
    assert argv[1:] == ["-h", "127.0.0.1", "-P", "3306", "-u", "root", "shop"]
    assert env == {"MYSQL_PWD": "pw"}
    assert client_command(make_url("sqlite:///x.db")) == (["sqlite3", "x.db"], {})


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_shell_runs_the_databases_own_client(tmp_path: Path, backend: str) -> None:
    write(tmp_path, {"app.py": APP})
    with database(backend, tmp_path) as url:
        out = ok(oakling(tmp_path, "db", "shell", url=url, input="SELECT 40 + 2 AS answer;\n"))
    assert "42" in out


def test_shell_of_an_in_memory_database(invoke: Invoke) -> None:
    result = invoke("db", "shell", url="sqlite://")
    assert result.exit_code == 2
    assert result.output == "Error: The database is in memory: there is nothing to open\n"
