"""Text-to-value conversion for path, query, header, cookie and form values."""

from __future__ import annotations

import datetime
import decimal
import enum
import math
import sys
import types
import uuid
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = (
    "identity",
    "is_pydantic",
    "is_scalar",
    "scalar_converter",
    "sequence_item",
    "sequence_type",
    "strip_optional",
)

_SCALARS: tuple[type, ...] = (
    str,
    int,
    float,
    bool,
    bytes,
    decimal.Decimal,
    uuid.UUID,
    datetime.date,
    datetime.datetime,
    datetime.time,
    datetime.timedelta,
    enum.Enum,
)
_SEQUENCES = (list, tuple, set, frozenset)


def strip_optional(tp: Any) -> tuple[Any, bool]:
    """Return ``(T, True)`` for ``T | None``, else ``(tp, False)``."""
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) < len(get_args(tp)):
            inner = args[0] if len(args) == 1 else Union[tuple(args)]  # noqa: UP007
            return inner, True
    return tp, False


def _base(tp: Any) -> Any:
    if get_origin(tp) is Annotated:
        return get_args(tp)[0]
    return tp


def is_scalar(tp: Any) -> bool:
    """Whether a value of type ``tp`` can be read from one string."""
    tp = _base(strip_optional(tp)[0])
    if tp is Any:
        return True
    origin = get_origin(tp)
    if origin is Literal:
        return True
    if origin is Union or origin is types.UnionType:
        return all(is_scalar(a) for a in get_args(tp))
    return isinstance(tp, type) and issubclass(tp, _SCALARS)


def sequence_item(tp: Any) -> Any | None:
    """Return ``T`` for ``list[T]`` (or tuple/set) of scalars, else ``None``."""
    tp = _base(strip_optional(tp)[0])
    if tp in _SEQUENCES:
        return str
    origin = get_origin(tp)
    if origin in _SEQUENCES:
        args = [a for a in get_args(tp) if a is not Ellipsis]
        item = args[0] if args else str
        return item if is_scalar(item) else None
    return None


def sequence_type(tp: Any) -> type:
    """Return the container (list, tuple, set, frozenset) of a sequence annotation."""
    tp = _base(strip_optional(tp)[0])
    origin = get_origin(tp) or tp
    return origin if origin in _SEQUENCES else list


def is_pydantic(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic model class (without importing pydantic)."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def _to_int(text: str) -> int:
    if not text.isascii():
        raise ValueError(f"Expected an integer, got {text[:50]!r}")
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"Expected an integer, got {text[:50]!r}") from None


def _to_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"Expected a number, got {text[:50]!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"Expected a finite number, got {text[:50]!r}")
    return value


_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "f", "n", ""})


def _to_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"Expected a boolean (true/false, 1/0, yes/no, on/off), got {text[:50]!r}")


def identity(text: str) -> str:
    return text


def scalar_converter(tp: Any) -> Callable[[str], Any]:
    """Return a function turning text into ``tp``; it raises ``ValueError`` with a message."""
    tp = strip_optional(tp)[0]
    if tp is str or tp is Any:
        return identity
    if tp is int:
        return _to_int
    if tp is float:
        return _to_float
    if tp is bool:
        return _to_bool

    def convert(text: str) -> Any:
        try:
            return msgspec.convert(text, tp, strict=False)
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None

    return convert
