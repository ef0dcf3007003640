"""Fixtures: the rows of the project's models as JSON, and back.

``dump`` writes a list of records, one per row, in a stable order (tables
with their foreign-key targets first, rows by primary key)::

    [{"model": "app.Author", "pk": 1, "fields": {"name": "Ada", "born": "1815-12-10"}}]

``model`` is the branch label (``app`` for the project, else the component's
name) and the class name; ``pk`` is the primary key (a list when composite);
``fields`` holds every other column by attribute name. Values that JSON has no
type for are written as text and read back by the column's type: dates and
times in ISO 8601, UUIDs, decimals as strings, bytes in base64, enums by name,
intervals as seconds.

``load`` checks every record first (model, fields, types), then writes them in
one transaction, referenced tables first: a row whose primary key exists is
updated, others are inserted. Any error rolls everything back and raises a
``FixtureError`` naming the record (its index in the file, from 0), its model,
its primary key and the reason. On PostgreSQL the sequences of integer
primary keys are moved past the loaded ids.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    Interval,
    LargeBinary,
    Numeric,
    String,
    Time,
    Uuid,
    func,
    select,
    text,
)
from sqlalchemy import Enum as EnumType
from sqlalchemy.exc import DBAPIError, IntegrityError

from oakling.exceptions import OaklingError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sqlalchemy import Column, Table
    from sqlalchemy.engine import Connection, Engine

    from oakling.db.migrations.project import Project
    from oakling.db.models import Model

__all__ = ("FixtureError", "ModelInfo", "dump", "dumps", "load", "loads", "models_of")


class FixtureError(OaklingError, ValueError):
    """A fixture could not be loaded; nothing was written.

    Attributes:
        index: The record's index in the file (from 0), ``None`` for the file itself.
        model: The record's model label, when known.
        pk: The record's primary key, when known.
        reason: Why, in words.
    """

    def __init__(
        self, reason: str, *, index: int | None = None, model: str | None = None, pk: Any = None
    ) -> None:
        self.index, self.model, self.pk, self.reason = index, model, pk, reason
        where = []
        if index is not None:
            where.append(f"record {index}")
        if model is not None:
            where.append(model)
        if pk is not None:
            where.append(f"pk={pk!r}")
        prefix = f"{where[0]} ({', '.join(where[1:])}): " if len(where) > 1 else ""
        if len(where) == 1:
            prefix = f"{where[0]}: "
        super().__init__(prefix + reason)


@dataclass(frozen=True)
class ModelInfo:
    """A model as fixtures see it: its label, table and columns by attribute name."""

    label: str
    model: type[Model]
    table: Table
    columns: dict[str, Column[Any]]
    pk: tuple[str, ...]


def models_of(project: Project) -> dict[str, ModelInfo]:
    """The fixture models of ``project``, by label (``app.Author``, ``blog.Post``)."""
    found: dict[str, ModelInfo] = {}
    for branch in project.branches:
        for cls in branch.models:
            mapper = cls.__mapper__
            table = mapper.local_table
            columns: dict[str, Column[Any]] = {}
            for prop in mapper.column_attrs:
                column = prop.columns[0]
                if column.table is table:
                    columns[prop.key] = column  # type: ignore[assignment]
            pk = tuple(k for k, c in columns.items() if c.primary_key)
            label = f"{branch.label}.{cls.__name__}"
            found[label] = ModelInfo(label, cls, cast("Table", table), columns, pk)
    return found


def _pick(models: dict[str, ModelInfo], names: Iterable[str] | None) -> list[ModelInfo]:
    if not names:
        return list(models.values())
    picked: list[ModelInfo] = []
    for name in names:
        matches = [m for label, m in models.items() if name in (label, label.partition(".")[2])]
        if len(matches) != 1:
            kind = "ambiguous" if matches else "unknown"
            raise FixtureError(f"{kind} model {name!r}; known: {', '.join(sorted(models))}")
        if matches[0] not in picked:
            picked.append(matches[0])
    return picked


def _sorted(project: Project, infos: Iterable[ModelInfo]) -> list[ModelInfo]:
    order = {table.key: i for i, table in enumerate(project.metadata.sorted_tables)}
    return sorted(infos, key=lambda m: (order.get(m.table.key, len(order)), m.label))


# -- encoding ----------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, enum.Enum):
        return value.name
    return value  # NOTE: JSON columns hold JSON values already


def _decode(column: Column[Any], value: Any) -> Any:  # noqa: C901
    """Turn a JSON value into what ``column`` stores, or raise ``ValueError``."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, JSON):
        return value
    if isinstance(kind, Boolean):
        if isinstance(value, bool):
            return value
        raise ValueError(f"expected true or false, got {value!r}")
    if isinstance(kind, Integer):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(kind, Numeric | Float):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
        return number if getattr(kind, "asdecimal", False) else float(number)
    if isinstance(kind, DateTime | Date | Time | Interval | Uuid | LargeBinary | EnumType):
        return _decode_text(kind, value)
    if isinstance(kind, String):
        if isinstance(value, str):
            return value
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _decode_text(kind: Any, value: Any) -> Any:
    if isinstance(kind, Interval):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return dt.timedelta(seconds=value)
        raise ValueError(f"expected a number of seconds, got {value!r}")
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    try:
        if isinstance(kind, DateTime):
            return dt.datetime.fromisoformat(value)
        if isinstance(kind, Date):
            return dt.date.fromisoformat(value)
        if isinstance(kind, Time):
            return dt.time.fromisoformat(value)
        if isinstance(kind, Uuid):
            return uuid.UUID(value) if kind.as_uuid else str(uuid.UUID(value))
        if isinstance(kind, LargeBinary):
            return base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ValueError(f"cannot read {value!r}: {exc}") from None
    return _decode_enum(kind, value)


