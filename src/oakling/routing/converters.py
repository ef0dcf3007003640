"""Path converters: ``{id:int}`` matches digits and gives the handler an ``int``."""

from __future__ import annotations

import math
import uuid
from typing import Any, ClassVar
from urllib.parse import quote

__all__ = (
    "CONVERTERS",
    "Converter",
    "FloatConverter",
    "IntConverter",
    "PathConverter",
    "SlugConverter",
    "StringConverter",
    "UUIDConverter",
    "converter_for_annotation",
)


class Converter:
    """Turns one path segment (or more, for ``path``) into a value and back.

    Subclass it and register it with ``app.register_converter(name, cls)`` to add
    your own; ``regex`` must not contain capturing groups.
    """

    regex: ClassVar[str] = "[^/]+"

    def to_python(self, value: str) -> Any:
        """Convert the matched text; raise ``ValueError`` to make the route not match."""
        return value

    def to_url(self, value: Any) -> str:
        """Convert a value back to (percent-encoded) path text."""
        return quote(str(value), safe="")


class StringConverter(Converter):
    """Any text up to the next ``/`` (the default)."""


class IntConverter(Converter):
    """Non-negative integers: ``[0-9]+``."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        """Parse the digits."""
        return int(value)

    def to_url(self, value: Any) -> str:
        """Format an int; refuse negatives and non-ints."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"expected a non-negative int, got {value!r}")
        return str(value)


class FloatConverter(Converter):
    """Non-negative decimals: ``1``, ``1.5``."""

    regex = r"[0-9]+(?:\.[0-9]+)?"

    def to_python(self, value: str) -> float:
        """Parse the number."""
        return float(value)

    def to_url(self, value: Any) -> str:
        """Format a finite, non-negative number."""
        number = float(value)
        if number < 0 or not math.isfinite(number):
            raise ValueError(f"expected a finite non-negative number, got {value!r}")
        if number.is_integer():
            return str(int(number))
        text = repr(number)
        if "e" in text:
            # NOTE: repr() writes 1e-07 for small numbers, which the regex (digits, an
            # optional fraction) does not match; write the same digits out in full.
            from decimal import Decimal

            text = format(Decimal(text), "f")
        return text


class UUIDConverter(Converter):
    """A UUID in its canonical hex form with dashes."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        """Parse the UUID."""
        return uuid.UUID(value)

    def to_url(self, value: Any) -> str:
        """Format a UUID (or its string)."""
        return str(uuid.UUID(str(value)))


class SlugConverter(Converter):
    """Letters, digits, ``-`` and ``_``."""

    regex = "[-a-zA-Z0-9_]+"

    def to_url(self, value: Any) -> str:
        """Check the value is a slug."""
        text = str(value)
        if not text or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
            raise ValueError(f"expected a slug (letters, digits, - and _), got {value!r}")
        return text


class PathConverter(Converter):
    """The rest of the path, slashes included."""

    regex = "(?s:.+)"  # NOTE: a newline (%0A) in the path is part of it too

    def to_url(self, value: Any) -> str:
        """Percent-encode but keep slashes."""
        return quote(str(value), safe="/")


CONVERTERS: dict[str, type[Converter]] = {
    "str": StringConverter,
    "int": IntConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
    "slug": SlugConverter,
    "path": PathConverter,
}
"""The built-in converters by name."""

_BY_ANNOTATION: dict[Any, str] = {int: "int", float: "float", uuid.UUID: "uuid", str: "str"}


def converter_for_annotation(annotation: Any) -> str | None:
    """Return the converter name to infer from a handler annotation, if any."""
    try:
        return _BY_ANNOTATION.get(annotation)
    except TypeError:  # unhashable annotation
        return None
