"""``oakling db``: migrations, fixtures and the database's own shell.

Every command finds the app like the other commands do, works on the default
database or the one named by ``--database``, and reports failures as one line
saying what to do (exit code 2), never a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from oakling.cli._context import CLIError, ScriptInfo, app_option, pass_info
from oakling.exceptions import ConfigurationError, MissingDependency, OaklingError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from oakling.db.migrations import Migrations

__all__ = ("db",)

F = TypeVar("F", bound=Callable[..., Any])


def database_option(f: F) -> F:
    """Add ``--database NAME`` (a name from the ``DATABASES`` setting)."""
    return click.option(
        "--database",
        "database",
        default="default",
        show_default=True,
        metavar="NAME",
        help="Which database: `default` (DATABASE_URL) or a name from DATABASES.",
    )(f)


def _location(info: ScriptInfo) -> tuple[Path, str | None]:
    """The app's folder and module name."""
    spec = info.load().target.rpartition(":")[0]
    if spec.endswith(".py") or "/" in spec or os.sep in spec:
        path = Path(spec).resolve()
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and Path(file).resolve() == path:
                return path.parent, name
        return path.parent, None
    file = getattr(sys.modules.get(spec), "__file__", None)
    return (Path(file).resolve().parent if file else Path.cwd()), spec


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (OaklingError, ConfigurationError) as exc:
        raise CLIError(str(exc)) from None


def _migrations(info: ScriptInfo, database: str, url: str | None = None) -> Migrations:
    app = info.load_app()
    try:
        from oakling.db.migrations import Migrations
    except MissingDependency as exc:
        raise CLIError(str(exc)) from None
    root, module = _location(info)
    with _errors():
        return Migrations(
            app, root=root, database=database, url=url, app_module=module, echo=click.echo
        )


_EPILOG = """\b
First time:    oakling db init
After a model change:
               oakling db makemigrations -m "add author.born"
               oakling db migrate
In CI:         oakling db migrate && oakling db check"""


@click.group(epilog=_EPILOG)
def db() -> None:
    """Migrations, fixtures and the database shell (oakling[db])."""


@db.command()
@app_option
@database_option
@pass_info
def init(info: ScriptInfo, database: str) -> None:
    """Create the project's migrations/ folder next to the app."""
    migrations = _migrations(info, database)
    with _errors():
        folder = migrations.init()
    click.echo(f"Created {folder}")
    click.echo('Next: oakling db makemigrations -m "create tables", then oakling db migrate')


@db.command()
@app_option
@database_option
@click.option("-m", "--message", required=True, help="What the migration does.")
@click.option(
    "--component",
    metavar="NAME",
    help="Only this component's models (`app` for the project's own).",
)
@click.option("--empty", is_flag=True, help="Write an empty migration (e.g. to move data).")
@pass_info
def makemigrations(
    info: ScriptInfo, database: str, message: str, component: str | None, empty: bool
) -> None:
    """Write migrations for what changed in the models.

    Compares the models with the database (which must be up to date) and
    writes one file per component with changes. Review them: a renamed column
    shows up as a drop and an add; use op.alter_column(new_column_name=...) to
    keep its data.
    """
    migrations = _migrations(info, database)
    with _errors():
        scripts = migrations.make(message, component=component, empty=empty)
    if not scripts:
        click.echo("No changes detected.")
        return
    for revision in scripts:
        click.echo(f"Wrote {revision.branch} {revision.id}: {revision.path}")
        _warn_drops(revision.path)