def _decode_enum(kind: Any, value: str) -> Any:
    enum_class = getattr(kind, "enum_class", None)
    if enum_class is not None:
        try:
            return enum_class[value]
        except KeyError:
            raise ValueError(
                f"{value!r} is not one of {', '.join(m.name for m in enum_class)}"
            ) from None
    if value not in kind.enums:
        raise ValueError(f"{value!r} is not one of {', '.join(kind.enums)}")
    return value


# -- dump --------------------------------------------------------------------------------


def dump(
    project: Project, connection: Connection, models: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The rows of ``models`` (default: all of the project's) as fixture records.

    Raises:
        FixtureError: A name matches no model (or several).
    """
    infos = _sorted(project, _pick(models_of(project), models))
    records: list[dict[str, Any]] = []
    for info in infos:
        by_name = {c.name: key for key, c in info.columns.items()}
        order = [info.columns[k] for k in info.pk] or list(info.columns.values())
        rows = connection.execute(select(info.table).order_by(*order)).mappings()
        for row in rows:
            values = {
                by_name[name]: _encode(value) for name, value in row.items() if name in by_name
            }
            pk = [values.pop(k) for k in info.pk]
            records.append(
                {"model": info.label, "pk": pk[0] if len(pk) == 1 else pk, "fields": values}
            )
    return records


def dumps(project: Project, engine: Engine, models: Sequence[str] | None = None) -> str:
    """``dump`` as JSON text (indented, keys in column order, a final newline)."""
    with engine.connect() as connection:
        records = dump(project, connection, models)
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


# -- load --------------------------------------------------------------------------------


@dataclass
class _Row:
    index: int
    info: ModelInfo
    pk: Any
    values: dict[str, Any]  # column name -> value


def _check_record(index: int, record: Any, models: dict[str, ModelInfo]) -> _Row:
    if not isinstance(record, dict):
        raise FixtureError("expected an object with model, pk and fields", index=index)
    label = record.get("model")
    pk = record.get("pk")
    info = models.get(label) if isinstance(label, str) else None
    if info is None:
        raise FixtureError(
            f"unknown model {label!r}; known: {', '.join(sorted(models))}", index=index, pk=pk
        )
    fields = record.get("fields", {})
    if not isinstance(fields, dict):
        raise FixtureError("fields must be an object", index=index, model=label, pk=pk)
    extra = set(record) - {"model", "pk", "fields"}
    if extra:
        raise FixtureError(
            f"unexpected key(s) {', '.join(sorted(extra))}", index=index, model=label, pk=pk
        )
    values: dict[str, Any] = {}
    if pk is not None:
        keys = list(pk) if isinstance(pk, list) else [pk]
        if len(keys) != len(info.pk):
            raise FixtureError(
                f"pk must have {len(info.pk)} value(s) ({', '.join(info.pk)})",
                index=index,
                model=label,
                pk=pk,
            )
        fields = {**dict(zip(info.pk, keys, strict=True)), **fields}
    for key, value in fields.items():
        column = info.columns.get(key)
        if column is None:
            raise FixtureError(
                f"unknown field {key!r}; fields: {', '.join(info.columns)}",
                index=index,
                model=label,
                pk=pk,
            )
        try:
            values[column.name] = _decode(column, value)
        except ValueError as exc:
            raise FixtureError(f"field {key!r}: {exc}", index=index, model=label, pk=pk) from None
    return _Row(index, info, pk, values)


def _ordered_rows(project: Project, rows: list[_Row]) -> list[_Row]:
    order = {table.key: i for i, table in enumerate(project.metadata.sorted_tables)}
    rows = sorted(rows, key=lambda r: (order.get(r.info.table.key, len(order)), r.index))
    return _self_references_first(rows)


def _self_references_first(rows: list[_Row]) -> list[_Row]:
    """Within a table, put a row after the row its self-referencing key points to."""
    result: list[_Row] = []
    placed: set[tuple[str, Any]] = set()
    pending: list[_Row] = []

    def refs(row: _Row) -> list[tuple[str, Any]]:
        table = row.info.table
        found = []
        for fk in table.foreign_keys:
            if fk.column.table is table and len(row.info.pk) == 1:
                value = row.values.get(fk.parent.name)
                if value is not None:
                    found.append((table.key, value))
        return found

    for row in rows:
        pending.append(row)
        progress = True
        while progress:
            progress = False
            for waiting in list(pending):
                if all(ref in placed or not _in(ref, rows) for ref in refs(waiting)):
                    pending.remove(waiting)
                    result.append(waiting)
                    if len(waiting.info.pk) == 1:
                        placed.add((waiting.info.table.key, waiting.values.get(waiting.info.pk[0])))
                    progress = True
    return result + pending


def _in(ref: tuple[str, Any], rows: list[_Row]) -> bool:
    return any(
        r.info.table.key == ref[0] and len(r.info.pk) == 1 and r.values.get(r.info.pk[0]) == ref[1]
        for r in rows
    )


def _write(connection: Connection, row: _Row) -> None:
    table = row.info.table
    pk_columns = [row.info.columns[k] for k in row.info.pk]
    pk_values = [row.values.get(c.name) for c in pk_columns]
    if pk_columns and all(v is not None for v in pk_values):
        where = [c == v for c, v in zip(pk_columns, pk_values, strict=True)]
        exists = connection.execute(select(func.count()).select_from(table).where(*where)).scalar()
        if exists:
            changes = {k: v for k, v in row.values.items() if k not in {c.name for c in pk_columns}}
            if changes:
                connection.execute(table.update().where(*where).values(changes))
            return
    connection.execute(table.insert().values(row.values))


def _reset_sequences(connection: Connection, infos: Iterable[ModelInfo]) -> None:
    if connection.dialect.name != "postgresql":
        return
    for info in infos:
        if len(info.pk) != 1:
            continue
        column = info.columns[info.pk[0]]
        if not isinstance(column.type, Integer) or column.autoincrement is False:
            continue
        name = info.table.fullname
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) '
                f"FROM {connection.dialect.identifier_preparer.format_table(info.table)}"
            ),
            {"table": name, "column": column.name},
        )


def load(project: Project, connection: Connection, records: Any) -> int:
    """Write fixture ``records`` (a decoded JSON list) through ``connection``.

    The caller owns the transaction: commit on success, roll back on error.

    Returns:
        The number of records written.

    Raises:
        FixtureError: A record names an unknown model or field, has a value of
            the wrong type, or the database refused it (a constraint).
    """
    if not isinstance(records, list):
        raise FixtureError("a fixture file holds a JSON list of records")
    models = models_of(project)
    rows = [_check_record(i, record, models) for i, record in enumerate(records)]
    for row in _ordered_rows(project, rows):
        try:
            _write(connection, row)
        except DBAPIError as exc:
            kind = "constraint violation" if isinstance(exc, IntegrityError) else "database error"
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise FixtureError(
                f"{kind}: {reason}", index=row.index, model=row.info.label, pk=row.pk
            ) from exc
    _reset_sequences(connection, {id(r.info): r.info for r in rows}.values())
    return len(rows)


def loads(project: Project, engine: Engine, data: str | bytes, *, source: str = "") -> int:
    """Parse JSON ``data`` and ``load`` it in one transaction; nothing is kept on error.

    Raises:
        FixtureError: The text is not JSON, or ``load`` failed.
    """
    try:
        records = json.loads(data)
    except ValueError as exc:
        raise FixtureError(f"{source or 'the fixture'} is not valid JSON: {exc}") from None
    with engine.connect() as connection, connection.begin():
        return load(project, connection, records)
