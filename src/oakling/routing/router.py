"""The router: static paths in a dict, dynamic ones through one compiled regex."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from oakling.exceptions import ConfigurationError, NoRouteFound
from oakling.routing.converters import CONVERTERS, Converter, StringConverter
from oakling.routing.route import PathPattern

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = ("Match", "PathEntry", "RouteInfo", "Router")

E = TypeVar("E")


@dataclass(slots=True)
class PathEntry(Generic[E]):
    """Everything registered for one path pattern: an endpoint per method."""

    pattern: PathPattern
    endpoints: dict[str, E] = field(default_factory=dict)
    allow: str = ""

    def refresh_allow(self) -> None:
        """Recompute the ``Allow`` header value (HEAD with GET, OPTIONS always)."""
        methods = set(self.endpoints)
        if "GET" in methods:
            methods.add("HEAD")
        methods.add("OPTIONS")
        self.allow = ", ".join(sorted(methods))


@dataclass(frozen=True, slots=True)
class RouteInfo(Generic[E]):
    """One registered route, as listed by ``oakling routes``."""

    path: str
    methods: tuple[str, ...]
    name: str
    endpoint: E


@dataclass(slots=True)
class Match(Generic[E]):
    """The result of a lookup; exactly one of the fields tells what to do."""

    endpoint: E | None = None
    params: dict[str, Any] | None = None
    allow: str | None = None
    """Set when the path exists but not for the method (405, or the OPTIONS answer)."""
    redirect: str | None = None
    """Set when the path exists with a trailing slash (308 there)."""


class Router(Generic[E]):
    """Maps ``(method, path)`` to an endpoint, and route names back to URLs."""

    def __init__(self) -> None:
        self.converters: dict[str, type[Converter]] = dict(CONVERTERS)
        self._static: dict[str, PathEntry[E]] = {}
        self._dynamic: list[PathEntry[E]] = []
        self._by_key: dict[str, PathEntry[E]] = {}
        self._names: dict[str, PathPattern] = {}
        self._infos: list[RouteInfo[E]] = []
        self._regex: re.Pattern[str] | None = None
        self._group_entry: dict[int, tuple[PathEntry[E], _Extract]] = {}

    def register_converter(self, name: str, converter: type[Converter]) -> None:
        """Make ``{param:name}`` available in paths registered from now on."""
        self.converters[name] = converter

    def add(
        self,
        path: str,
        endpoint: E,
        methods: list[str] | tuple[str, ...],
        name: str,
        inferred: Mapping[str, str] | None = None,
    ) -> PathPattern:
        """Register ``endpoint`` for ``methods`` on ``path``.

        Raises:
            ConfigurationError: The path is invalid, the same path and method is
                already registered, or ``name`` is taken by another path.
        """
        pattern = PathPattern(path, self.converters, inferred)
        entry = self._by_key.get(pattern.key)
        if entry is None:
            entry = PathEntry(pattern)
            self._by_key[pattern.key] = entry
            if pattern.is_static:
                self._static[path] = entry
            else:
                self._dynamic.append(entry)
                self._regex = None
        for method in methods:
            method = method.upper()
            if method in entry.endpoints:
                raise ConfigurationError(
                    f"Route conflict: {method} {path} is already handled by "
                    f"{_describe(entry.endpoints[method])} (registered as {entry.pattern.path})"
                )
            entry.endpoints[method] = endpoint
        entry.refresh_allow()
        known = self._names.get(name)
        if known is not None and known.key != pattern.key:
            raise ConfigurationError(
                f"Route name {name!r} is already used for {known.path}; "
                f"give {path} another name with name=..."
            )
        self._names[name] = pattern
        self._infos.append(RouteInfo(path, tuple(m.upper() for m in methods), name, endpoint))
        return pattern

    def routes(self) -> Iterator[RouteInfo[E]]:
        """Yield every registered route, in registration order."""
        yield from self._infos

    def _compile(self) -> re.Pattern[str]:
        # NOTE: one alternation; each route is one outer group whose inner groups are its
        # params. An outer group closes last, so match.lastindex names the route.
        parts: list[str] = []
        self._group_entry = {}
        index = 1
        for entry in self._dynamic:
            self._group_entry[index] = (entry, _extractor(entry.pattern, index))
            parts.append(f"({entry.pattern.regex_source})")
            index += 1 + len(entry.pattern.param_names)
        # NOTE: \Z, not $: "$" also matches before a final newline, so /items/5%0A
        # would be served as /items/5.
        self._regex = re.compile("^(?:" + "|".join(parts) + r")\Z") if parts else re.compile("(?!)")
        return self._regex

    def find(self, method: str, path: str) -> tuple[E, dict[str, Any] | None] | None:
        """Return ``(endpoint, params)`` on the common path, else ``None``.

        This is the hot path: no allocation beyond the params. ``None`` means "ask
        ``lookup``", which also answers HEAD, 405, the trailing-slash redirect and 404.
        """
        entry = self._static.get(path)
        if entry is not None:
            endpoint = entry.endpoints.get(method)
            return None if endpoint is None else (endpoint, None)
        found = (self._regex or self._compile()).match(path)
        if found is None:
            return None
        entry, extract = self._group_entry[found.lastindex or 0]
        endpoint = entry.endpoints.get(method)
        if endpoint is None:
            return None
        try:
            return endpoint, extract(found)
        except ValueError:
            return None

    def lookup(self, method: str, path: str) -> Match[E] | None:
        """Find the endpoint for ``method`` and ``path``; ``None`` when nothing matches."""
        entry = self._static.get(path)
        if entry is not None:
            endpoint = entry.endpoints.get(method)
            if endpoint is None and method == "HEAD":
                endpoint = entry.endpoints.get("GET")
            if endpoint is not None:
                return Match(endpoint, None)
            return Match(allow=entry.allow)
        regex = self._regex or self._compile()
        found = regex.match(path)
        if found is not None:
            entry, extract = self._group_entry[found.lastindex or 0]
            endpoint = entry.endpoints.get(method)
            if endpoint is None and method == "HEAD":
                endpoint = entry.endpoints.get("GET")
            if endpoint is not None:
                try:
                    return Match(endpoint, extract(found))
                except ValueError:
                    pass
            return self._slow_lookup(method, path)
        if not path.endswith("/") and (
            (path + "/") in self._static or regex.match(path + "/") is not None
        ):
            return Match(redirect=path + "/")
        return None

    def _slow_lookup(self, method: str, path: str) -> Match[E] | None:
        # NOTE: rare: the first matching pattern lacks the method or refused the value;
        # look at every pattern, in order, and gather what the path allows.
        allowed: set[str] = set()
        for entry in self._dynamic:
            found = entry.pattern.regex.match(path)
            if found is None:
                continue
            try:
                params = entry.pattern.convert(found.groups())
            except ValueError:
                continue
            endpoint = entry.endpoints.get(method)
            if endpoint is None and method == "HEAD":
                endpoint = entry.endpoints.get("GET")
            if endpoint is not None:
                return Match(endpoint, params)
            allowed.update(entry.allow.split(", "))
        if allowed:
            return Match(allow=", ".join(sorted(allowed)))
        return None

    def url_path_for(self, name: str, params: Mapping[str, Any]) -> str:
        """Build the path of route ``name`` (extra params become the query string).

        Raises:
            NoRouteFound: No such route name, or the params do not fit.
        """
        pattern = self._names.get(name)
        if pattern is None:
            close = [n for n in self._names if n.endswith(name) or name in n][:5]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise NoRouteFound(f"No route named {name!r}{hint}")
        return pattern.build(name, params)


_Extract = Callable[[re.Match[str]], dict[str, Any]]


def _extractor(pattern: PathPattern, index: int) -> _Extract:
    """Build the function that pulls typed params out of a combined-regex match."""
    names = tuple(pattern.param_names)
    converters = tuple(c.to_python for c in pattern.converters)
    first = index + 1
    if len(names) == 1:
        name, convert = names[0], converters[0]
        if type(pattern.converters[0]) is StringConverter:
            return lambda found: {name: found.group(first)}
        return lambda found: {name: convert(found.group(first))}
    groups = tuple(range(first, first + len(names)))

    def extract(found: re.Match[str]) -> dict[str, Any]:
        values = found.group(*groups)
        return {n: c(v) for n, c, v in zip(names, converters, values, strict=True)}

    return extract


def _describe(endpoint: Any) -> str:
    handler = getattr(endpoint, "handler", endpoint)
    module = getattr(handler, "__module__", "?")
    qualname = getattr(handler, "__qualname__", repr(handler))
    return f"{module}.{qualname}"
