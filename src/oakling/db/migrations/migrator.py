"""Alembic, driven from Python: no ``alembic.ini`` and no ``env.py`` in the project.

``Migrations(app)`` builds Alembic's configuration in memory: the script
location is oakling's own (an ``env.py`` that calls back into this module and
the template of revision files), the version locations are the folders of the
project's branches (see ``oakling.db.migrations.project``). One
``alembic_version`` table holds one row per branch head.

Autogenerate compares the models with the database once, then splits the
operations by the branch owning each table: one revision file per branch with
changes, a new branch starting at ``base`` with its label, and ``depends_on``
set to the head of every branch its new foreign keys point to, so that
``migrate`` creates referenced tables first. On SQLite operations are rendered
in batch mode (a table copy), so column renames and type changes work; the
migration engine there runs DDL inside real transactions, so a failed
migration leaves nothing half-applied (as on PostgreSQL; MySQL/MariaDB commit
each DDL statement).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from alembic import command
from alembic.autogenerate import produce_migrations
from alembic.config import Config
from alembic.operations import ops
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from oakling.db.engine import DEFAULT, databases, sync_url
from oakling.db.migrations.project import APP_LABEL, Branch, Project, project
from oakling.exceptions import OaklingError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from alembic.runtime.migration import MigrationInfo
    from alembic.script import Script
    from sqlalchemy.engine import URL, Connection, Engine

    from oakling.app import App

__all__ = (
    "SCRIPT_LOCATION",
    "VERSION_TABLE",
    "DatabaseUnavailable",
    "MigrationError",
    "Migrations",
    "NoMigrationsFolder",
    "Revision",
    "migrate",
)

SCRIPT_LOCATION = Path(__file__).parent / "_alembic"
"""oakling's Alembic script location: its ``env.py`` and ``script.py.mako``."""

VERSION_TABLE = "alembic_version"
"""The table recording which revision each branch is at."""

_CONNECT_TIMEOUT = {
    "psycopg": "connect_timeout",
    "pymysql": "connect_timeout",
    "pysqlite": "timeout",
}


class MigrationError(OaklingError):
    """A migration command failed; the message says why and what to do."""


class NoMigrationsFolder(MigrationError, FileNotFoundError):
    """The project has no ``migrations/`` folder yet (run ``oakling db init``)."""


class DatabaseUnavailable(MigrationError, ConnectionError):
    """The database did not answer; the message names it (without its password)."""


@dataclass(frozen=True)
class Revision:
    """One migration file, as ``history`` lists it.

    Attributes:
        id: The revision id.
        branch: The label of its branch (``app`` or a component's name).
        message: Its message (``-m``).
        down: The ids of the revisions it follows.
        depends_on: The ids of revisions of other branches it needs first.
        path: Its file.
        is_head: Whether it is the last of its branch.
    """

    id: str
    branch: str
    message: str
    down: tuple[str, ...]
    depends_on: tuple[str, ...]
    path: Path
    is_head: bool


@dataclass
class _Run:
    """What ``env.py`` needs for one Alembic command."""

    migrations: Migrations
    output: TextIO | None = None
    on_step: Callable[[str], None] | None = None
    connection: Connection | None = None
    context_opts: dict[str, Any] = field(default_factory=dict)


