"""A model's columns as a msgspec ``Struct``: the one shape the API, forms and admin read.

``struct_for(Model, mode=...)`` gives a Struct class per use:

* ``"read"``: every column, as stored (output: ``msgspec.convert(obj, S,
  from_attributes=True)``, JSON responses, the OpenAPI schema, admin lists).
* ``"create"``: what a client may send to create a row (input: request bodies,
  forms). Generated columns are left out: an auto-increment or defaulted primary
  key, ``Computed``/``Identity`` columns, columns with ``onupdate`` (an
  ``updated_at``) or a server default computed by a SQL function
  (``server_default=func.now()``: a ``created_at``), and any column with
  ``info={"read_only": True}``. Nullable
  columns are optional (``None``); columns with a Python scalar default take it;
  columns with a callable or server default are optional and ``UNSET`` when
  not sent, so the ORM or the database fills them.
* ``"update"``: the ``"create"`` fields, every one optional and ``UNSET`` when
  not sent (a partial update, PATCH).

Column types map to Python types (an ``Enum`` its enum class or a ``Literal``);
input Structs also hold to what the column can store (``String(n)`` gives
``max_length=n``, ``Integer`` a 32-bit range, ``Numeric(p, s)`` digit limits
for forms), so a value too big is a 422 and not a database error. ``info``
adds what SQL does not say: ``label`` (the schema's ``title``), ``help``
(``description``; ``doc`` and ``comment`` also work), ``format`` (``"email"``...)
and ``widget`` (``"textarea"``, the default for ``Text``). Structs are cached:
the same arguments give the same class.
"""

from __future__ import annotations

import copy
import functools
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import ColumnProperty

from oakling.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ("Mode", "column_type", "is_generated", "struct_for", "struct_values")

Mode = Literal["read", "create", "update"]
_INT_BITS: dict[type[sa.types.TypeEngine[Any]], int] = {
    sa.SmallInteger: 16,
    sa.BigInteger: 64,
    sa.Integer: 32,
}
_SUFFIX = {"read": "Read", "create": "Create", "update": "Update"}


