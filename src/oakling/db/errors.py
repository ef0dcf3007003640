"""Database errors as HTTP answers: a violated constraint is a 409, a lost database a 503.

``oakling.db`` registers these translations when imported (``register_http_translation``):

* ``IntegrityError`` (unique, foreign key, not null, check) → ``Conflict`` 409 whose
  message names the table and the columns. The request's transaction is rolled back,
  so nothing the handler wrote is kept.
* The database is unreachable or the connection was lost (``DBAPIError`` flagged as a
  disconnect, a failed connect) or no pooled connection came free in time (pool
  ``TimeoutError``) → ``ServiceUnavailable`` 503 with ``Retry-After`` (the
  ``DB_RETRY_AFTER`` setting), logged as a warning. The body has no SQL and no trace.

An ``errorhandler`` for the SQLAlchemy class still wins over these.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from oakling.config import Settings
from oakling.exceptions import Conflict, HTTPError, ServiceUnavailable, register_http_translation

__all__ = ("Violation", "describe_integrity_error", "install", "translate", "violation_message")

logger = logging.getLogger("oakling.db")

_DEFAULT_RETRY_AFTER = Settings.db_retry_after

# MySQL/MariaDB client error codes meaning "no connection": can't connect (2002, 2003,
# 2005), gone away (2006), lost (2013), killed (1927), shutting down (1053), too many (1040).
_MYSQL_UNAVAILABLE = frozenset({1040, 1053, 1927, 2002, 2003, 2005, 2006, 2013, 2055})


@dataclass(frozen=True, slots=True)
class Violation:
    """What an ``IntegrityError`` says: which kind of constraint, on what."""

    kind: str
    """``"unique"``, ``"foreign_key"``, ``"referenced"`` (a row still pointed to),
    ``"not_null"``, ``"check"`` or ``"unknown"``."""
    table: str | None = None
    columns: tuple[str, ...] = ()
    constraint: str | None = None


_PG_KINDS = {"23505": "unique", "23503": "foreign_key", "23502": "not_null", "23514": "check"}
_PG_KEY = re.compile(r"Key \((?P<cols>[^)]*)\)=")
_MYSQL_FK = re.compile(
    r"\(`[^`]*`\.`(?P<table>[^`]+)`, CONSTRAINT `(?P<name>[^`]+)` FOREIGN KEY \((?P<cols>[^)]*)\)"
)
_MYSQL_KEY = re.compile(r"for key '(?:[^'.]*\.)?(?P<name>[^']+)'")
_MYSQL_COLUMN = re.compile(r"Column '(?P<col>[^']+)'")
_SQLITE = re.compile(r"(?P<kind>UNIQUE|NOT NULL|CHECK) constraint failed: (?P<what>.+)$")
_STATEMENT_TABLE = re.compile(
    r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[`\"\[]?(?P<table>[\w.]+)", re.IGNORECASE
)


def _columns(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip('`"') for part in text.split(",") if part.strip())


def describe_integrity_error(exc: DBAPIError) -> Violation:
    """Read the kind, table, columns and constraint name from ``exc`` (every backend)."""
    orig: Any = exc.orig
    statement_table = None
    match = _STATEMENT_TABLE.match(exc.statement or "")
    if match:
        statement_table = match["table"].split(".")[-1]
    found = _postgres(orig) or _mysql(orig, statement_table) or _sqlite(orig, statement_table)
    found = found or Violation("unknown", statement_table)
    if found.kind == "referenced" and statement_table:  # servers name the referring table
        found = Violation(found.kind, statement_table, (), found.constraint)
    if found.constraint and not found.columns:
        found = _from_constraint_name(found)
    return found


def _postgres(orig: Any) -> Violation | None:
    diag = getattr(orig, "diag", None)  # psycopg
    source: Any = diag
    if diag is not None:
        code, detail = getattr(orig, "sqlstate", None), diag.message_detail
    else:  # asyncpg, wrapped by SQLAlchemy's adapter
        source = orig.__cause__
        code = getattr(orig, "pgcode", None) or getattr(source, "sqlstate", None)
        detail = getattr(source, "detail", None)
    if not isinstance(code, str) or not code.startswith("23") or source is None:
        return None
    kind = _PG_KINDS.get(code, "unknown")
    if kind == "foreign_key" and "still referenced" in (detail or ""):
        kind = "referenced"
    column = getattr(source, "column_name", None)
    key = _PG_KEY.search(detail or "")
    columns = (column,) if column else (_columns(key["cols"]) if key else ())
    return Violation(
        kind, getattr(source, "table_name", None), columns, getattr(source, "constraint_name", None)
    )


def _mysql(orig: Any, table: str | None) -> Violation | None:
    args: tuple[Any, ...] = getattr(orig, "args", ())
    if len(args) != 2 or not isinstance(args[0], int):
        return None
    code, message = args
    if code in (1062, 1586):
        key = _MYSQL_KEY.search(message)
        name = key["name"] if key else None
        if name == "PRIMARY":
            return Violation("unique", table, ("primary key",), name)
        return Violation("unique", table, (), name)
    if code in (1451, 1452, 1216, 1217):
        kind = "referenced" if code in (1451, 1217) else "foreign_key"
        fk = _MYSQL_FK.search(message)
        if fk is None:
            return Violation(kind, table)
        if kind == "referenced":  # the message names the referencing table, not ours
            return Violation(kind, table, (), fk["name"])
        return Violation(kind, fk["table"], _columns(fk["cols"]), fk["name"])
    if code in (1048, 1364):
        column = _MYSQL_COLUMN.search(message)
        if column is None:
            column = re.search(r"Field '(?P<col>[^']+)'", message)
        return Violation("not_null", table, (column["col"],) if column else ())
    if code in (3819, 4025):
        name = re.search(r"constraint [`'](?:[^'`.]*\.)?(?P<name>[^'`]+)[`']", message, re.I)
        return Violation("check", table, (), name["name"] if name else None)
    return Violation("unknown", table)


def _sqlite(orig: Any, table: str | None) -> Violation | None:
    message = str(orig)
    if "FOREIGN KEY constraint failed" in message:
        return Violation("foreign_key", table)  # SQLite does not say which side failed
    match = _SQLITE.search(message)
    if match is None:
        return None
    kind = {"UNIQUE": "unique", "NOT NULL": "not_null", "CHECK": "check"}[match["kind"]]
    if kind == "check":
        return Violation(kind, table, (), match["what"])
    pairs = [part.strip().split(".", 1) for part in match["what"].split(",")]
    return Violation(kind, pairs[0][0], tuple(pair[-1] for pair in pairs))


def _from_constraint_name(found: Violation) -> Violation:
    # NOTE: the naming convention (oakling.db.models) makes names like uq_<table>_<cols>:
    # find the constraint in the models' metadata, else strip the known prefix.
    from oakling.db.models import Model

    name = found.constraint or ""
    tables: list[Any] = [mapper.local_table for mapper in Model.registry.mappers]
    for table in [*Model.metadata.tables.values(), *tables]:
        for constraint in getattr(table, "constraints", ()):
            if constraint.name == name:
                columns = tuple(column.name for column in getattr(constraint, "columns", ()))
                return Violation(found.kind, found.table or str(table.name), columns, name)
    if found.table and name.startswith(f"uq_{found.table}_"):
        return Violation(found.kind, found.table, (name[len(found.table) + 4 :],), name)
    return found


def violation_message(violation: Violation) -> str:
    """A message for the client naming what conflicted (no values, no SQL)."""
    table = violation.table or "record"
    columns = " and ".join(violation.columns)
    kind = violation.kind
    if kind == "unique":
        if columns:
            article = "An" if table[:1].lower() in "aeiou" else "A"
            return f"{article} {table} with this {columns} already exists."
        return f"This {table} conflicts with an existing one ({violation.constraint or 'unique'})."
    if kind == "foreign_key":
        if columns:
            return f"{table}.{columns} refers to a record that does not exist."
        return (
            f"This {table} refers to a record that does not exist, or is still referred to "
            "by other records (foreign key)."
        )
    if kind == "referenced":
        return f"This {table} is still referred to by other records and cannot be removed."
    if kind == "not_null":
        return f"{table}.{columns or 'a column'} is required and cannot be empty (null)."
    if kind == "check":
        return f"This {table} breaks the rule {violation.constraint or '(check constraint)'}."
    return f"This {table} conflicts with the data already stored."


_MYSQL_CHECK = frozenset({3819, 4025})  # MariaDB reports a failed CHECK as OperationalError


def _mysql_code(exc: BaseException) -> int | None:
    args: tuple[Any, ...] = getattr(getattr(exc, "orig", None), "args", ())
    return args[0] if len(args) == 2 and isinstance(args[0], int) else None


def _retry_after(exc: BaseException) -> int:
    value = getattr(exc, "oakling_retry_after", None)
    return value if isinstance(value, int) else _DEFAULT_RETRY_AFTER


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached right now."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or _mysql_code(exc) in _MYSQL_UNAVAILABLE


def translate(exc: BaseException) -> HTTPError | None:
    """The HTTP error ``exc`` (a SQLAlchemy error) means, or ``None`` (a 500)."""
    if isinstance(exc, DBAPIError) and (
        isinstance(exc, IntegrityError) or _mysql_code(exc) in _MYSQL_CHECK
    ):
        return Conflict(violation_message(describe_integrity_error(exc)))
    if is_unavailable(exc):
        orig = getattr(exc, "orig", None) or exc
        first_line = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
        logger.warning(
            "Database unavailable, answering 503: %s: %s", type(orig).__name__, first_line[:300]
        )
        return ServiceUnavailable(
            "The database is unavailable at the moment; please try again shortly.",
            retry_after=_retry_after(exc),
        )
    return None


def install() -> None:
    """Register the translations (done when ``oakling.db`` is imported)."""
    register_http_translation(DBAPIError, translate)
    register_http_translation(PoolTimeoutError, translate)