class Migrations:
    """The migrations of an app's project and components, on one database.

    Args:
        app: The app; its settings give the database URL.
        root: The project's folder (where ``migrations/`` lives); default: the
            current directory.
        database: The name of the database (``DATABASES``) to work on.
        url: A URL overriding the configured one (e.g. ``mssql://`` for offline SQL).
        app_module: The app's module name, to import its sibling ``models``.
        echo: Called with one line per applied or reverted revision.
    """

    def __init__(
        self,
        app: App,
        *,
        root: str | Path | None = None,
        database: str = DEFAULT,
        url: str | URL | None = None,
        app_module: str | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.project: Project = project(app, root, app_module=app_module)
        self.database = database
        self.url: URL = sync_url(url if url is not None else databases(app).url(database))
        self.echo = echo

    # -- configuration ---------------------------------------------------------------

    @property
    def directory(self) -> Path:
        """The project's own migrations folder."""
        return self.project.branch(APP_LABEL).directory

    def _locations(self) -> list[Path]:
        return [b.directory for b in self.project.branches if b.directory.is_dir()]

    def config(self, run: _Run | None = None) -> Config:
        """Alembic's ``Config`` for this project, built in memory.

        Raises:
            NoMigrationsFolder: The project's ``migrations/`` folder does not exist.
        """
        self._require_folder()
        # NOTE: quiet: the commands print their own lines, not Alembic's "Generating ...".
        config = Config(stdout=sys.stdout, cmd_opts=argparse.Namespace(quiet=True))
        config.set_main_option("script_location", _escape(str(SCRIPT_LOCATION)))
        config.set_main_option("path_separator", "os")
        config.set_main_option(
            "version_locations", os.pathsep.join(_escape(str(p)) for p in self._locations())
        )
        config.attributes["oakling"] = run if run is not None else _Run(self)
        return config

    def _require_folder(self) -> None:
        if not self.directory.is_dir():
            raise NoMigrationsFolder(
                f"No migrations folder at {self.directory}: run `oakling db init` first"
            )

    def script(self) -> ScriptDirectory:
        """Alembic's view of the revision files of every branch."""
        return ScriptDirectory.from_config(self.config())

    def engine(self) -> Engine:
        """A fresh engine for migration commands (no pool; real DDL transactions on SQLite)."""
        url = self.url
        driver = url.drivername.partition("+")[2]
        timeout = self.app.settings.db_connect_timeout
        key = _CONNECT_TIMEOUT.get(driver)
        connect_args: dict[str, Any] = {}
        if key is not None:
            connect_args[key] = timeout if driver == "pysqlite" else max(1, int(timeout))
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        if url.get_backend_name() == "sqlite":
            # NOTE: pysqlite commits before DDL by default; take over BEGIN so that
            # a failing migration (batch table copies included) rolls back whole.
            @event.listens_for(engine, "connect")
            def _no_implicit_commit(dbapi_connection: Any, record: Any) -> None:
                dbapi_connection.isolation_level = None

            @event.listens_for(engine, "begin")
            def _begin(connection: Connection) -> None:
                connection.exec_driver_sql("BEGIN")

        return engine

    def describe(self) -> str:
        """The database URL without its password."""
        return self.url.render_as_string(hide_password=True)

    # -- commands --------------------------------------------------------------------

    def init(self) -> Path:
        """Create the project's ``migrations/`` folder; return it.

        Raises:
            MigrationError: The folder already exists.
        """
        folder = self.directory
        if folder.exists():
            raise MigrationError(f"{folder} already exists: nothing to do")
        folder.mkdir(parents=True)
        (folder / "README").write_text(
            "Migrations of this project, one file per revision, written by\n"
            '`oakling db makemigrations -m "..."` and applied by `oakling db migrate`.\n'
            "Review each file before committing it: renames show up as a drop and an add.\n"
        )
        return folder

    def make(
        self, message: str, *, component: str | None = None, empty: bool = False
    ) -> list[Revision]:
        """Write a revision per branch whose models differ from the database.

        Args:
            message: The revision's message.
            component: Only this branch (a component's name, or ``app``).
            empty: Write an empty revision for ``component`` (default ``app``)
                without comparing, e.g. for a data migration.

        Returns:
            The new revisions, dependencies first; empty when nothing changed.

        Raises:
            MigrationError: The database is not at the latest revisions, or the
                database is unreachable.
        """
        self._require_folder()
        only = self.project.branch(component) if component is not None else None
        if empty:
            only = only or self.project.branch(APP_LABEL)
        wanted = [only] if only is not None else list(self.project.branches)
        created = [b.directory for b in wanted if not b.directory.exists()]
        for folder in created:
            folder.mkdir(parents=True)
        labels: dict[str, str] = {}
        try:
            with self._errors():
                if empty and only is not None:
                    made = self._make_empty(message, only)
                    labels[made.revision] = only.label
                    scripts: list[Script | None] = [made]
                else:
                    scripts = self._autogenerate(message, wanted, labels)
        finally:
            for folder in created:
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        return [
            Revision(
                id=s.revision,
                branch=labels.get(s.revision, APP_LABEL),
                message=message,
                down=_as_tuple(s.down_revision),
                depends_on=_as_tuple(s.dependencies),
                path=Path(s.path),
                is_head=True,
            )
            for s in scripts
            if s is not None
        ]

    def _autogenerate(
        self, message: str, wanted: list[Branch], labels: dict[str, str]
    ) -> list[Script | None]:
        script = self.script()

        def split(context: MigrationContext, rev: Any, directives: list[Any]) -> None:
            found: list[Any] = directives[0].upgrade_ops_list[0].ops
            directives[:] = self._split(script, message, found, wanted)
            labels.update(
                (d.rev_id, d.branch_label or d.head.partition("@")[0]) for d in directives
            )

        made = command.revision(
            self.config(), message, autogenerate=True, process_revision_directives=split
        )
        return made if isinstance(made, list) else [made]

    def _make_empty(self, message: str, branch: Branch) -> Script:
        script = self.script()
        has = _branch_head(script, branch.label)
        made = command.revision(
            self.config(),
            message,
            head=f"{branch.label}@head" if has else "base",
            branch_label=None if has else branch.label,
            version_path=str(branch.directory),
        )
        if not isinstance(made, list) and made is not None:
            return made
        raise MigrationError("Alembic wrote no revision")  # pragma: no cover

    def _split(
        self,
        script: ScriptDirectory,
        message: str,
        found: list[Any],
        wanted: list[Branch],
    ) -> list[ops.MigrationScript]:
        by_branch: dict[str, list[Any]] = {}
        for op in found:
            owner = self.project.owner(_table_key(op)) or self.project.branch(APP_LABEL)
            by_branch.setdefault(owner.label, []).append(op)
        made: dict[str, str] = {}
        scripts: list[ops.MigrationScript] = []
        for branch in self.project.ordered(wanted):
            branch_ops = by_branch.get(branch.label)
            if not branch_ops:
                continue
            head = _branch_head(script, branch.label)
            rev_id = _new_rev_id(made)
            depends = []
            tables = {_table_key(op) for op in branch_ops}
            for other in self.project.dependencies(branch, tables):
                dep = made.get(other.label) or _branch_head(script, other.label)
                if dep is None:
                    raise MigrationError(
                        f"Tables of {branch.label!r} refer to tables of {other.label!r}, "
                        f"which has no migration yet: run `oakling db makemigrations "
                        f"--component {other.label}` first"
                    )
                depends.append(dep)
            upgrade = ops.UpgradeOps(ops=branch_ops)
            scripts.append(
                ops.MigrationScript(
                    rev_id=rev_id,
                    message=message,
                    upgrade_ops=upgrade,
                    downgrade_ops=upgrade.reverse(),
                    head=f"{branch.label}@head" if head else "base",
                    branch_label=None if head else branch.label,
                    version_path=str(branch.directory),
                    depends_on=depends or None,
                )
            )
            made[branch.label] = rev_id
        return scripts

    def upgrade(self, revision: str = "heads", *, sql: bool = False) -> None:
        """Apply migrations up to ``revision`` (default: every branch's head).

        ``revision`` may be a component's name (its head), ``blog@+1``, a
        revision id or ``heads``. With ``sql``, print the SQL instead (offline:
        no database needed).
        """
        run = _Run(self, output=sys.stdout, on_step=self.echo)
        with self._errors():
            command.upgrade(self.config(run), self._target(revision), sql=sql)

    def downgrade(self, revision: str, *, sql: bool = False) -> None:
        """Revert migrations down to ``revision`` (``base``, ``blog@-1``, an id...)."""
        run = _Run(self, output=sys.stdout, on_step=self.echo)
        with self._errors():
            command.downgrade(self.config(run), self._target(revision, down=True), sql=sql)

    def _target(self, revision: str, *, down: bool = False) -> str:
        labels = {b.label for b in self.project.branches}
        if revision in labels:
            return f"{revision}@base" if down else f"{revision}@head"
        if revision == "head":
            return "heads"
        return revision

    def history(self) -> list[Revision]:
        """Every revision, branch by branch (dependencies first), oldest first."""
        script = self.script()
        revisions = list(script.walk_revisions("base", "heads"))
        revisions.reverse()
        order = {b.label: i for i, b in enumerate(self.project.ordered())}
        rows = [
            Revision(
                id=rev.revision,
                branch=_label_of(rev.branch_labels),
                message=(rev.doc or "").strip(),
                down=tuple(_as_tuple(rev.down_revision)),
                depends_on=tuple(_as_tuple(rev.dependencies)),
                path=Path(rev.path),
                is_head=rev.is_head,
            )
            for rev in revisions
        ]
        rows.sort(key=lambda r: order.get(r.branch, len(order)))
        return rows

    def _db_heads(self) -> tuple[str, ...]:
        with self._errors(), self.engine().connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_heads()

    def current(self) -> dict[str, str]:
        """The applied revision of each branch: ``{"app": "1a2b...", "blog": ...}``.

        Raises:
            MigrationError: The database records a revision no file has.
        """
        script = self.script()
        applied: dict[str, Any] = {}
        todo = list(self._db_heads())
        while todo:
            rev_id = todo.pop()
            if rev_id in applied:
                continue
            try:
                rev = script.get_revision(rev_id)
            except CommandError:
                rev = None
            if rev is None:
                raise MigrationError(
                    f"The database is at revision {rev_id}, which no migration file has: "
                    "restore the file, or `oakling db downgrade` with the code that wrote it"
                )
            applied[rev_id] = rev
            # NOTE: Alembic keeps only the last revision of a chain in the version table,
            # and a revision that others depend on counts as part of their chain.
            todo.extend(rev._all_down_revisions)
        found: dict[str, str] = {}
        for rev_id, rev in applied.items():
            label = _label_of(rev.branch_labels)
            children = [applied.get(child) for child in rev.nextrev]
            if not any(c is not None and _label_of(c.branch_labels) == label for c in children):
                found[label] = rev_id
        return dict(sorted(found.items()))

    def pending(self) -> list[str]:
        """The revisions not applied yet, in the order ``upgrade`` applies them."""
        script = self.script()
        heads = self._db_heads()
        with self._errors():
            steps = script._upgrade_revs("heads", cast("Any", heads))
        return [step.revision.revision for step in steps]

    def check(self) -> list[str]:
        """Compare the models with the database; one line per difference.

        Raises:
            MigrationError: Migrations are pending (the database would not be
                a fair comparison): run ``migrate`` first.
        """
        pending = self.pending()
        if pending:
            raise MigrationError(
                f"The database is not up to date ({len(pending)} revision(s) to apply: "
                f"{', '.join(pending)}): run `oakling db migrate`, then check again"
            )
        found: list[str] = []
        config = self.config()
        script = ScriptDirectory.from_config(config)

        def compare(rev: Any, context: MigrationContext) -> list[Any]:
            upgrade_ops = produce_migrations(context, self.project.metadata).upgrade_ops
            if upgrade_ops is not None:
                found.extend(self._describe(upgrade_ops.ops))
            return []

        with self._errors(), EnvironmentContext(config, script, fn=compare):
            script.run_env()
        return found

    def _describe(self, found: Sequence[Any]) -> Iterator[str]:
        for op in found:
            owner = self.project.owner(_table_key(op))
            label = owner.label if owner is not None else APP_LABEL
            if isinstance(op, ops.ModifyTableOps):
                for inner in op.ops:
                    yield f"{label}: {_describe_op(inner)}"
            else:
                yield f"{label}: {_describe_op(op)}"

    # -- errors ----------------------------------------------------------------------

    def _errors(self) -> _ErrorContext:
        return _ErrorContext(self)


class _ErrorContext:
    """Turn Alembic's and the driver's errors into one-line ``MigrationError``s."""

    def __init__(self, migrations: Migrations) -> None:
        self.migrations = migrations

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, MigrationError):
            return
        if isinstance(exc, CommandError | RevisionError):
            raise MigrationError(_command_message(str(exc))) from exc
        if isinstance(exc, DBAPIError) and exc.connection_invalidated is False:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            if _is_connect_error(exc):
                raise DatabaseUnavailable(
                    f"Cannot connect to the database {self.migrations.describe()}: {reason}. "
                    "Is the server running? Check DATABASE_URL"
                ) from exc
            raise MigrationError(f"The database refused a statement: {reason}") from exc