def struct_for(
    model: type,
    *,
    mode: Mode = "read",
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    overrides: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> type[msgspec.Struct]:
    """Return a msgspec Struct with ``model``'s columns, for reading, creating or updating.

    Args:
        model: A mapped class (a ``Model`` subclass).
        mode: ``"read"`` (output), ``"create"`` (input) or ``"update"`` (partial input).
        include: The attributes to keep, in this order (default: every column
            ``mode`` allows). Naming a generated column in ``"create"`` mode keeps it.
        exclude: Attributes to leave out.
        overrides: A type per attribute, replacing the derived one
            (``{"email": Annotated[str, Meta(extra_json_schema={"format": "email"})]}``);
            optionality and defaults still follow the column.
        name: The Struct's name (default ``<Model><Mode>``, e.g. ``UserCreate``);
            give one to each variant when one API uses several.

    Raises:
        ConfigurationError: ``mode`` is unknown, ``model`` is not mapped, or a
            name in ``include``/``exclude``/``overrides`` is not a column attribute.
    """
    key = (
        model,
        mode,
        None if include is None else tuple(include),
        frozenset(exclude),
        None if overrides is None else tuple(overrides.items()),
        name,
    )
    try:
        hash(key)
    except TypeError:
        return _build(*key)
    return _cached(*key)


@functools.lru_cache(maxsize=512)
def _cached(*key: Any) -> type[msgspec.Struct]:
    return _build(*key)


def _build(
    model: type,
    mode: str,
    include: tuple[str, ...] | None,
    exclude: frozenset[str],
    overrides: tuple[tuple[str, Any], ...] | None,
    name: str | None,
) -> type[msgspec.Struct]:
    if mode not in _SUFFIX:
        raise ConfigurationError(
            f"struct_for mode must be 'read', 'create' or 'update', not {mode!r}"
        )
    columns = _columns(model)
    types = dict(overrides or ())
    unknown = [n for n in (*(include or ()), *exclude, *types) if n not in columns]
    if unknown:
        raise ConfigurationError(
            f"{model.__name__} has no column attribute(s) {', '.join(map(repr, unknown))}; "
            f"its columns are {', '.join(columns)}"
        )
    if include is not None:
        chosen = [n for n in include if n not in exclude]
    else:
        chosen = [
            n
            for n, column in columns.items()
            if n not in exclude and (mode == "read" or not is_generated(column))
        ]
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for attr in chosen:
        column = columns[attr]
        annotation = types.get(attr) or column_type(column, for_input=mode != "read")
        fields.append(_field(attr, column, annotation, mode))
    return msgspec.defstruct(
        name or f"{model.__name__}{_SUFFIX[mode]}",
        fields,
        kw_only=True,
        forbid_unknown_fields=mode != "read",
        module=model.__module__,
    )


def _columns(model: type) -> dict[str, sa.Column[Any]]:
    try:
        mapper: Any = sa.inspect(model)
    except sa.exc.NoInspectionAvailable:
        raise ConfigurationError(f"{model!r} is not a mapped model class") from None
    columns: dict[str, sa.Column[Any]] = {}
    for prop in mapper.column_attrs:
        if isinstance(prop, ColumnProperty) and len(prop.columns) == 1:
            column = prop.columns[0]
            if isinstance(column, sa.Column):
                columns[prop.key] = column
    return columns


def is_generated(column: sa.Column[Any]) -> bool:
    """Tell whether the database or the ORM, not the client, sets ``column``."""
    if column.info.get("read_only"):
        return True
    if column.computed is not None or column.identity is not None:
        return True
    if column.onupdate is not None or column.server_onupdate is not None:
        return True
    server_default = column.server_default
    if isinstance(getattr(server_default, "arg", None), sa.sql.functions.FunctionElement):
        # NOTE: a default computed by SQL (now(), gen_random_uuid()) is the database's
        # value, such as a created_at; a literal server default is only a default.
        return True
    if column.primary_key:
        table = column.table
        return (
            getattr(table, "autoincrement_column", None) is column
            or column.default is not None
            or column.server_default is not None
        )
    return False


def column_type(column: sa.Column[Any], *, for_input: bool = True) -> Any:
    """Return the Python type of ``column``'s values, with its constraints as ``Meta``.

    Args:
        column: The column.
        for_input: Add the limits the column sets on what it can store (length,
            integer range, digits); left out for output, where a value already
            stored must convert whatever the database let in (SQLite checks no length).
    """
    python = _python_type(column.type)
    meta: dict[str, Any] = _limits(column.type, python) if for_input else {}
    extra: dict[str, Any] = meta.pop("extra", {})
    info = column.info
    if info.get("label"):
        meta["title"] = str(info["label"])
    description = info.get("help") or column.doc or column.comment
    if description:
        meta["description"] = str(description)
    if info.get("format"):
        meta["extra_json_schema"] = {"format": info["format"]}
    widget = info.get("widget") or ("textarea" if isinstance(column.type, sa.Text) else None)
    if widget:
        extra["widget"] = widget
    if extra:
        meta["extra"] = extra
    if meta and python is not Any:
        return Annotated[python, msgspec.Meta(**meta)]
    return python


def _python_type(sql_type: sa.types.TypeEngine[Any]) -> Any:
    if isinstance(sql_type, sa.Enum):
        enum_class = sql_type.enum_class
        return enum_class if enum_class is not None else Literal[tuple(sql_type.enums)]
    if isinstance(sql_type, (sa.JSON, sa.PickleType)):
        return Any
    try:
        return sql_type.python_type
    except NotImplementedError:
        return Any


def _limits(sql_type: sa.types.TypeEngine[Any], python: Any) -> dict[str, Any]:
    """What the column can store: max_length, an integer range, decimal digits."""
    limits: dict[str, Any] = {}
    length = getattr(sql_type, "length", None)
    if python is str and isinstance(length, int):
        limits["max_length"] = length
    if python is int:
        # NOTE: what the column holds on PostgreSQL and MySQL: a bigger number would be
        # a database error (a 500), so it is refused as input instead.
        bits = next((b for kind, b in _INT_BITS.items() if isinstance(sql_type, kind)), 32)
        limits["ge"], limits["le"] = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if isinstance(sql_type, sa.Numeric) and python is not float:
        # NOTE: msgspec has no digit constraints for Decimal: forms read these from extra.
        digits = {"max_digits": sql_type.precision, "decimal_places": sql_type.scale}
        extra = {k: v for k, v in digits.items() if v is not None}
        if extra:
            limits["extra"] = extra
    return limits


def _field(
    attr: str, column: sa.Column[Any], annotation: Any, mode: str
) -> tuple[str, Any] | tuple[str, Any, Any]:
    nullable = bool(column.nullable) and not column.primary_key
    if nullable and annotation is not Any:
        annotation = annotation | None
    if mode == "read":
        return (attr, annotation)
    if mode == "update":
        return (attr, annotation | msgspec.UnsetType, msgspec.UNSET)
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        value = default.arg  # type: ignore[attr-defined]
        if isinstance(value, (list, dict, set)):
            return (
                attr,
                annotation,
                msgspec.field(default_factory=functools.partial(copy.deepcopy, value)),
            )
        return (attr, annotation, value)
    if default is not None or column.server_default is not None:
        return (attr, annotation | msgspec.UnsetType, msgspec.UNSET)
    if nullable:
        return (attr, annotation, None)
    return (attr, annotation)


def struct_values(instance: msgspec.Struct) -> dict[str, Any]:
    """Return the fields of ``instance`` that were set (``UNSET`` ones left out).

    ``Model(**struct_values(data))`` creates a row;
    ``for k, v in struct_values(patch).items(): setattr(obj, k, v)`` updates one.
    """
    return {
        field: value
        for field in instance.__struct_fields__
        if (value := getattr(instance, field)) is not msgspec.UNSET
    }