def _warn_drops(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    upgrade = text.partition("def upgrade")[2].partition("def downgrade")[0]
    if "drop_column" in upgrade and "add_column" in upgrade:
        click.secho(
            "  note: it drops and adds columns; if that is a rename, edit it to use "
            "alter_column(..., new_column_name=...) or the data is lost",
            fg="yellow",
        )


@db.command()
@app_option
@database_option
@click.argument("revision", default="heads")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (offline).")
@click.option("--url", metavar="URL", help="With --sql: the kind of database, e.g. mssql://.")
@pass_info
def migrate(info: ScriptInfo, database: str, revision: str, sql: bool, url: str | None) -> None:
    """Apply migrations up to REVISION (default: all of them).

    REVISION may be a component's name (its latest revision), `blog@+1`,
    a revision id or `heads`.
    """
    if url is not None and not sql:
        raise CLIError("--url only goes with --sql (offline SQL for that kind of database)")
    migrations = _migrations(info, database, url)
    with _errors():
        before = None if sql else migrations.current()
        migrations.upgrade(revision, sql=sql)
    if not sql and before == migrations.current():
        click.echo("Nothing to apply: the database is up to date.")


@db.command()
@app_option
@database_option
@click.argument("revision")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (offline).")
@pass_info
def downgrade(info: ScriptInfo, database: str, revision: str, sql: bool) -> None:
    """Revert migrations down to REVISION.

    REVISION: a revision id, `blog@-1` (one step of a component), a
    component's name (all of its migrations) or `base` (everything).
    """
    migrations = _migrations(info, database)
    with _errors():
        migrations.downgrade(revision, sql=sql)


@db.command()
@app_option
@database_option
@pass_info
def history(info: ScriptInfo, database: str) -> None:
    """List the migrations, component by component, oldest first."""
    migrations = _migrations(info, database)
    with _errors():
        revisions = migrations.history()
    if not revisions:
        click.echo('No migrations yet: run oakling db makemigrations -m "..."')
        return
    for rev in revisions:
        extra = []
        if rev.depends_on:
            extra.append(f"depends on {', '.join(rev.depends_on)}")
        if rev.is_head:
            extra.append("head")
        suffix = f"  ({'; '.join(extra)})" if extra else ""
        click.echo(f"{rev.branch:<12} {rev.id}  {rev.message}{suffix}")


@db.command()
@app_option
@database_option
@pass_info
def current(info: ScriptInfo, database: str) -> None:
    """Show the revision each component's tables are at in the database."""
    migrations = _migrations(info, database)
    with _errors():
        found = migrations.current()
        pending = migrations.pending()
    if not found:
        click.echo("No migration applied yet.")
    for label, rev in sorted(found.items()):
        click.echo(f"{label:<12} {rev}")
    if pending:
        click.echo(f"{len(pending)} migration(s) to apply: run oakling db migrate")


@db.command(name="check")
@app_option
@database_option
@pass_info
def check_command(info: ScriptInfo, database: str) -> None:
    """Exit with 1 when the models and the migrations disagree (for CI).

    The database must be up to date (run `oakling db migrate` first); each
    difference is listed with the component it belongs to.
    """
    migrations = _migrations(info, database)
    try:
        differences = migrations.check()
    except OaklingError as exc:
        click.secho(f"Error: {exc}", fg="red", err=True)
        raise click.exceptions.Exit(1) from None
    if not differences:
        click.echo("The models and the migrations agree.")
        return
    click.echo("The models differ from the migrations:")
    for line in differences:
        click.echo(f"  {line}")
    click.echo('Run oakling db makemigrations -m "..." and review the new file(s).')
    raise click.exceptions.Exit(1)


@db.command()
@app_option
@database_option
@click.argument("models", nargs=-1, metavar="[MODEL]...")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (default: stdout)."
)
@pass_info
def dump(info: ScriptInfo, database: str, models: tuple[str, ...], output: str | None) -> None:
    """Write the rows of MODELs (default: all) as JSON fixtures.

    A model is `Author` or, when two components have one, `blog.Author`.
    """
    from oakling.db.fixtures import dumps

    migrations = _migrations(info, database)
    with _errors(), migrations._errors():
        data = dumps(migrations.project, migrations.engine(), list(models))
    if output is None:
        click.echo(data, nl=False)
    else:
        Path(output).write_text(data, encoding="utf-8")


@db.command()
@app_option
@database_option
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@pass_info
def load(info: ScriptInfo, database: str, file: str) -> None:
    """Load JSON fixtures from FILE (`-` for stdin) in one transaction.

    Rows whose primary key exists are updated. If any record is wrong nothing
    is written, and the error names the record (its index, from 0) and why.
    """
    from oakling.db.fixtures import loads

    migrations = _migrations(info, database)
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise CLIError(f"Cannot read {file}: {exc.strerror}") from None
    with _errors(), migrations._errors():
        count = loads(migrations.project, migrations.engine(), data, source=file)
    click.echo(f"Loaded {count} record(s) from {file}.")


@db.command(name="shell")
@app_option
@database_option
@pass_info
def shell_command(info: ScriptInfo, database: str) -> None:
    """Open the database's own client (psql, mariadb, sqlite3) on it.

    The password, if any, is passed in an environment variable, not on the
    command line. Input may be piped: `echo 'select 1;' | oakling db shell`.
    """
    migrations = _migrations(info, database)
    argv, env = client_command(migrations.url)
    if shutil.which(argv[0]) is None:
        raise CLIError(f"{argv[0]} is not installed (e.g. apt-get install {_PACKAGES[argv[0]]})")
    env = {**os.environ, **env}
    sys.stdout.flush()
    if os.name == "posix":
        os.execvpe(argv[0], argv, env)  # NOTE: the client replaces this process
    raise click.exceptions.Exit(subprocess.call(argv, env=env))  # pragma: no cover


_PACKAGES = {"psql": "postgresql-client", "mariadb": "mariadb-client", "sqlite3": "sqlite3"}


def client_command(url: URL) -> tuple[list[str], dict[str, str]]:
    """The client's argv and the environment variables (password) for ``url``.

    Raises:
        CLIError: The kind of database has no supported client, or an SQLite
            database lives in memory.
    """
    backend = url.get_backend_name()
    env: dict[str, str] = {}
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise CLIError("The database is in memory: there is nothing to open")
        return ["sqlite3", url.database], env
    if backend == "postgresql":
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        argv = ["psql", *_flags(url, "-h", "-p", "-U")]
        return [*argv, "-d", url.database] if url.database else argv, env
    if backend in ("mysql", "mariadb"):
        if url.password:
            env["MYSQL_PWD"] = str(url.password)
        client = "mariadb" if shutil.which("mariadb") or not shutil.which("mysql") else "mysql"
        argv = [client, *_flags(url, "-h", "-P", "-u")]
        return [*argv, url.database] if url.database else argv, env
    raise CLIError(
        f"`oakling db shell` does not know the client of {backend!r} databases; "
        "it knows PostgreSQL (psql), MySQL/MariaDB (mariadb) and SQLite (sqlite3)"
    )


def _flags(url: URL, host: str, port: str, user: str) -> list[str]:
    values = ((host, url.host), (port, url.port), (user, url.username))
    return [part for flag, value in values if value for part in (flag, str(value))]
