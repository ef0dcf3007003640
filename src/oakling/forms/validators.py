"""Validators: small callables that raise ``ValueError`` with a message for the user.

A validator is any callable taking the converted value (a ``str``, ``int``,
``date``...) and returning nothing; to refuse the value it raises ``ValueError``
whose text is shown next to the field. The classes here also tell the renderer
which HTML attributes (``maxlength``, ``min``...) mirror them in the browser.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = (
    "MaxLength",
    "MaxValue",
    "MinLength",
    "MinValue",
    "Regex",
    "Validator",
)


class Validator(Protocol):
    """What a validator is: a callable that raises ``ValueError`` to refuse a value."""

    def __call__(self, value: Any, /) -> None:
        """Check ``value``; raise ``ValueError`` with a message for the user if it is wrong."""


class _Limit:
    """A validator with a limit and an optional message of the caller's own."""

    __slots__ = ("limit", "message")

    html_attrs: Mapping[str, str] = {}

    def __init__(self, limit: Any, message: str | None = None) -> None:
        self.limit = limit
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.limit!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Limit) and type(other) is type(self) and other.limit == self.limit

    def __hash__(self) -> int:
        return hash((type(self), self.limit))


class MinLength(_Limit):
    """The value (text or a list) has at least ``limit`` characters or items."""

    __slots__ = ()

    @property
    def html_attrs(self) -> Mapping[str, str]:  # type: ignore[override]
        """``minlength`` for the browser."""
        return {"minlength": str(self.limit)}

    def __call__(self, value: Any, /) -> None:
        """Refuse a value shorter than the limit."""
        if len(value) < self.limit:
            unit = "characters" if isinstance(value, str) else "choices"
            raise ValueError(
                self.message or f"Enter at least {self.limit} {unit} (it has {len(value)})."
            )


class MaxLength(_Limit):
    """The value (text or a list) has at most ``limit`` characters or items."""

    __slots__ = ()

    @property
    def html_attrs(self) -> Mapping[str, str]:  # type: ignore[override]
        """``maxlength`` for the browser."""
        return {"maxlength": str(self.limit)}

    def __call__(self, value: Any, /) -> None:
        """Refuse a value longer than the limit."""
        if len(value) > self.limit:
            unit = "characters" if isinstance(value, str) else "choices"
            raise ValueError(
                self.message or f"Enter at most {self.limit} {unit} (it has {len(value)})."
            )


class MinValue(_Limit):
    """The value is at least ``limit`` (numbers, dates: anything comparable)."""

    __slots__ = ()

    @property
    def html_attrs(self) -> Mapping[str, str]:  # type: ignore[override]
        """``min`` for the browser."""
        return {"min": _attr_value(self.limit)}

    def __call__(self, value: Any, /) -> None:
        """Refuse a value under the limit."""
        if value < self.limit:
            raise ValueError(self.message or f"Enter a value of at least {self.limit}.")


class MaxValue(_Limit):
    """The value is at most ``limit`` (numbers, dates: anything comparable)."""

    __slots__ = ()

    @property
    def html_attrs(self) -> Mapping[str, str]:  # type: ignore[override]
        """``max`` for the browser."""
        return {"max": _attr_value(self.limit)}

    def __call__(self, value: Any, /) -> None:
        """Refuse a value over the limit."""
        if value > self.limit:
            raise ValueError(self.message or f"Enter a value of at most {self.limit}.")


class Regex:
    """The text matches ``pattern`` (searched, so anchor it with ``^...$`` if needed).

    No ``pattern`` attribute is rendered: Python and JavaScript regular expressions
    differ, so the check is on the server only.
    """

    __slots__ = ("message", "regex")

    html_attrs: Mapping[str, str] = {}

    def __init__(self, pattern: str | re.Pattern[str], message: str | None = None) -> None:
        self.regex = re.compile(pattern)
        self.message = message

    def __call__(self, value: Any, /) -> None:
        """Refuse text that does not match."""
        if self.regex.search(value) is None:
            raise ValueError(self.message or "Enter a value in the expected format.")

    def __repr__(self) -> str:
        return f"Regex({self.regex.pattern!r})"


def _attr_value(limit: Any) -> str:
    isoformat = getattr(limit, "isoformat", None)
    if isoformat is not None:
        return str(isoformat()) if not hasattr(limit, "hour") else limit.isoformat()[:16]
    return str(limit)
