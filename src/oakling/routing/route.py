"""Path patterns: ``/users/{id:int}`` compiled once into a regex and a URL builder."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from oakling.exceptions import ConfigurationError, NoRouteFound
from oakling.routing.converters import CONVERTERS, Converter

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ("PathPattern", "path_param_names")

_PARAM = re.compile(r"{([^{}:]*)(?::([^{}]*))?}")


class PathPattern:
    """A compiled path pattern.

    Args:
        path: The pattern, e.g. ``/posts/{slug:slug}``; must start with ``/``.
        converters: Converter classes by name (the built-ins plus registered ones).
        inferred: Converter names to use for params written without one (from annotations).
    """

    __slots__ = ("converters", "key", "param_names", "path", "regex", "regex_source", "segments")

    def __init__(
        self,
        path: str,
        converters: Mapping[str, type[Converter]] = CONVERTERS,
        inferred: Mapping[str, str] | None = None,
    ) -> None:
        if not path.startswith("/"):
            raise ConfigurationError(f"Route path {path!r} must start with '/'")
        self.path = path
        self.param_names: list[str] = []
        self.converters: list[Converter] = []
        # NOTE: segments alternate literal text and param indexes, for url building.
        self.segments: list[str | int] = []
        regex_parts: list[str] = []
        key_parts: list[str] = []
        pos = 0
        for match in _PARAM.finditer(path):
            literal = path[pos : match.start()]
            self._literal(literal, regex_parts, key_parts)
            name, conv_name = match.group(1), match.group(2)
            if not name.isidentifier():
                raise ConfigurationError(
                    f"Invalid parameter name {name!r} in route {path!r}: use a Python identifier"
                )
            if name in self.param_names:
                raise ConfigurationError(f"Parameter {name!r} appears twice in route {path!r}")
            conv_name = conv_name or (inferred or {}).get(name) or "str"
            if conv_name not in converters:
                known = ", ".join(sorted(converters))
                raise ConfigurationError(
                    f"Unknown converter {conv_name!r} in route {path!r}; known: {known}"
                )
            converter = converters[conv_name]()
            self.segments.append(len(self.param_names))
            self.param_names.append(name)
            self.converters.append(converter)
            regex_parts.append(f"({converter.regex})")
            key_parts.append("{" + conv_name + "}")
            pos = match.end()
        self._literal(path[pos:], regex_parts, key_parts)
        self.regex_source = "".join(regex_parts)
        self.regex = re.compile(rf"^{self.regex_source}\Z")  # \Z: "$" allows a final "\n"
        # NOTE: two patterns with the same key match the same paths: a conflict.
        self.key = "".join(key_parts)

    def _literal(self, text: str, regex_parts: list[str], key_parts: list[str]) -> None:
        if "{" in text or "}" in text:
            raise ConfigurationError(f"Unbalanced braces in route {self.path!r}")
        if text:
            self.segments.append(text)
            regex_parts.append(re.escape(text))
            key_parts.append(text)

    @property
    def is_static(self) -> bool:
        """Whether the pattern has no parameters."""
        return not self.param_names

    def convert(self, groups: tuple[str | Any, ...]) -> dict[str, Any]:
        """Turn matched groups into typed params; ``ValueError`` if a converter refuses."""
        return {
            name: conv.to_python(value)
            for name, conv, value in zip(self.param_names, self.converters, groups, strict=True)
        }

    def build(self, name: str, params: Mapping[str, Any]) -> str:
        """Fill the pattern with ``params``; params not in the path go in the query string.

        Raises:
            NoRouteFound: A path param is missing or its converter refuses the value.
        """
        missing = [p for p in self.param_names if p not in params]
        if missing:
            raise NoRouteFound(
                f"Cannot build URL for route {name!r} ({self.path}): "
                f"missing parameter(s) {', '.join(missing)}"
            )
        parts: list[str] = []
        for segment in self.segments:
            if isinstance(segment, str):
                parts.append(segment)
                continue
            param = self.param_names[segment]
            try:
                parts.append(self.converters[segment].to_url(params[param]))
            except (ValueError, TypeError) as exc:
                raise NoRouteFound(
                    f"Cannot build URL for route {name!r}: parameter {param!r}: {exc}"
                ) from None
        url = "".join(parts)
        query = {k: v for k, v in params.items() if k not in self.param_names and v is not None}
        if query:
            url += "?" + urlencode(query, doseq=True)
        return url

    def __repr__(self) -> str:
        return f"PathPattern({self.path!r})"


def path_param_names(path: str) -> dict[str, str | None]:
    """Return the params of a path pattern and their explicit converter names."""
    return {m.group(1): m.group(2) for m in _PARAM.finditer(path)}
