"""Multi-dicts for query strings, forms and headers, and the request state bag."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from oakling._types import RawHeaders

__all__ = ("Headers", "MultiDict", "MutableHeaders", "QueryParams", "State", "parse_query")

V = TypeVar("V")
D = TypeVar("D")


class MultiDict(Mapping[str, V], Generic[V]):
    """An immutable mapping where a key may have several values.

    ``md[key]`` and ``md.get(key)`` give the last value (like a form post that
    overrides a default); ``md.getlist(key)`` gives all of them in order.
    """

    __slots__ = ("_dict", "_list")

    def __init__(self, items: Iterable[tuple[str, V]] | Mapping[str, V] = ()) -> None:
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        self._list: list[tuple[str, V]] = pairs
        self._dict: dict[str, V] = dict(pairs)

    def __getitem__(self, key: str) -> V:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    @overload
    def get(self, key: str) -> V | None: ...
    @overload
    def get(self, key: str, default: D) -> V | D: ...
    def get(self, key: str, default: object = None) -> object:
        """Return the last value of ``key``, or ``default``."""
        return self._dict.get(key, default)

    def getlist(self, key: str) -> list[V]:
        """Return every value of ``key``, in the order they came."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, V]]:
        """Return all ``(key, value)`` pairs, repeated keys included."""
        return list(self._list)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return sorted(self._list, key=repr) == sorted(other._list, key=repr)
        return NotImplemented

    def __hash__(self) -> int:
        # NOTE: order-insensitive, like __eq__: equal multi-dicts must hash equal.
        return hash(tuple(sorted(self._list, key=repr)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class QueryParams(MultiDict[str]):
    """The parsed query string of a request.

    Raises:
        UnicodeDecodeError: The query string is not UTF-8 after percent-decoding.
    """

    __slots__ = ()

    def __init__(
        self, query: str | bytes | Iterable[tuple[str, str]] | Mapping[str, str] = ""
    ) -> None:
        if isinstance(query, bytes):
            query = query.decode("utf-8")
        if isinstance(query, str):
            # NOTE: the parser's fresh list is ours: no copy, no ABC check (hot path).
            pairs = parse_query(query)
            self._list = pairs
            self._dict = dict(pairs)
        else:
            super().__init__(query)


def parse_query(query: str) -> list[tuple[str, str]]:
    """Split a query string into ``(name, value)`` pairs, blank values kept."""
    if "%" in query or "+" in query:
        return parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="strict")
    # NOTE: fast path, the usual case: nothing to decode.
    pairs = []
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return pairs


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only view over raw HTTP headers.

    ``headers["accept"]`` gives the first value; ``getlist`` gives all of them.
    """

    __slots__ = ("raw",)

    def __init__(
        self,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        raw: RawHeaders | None = None,
    ) -> None:
        if raw is not None:
            self.raw = raw
        elif headers is None:
            self.raw = []
        else:
            items = headers.items() if isinstance(headers, Mapping) else headers
            self.raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in items]

    def __getitem__(self, key: str) -> str:
        name = key.lower().encode("latin-1")
        for k, v in self.raw:
            if k == name:
                return v.decode("latin-1")
        raise KeyError(key)

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: D) -> str | D: ...
    def get(self, key: str, default: object = None) -> object:
        """Return the first value of header ``key``, or ``default``."""
        name = key.lower().encode("latin-1")
        for k, v in self.raw:
            if k == name:
                return v.decode("latin-1")
        return default

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = key.lower().encode("latin-1")
        return any(k == name for k, _ in self.raw)

    def __iter__(self) -> Iterator[str]:
        seen: dict[str, None] = {}
        for k, _ in self.raw:
            seen.setdefault(k.decode("latin-1"), None)
        return iter(seen)

    def __len__(self) -> int:
        return len({k for k, _ in self.raw})

    def getlist(self, key: str) -> list[str]:
        """Return every value of header ``key``."""
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self.raw if k == name]

    def multi_items(self) -> list[tuple[str, str]]:
        """Return all ``(name, value)`` pairs as strings."""
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.raw]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return sorted(self.raw) == sorted(other.raw)
        return NotImplemented

    def __hash__(self) -> int:
        # NOTE: order-insensitive, like __eq__: equal headers must hash equal.
        return hash(tuple(sorted(self.raw)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multi_items()!r})"


class MutableHeaders(Headers):
    """Headers that can be changed: the headers of a response."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable (like dict)

    def __setitem__(self, key: str, value: str) -> None:
        """Set ``key`` to ``value``, replacing every earlier value."""
        name = key.lower().encode("latin-1")
        _check_header(key, value)
        self.raw[:] = [(k, v) for k, v in self.raw if k != name]
        self.raw.append((name, value.encode("latin-1")))

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        if name not in {k for k, _ in self.raw}:
            raise KeyError(key)
        self.raw[:] = [(k, v) for k, v in self.raw if k != name]

    def append(self, key: str, value: str) -> None:
        """Add a value for ``key`` after any it already has (e.g. Set-Cookie)."""
        _check_header(key, value)
        self.raw.append((key.lower().encode("latin-1"), value.encode("latin-1")))

    def setdefault(self, key: str, value: str) -> str:
        """Set ``key`` unless present; return its (first) value."""
        if key in self:
            return self[key]
        self[key] = value
        return value

    def update(self, other: Mapping[str, str]) -> None:
        """Set every header of ``other``."""
        for key, value in other.items():
            self[key] = value


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _check_header(key: str, value: str) -> None:
    # NOTE: CR/LF in a header would let input split the response (header injection);
    # NUL and a name that is not a token make servers drop the response instead.
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ValueError(
            f"Invalid character in the value of header {key!r}: CR, LF and NUL are not allowed"
        )
    if _HEADER_NAME.fullmatch(key) is None:
        raise ValueError(
            f"Invalid header name {key!r}: use letters, digits and !#$%&'*+-.^_`|~ "
            "(no spaces, ':', CR or LF)"
        )


class State:
    """An attribute bag: ``app.state`` and ``request.state``."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_values", dict(values or {}))

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def __getattr__(self, name: str) -> Any:
        if name == "_values":
            # NOTE: copy/pickle look attributes up before __init__ ran: no recursion.
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"state has no attribute {name!r}") from None

    def __delattr__(self, name: str) -> None:
        try:
            del self._values[name]
        except KeyError:
            raise AttributeError(f"state has no attribute {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._values

    @overload
    def get(self, name: str) -> Any: ...
    @overload
    def get(self, name: str, default: D) -> Any | D: ...
    def get(self, name: str, default: object = None) -> object:
        """Return attribute ``name`` or ``default``."""
        return self._values.get(name, default)