def _is_connect_error(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return any(
        word in text
        for word in (
            "connection refused",
            "can't connect",
            "could not connect",
            "connection failed",
            "unable to open database",
            "unknown database",
            "does not exist",
            "timeout",
            "timed out",
            "name or service not known",
        )
    ) and not getattr(exc, "statement", None)


def _command_message(text: str) -> str:
    if "Can't locate revision" in text or "No such revision" in text:
        return f"{text.rstrip('.')}: see `oakling db history` for the revisions"
    if "Target database is not up to date" in text:
        return "The database is not at the latest revisions: run `oakling db migrate` first"
    if "Multiple head" in text:
        return f"{text.rstrip('.')}: name a branch, e.g. `blog@head`, or use `heads`"
    return text


def _escape(text: str) -> str:
    return text.replace("%", "%%")


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _label_of(labels: Any) -> str:
    found = sorted(labels or ())
    return found[0] if found else APP_LABEL


def _branch_head(script: ScriptDirectory, label: str) -> str | None:
    # NOTE: not get_revisions("heads"): a head that another branch depends on is no
    # longer one of Alembic's heads.
    for rev in script.walk_revisions():
        if label in (rev.branch_labels or ()) and rev.is_head:
            return rev.revision
    return None


def _new_rev_id(taken: dict[str, str]) -> str:
    from alembic.util import rev_id

    while True:
        new = rev_id()
        if new not in taken.values():
            return new


def _table_key(op: Any) -> str:
    name = getattr(op, "table_name", None) or ""
    schema = getattr(op, "schema", None)
    return f"{schema}.{name}" if schema else name


def _describe_op(op: Any) -> str:
    table = _table_key(op)
    if isinstance(op, ops.CreateTableOp):
        return f"table {table} has no migration (add it)"
    if isinstance(op, ops.DropTableOp):
        return f"table {table} is in the database but not in the models (drop it)"
    if isinstance(op, ops.AddColumnOp):
        return f"column {table}.{op.column.name} has no migration (add it)"
    if isinstance(op, ops.DropColumnOp):
        return f"column {table}.{op.column_name} is not in the models (drop it)"
    if isinstance(op, ops.AlterColumnOp):
        return f"column {table}.{op.column_name} changed: {_alterations(op)}"
    name = getattr(op, "constraint_name", None) or getattr(op, "index_name", None) or "?"
    if isinstance(op, ops.AddConstraintOp | ops.CreateIndexOp):
        return f"{_kind(op)} {name} on {table} has no migration (add it)"
    if isinstance(op, ops.DropConstraintOp | ops.DropIndexOp):
        return f"{_kind(op)} {name} on {table} is not in the models (drop it)"
    return f"{type(op).__name__} on {table}"


def _kind(op: Any) -> str:
    return "index" if isinstance(op, ops.CreateIndexOp | ops.DropIndexOp) else "constraint"


def _alterations(op: ops.AlterColumnOp) -> str:
    changes = []
    if op.modify_type is not None:
        changes.append(f"type {op.existing_type} -> {op.modify_type}")
    if op.modify_nullable is not None:
        changes.append("nullable" if op.modify_nullable else "not null")
    if op.modify_server_default is not False:
        changes.append(f"server default -> {op.modify_server_default}")
    if op.modify_comment is not False:
        changes.append("comment")
    return ", ".join(changes) or "altered"


def run_environment() -> None:
    """Configure Alembic's context and run the migrations (called by ``env.py``)."""
    from alembic import context

    run: _Run = context.config.attributes["oakling"]
    migrations = run.migrations
    project = migrations.project
    owned = project.tables

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "table":
            return name != VERSION_TABLE
        return True

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        if type_ == "table" and not reflected:
            return bool(obj.key in owned)
        return True

    def on_version_apply(ctx: Any, step: MigrationInfo, heads: Any, run_args: Any) -> None:
        if run.on_step is None or context.is_offline_mode():
            return
        ids = step.up_revision_ids
        revision = step.up_revision
        label = _label_of(getattr(revision, "branch_labels", None))
        doc = (getattr(revision, "doc", "") or "").strip()
        verb = "Applied" if step.is_upgrade else "Reverted"
        run.on_step(f"{verb} {label} {', '.join(ids)}: {doc}")

    options: dict[str, Any] = {
        "target_metadata": project.metadata,
        "include_name": include_name,
        "include_object": include_object,
        "compare_type": True,
        "render_as_batch": migrations.url.get_backend_name() == "sqlite",
        "version_table": VERSION_TABLE,
        "on_version_apply": on_version_apply,
        **run.context_opts,
    }
    if context.is_offline_mode():
        context.configure(
            url=migrations.url,
            literal_binds=True,
            dialect_opts={"paramstyle": "named"},
            output_buffer=run.output or sys.stdout,
            **options,
        )
        # NOTE: Alembic inserts the version as a literal column, so SQLAlchemy adds
        # RETURNING for the key; Oracle's form (RETURNING ... INTO :bind) breaks scripts.
        context.get_context()._version.implicit_returning = False
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = migrations.engine()
    try:
        with engine.connect() as connection:
            if migrations.url.get_backend_name() == "sqlite":
                # NOTE: real on this engine (see Migrations.engine); Alembic assumes not.
                options["transactional_ddl"] = True
            context.configure(connection=connection, **options)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def migrate(
    app: App,
    revision: str = "heads",
    *,
    root: str | Path | None = None,
    database: str = DEFAULT,
) -> None:
    """Apply the project's and components' migrations to ``database``.

    Args:
        app: The app.
        revision: How far: ``heads`` (default), a component's name, a revision id.
        root: The project's folder (default: the current directory).
        database: Which of the configured databases.

    Raises:
        MigrationError: A migration failed (and was rolled back where the
            database allows), the revision is unknown, or there is no
            ``migrations/`` folder.
    """
    Migrations(app, root=root, database=database).upgrade(revision)
