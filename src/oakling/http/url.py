"""URLs: the parts of a request's address, and building new ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, unquote_plus, urlencode, urlsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ("URL",)


class URL(str):
    """An absolute or relative URL; a ``str`` with its parts as attributes."""

    __slots__ = ("_parts",)

    _parts: SplitResult

    def __new__(cls, url: str = "") -> URL:
        """Parse ``url`` once; its parts are then attributes."""
        self = super().__new__(cls, url)
        self._parts = urlsplit(url)
        return self

    @property
    def scheme(self) -> str:
        """``http`` or ``https`` (or empty for a relative URL)."""
        return self._parts.scheme

    @property
    def netloc(self) -> str:
        """Host and port, e.g. ``example.com:8000``."""
        return self._parts.netloc

    @property
    def hostname(self) -> str | None:
        """The host name, lower-cased, without port."""
        return self._parts.hostname

    @property
    def port(self) -> int | None:
        """The explicit port, if any."""
        return self._parts.port

    @property
    def path(self) -> str:
        """The path, percent-encoded as sent."""
        return self._parts.path

    @property
    def query(self) -> str:
        """The query string without ``?``."""
        return self._parts.query

    @property
    def fragment(self) -> str:
        """The part after ``#``."""
        return self._parts.fragment

    def copy_with(self, **parts: str) -> URL:
        """Return a copy with some of ``scheme, netloc, path, query, fragment`` changed."""
        return URL(self._parts._replace(**parts).geturl())

    def include_query_params(self, params: Mapping[str, Any] | None = None, **kw: Any) -> URL:
        """Return a copy with query params set (lists and tuples become repeated keys).

        A param given here replaces every value of that name already in the query,
        so ``url.include_query_params(page=2)`` on ``?page=1&sort=name`` gives
        ``?sort=name&page=2``; the other params keep their place and encoding.
        """
        merged = {**(params or {}), **kw}
        if not merged:
            return self
        kept = [
            part
            for part in self.query.split("&")
            if part and unquote_plus(part.partition("=")[0]) not in merged
        ]
        kept.append(urlencode(merged, doseq=True))
        return self.copy_with(query="&".join(kept))
