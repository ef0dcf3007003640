"""Markers that say where a handler parameter comes from.

Use them in ``Annotated``::

    def search(q: Annotated[str, Query(alias="q")],
               token: Annotated[str, Header(alias="X-Token")],
               user: Annotated[User, Depends(current_user)]) -> dict: ...

Without a marker the source is inferred: path parameters by name, ``Request`` by
type, structured types (msgspec Struct, dataclass, TypedDict, pydantic model) from
the body, ``UploadFile`` from the form, everything else from the query string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ("Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query")


@dataclass(frozen=True, slots=True)
class _Source:
    alias: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Path(_Source):
    """The parameter comes from the path (the default for names in the path)."""


@dataclass(frozen=True, slots=True)
class Query(_Source):
    """The parameter comes from the query string (the default for scalars)."""


@dataclass(frozen=True, slots=True)
class Header(_Source):
    """The parameter comes from a header; ``user_agent`` reads ``User-Agent``."""


@dataclass(frozen=True, slots=True)
class Cookie(_Source):
    """The parameter comes from a cookie."""


@dataclass(frozen=True, slots=True)
class Body(_Source):
    """The parameter is the whole body (JSON, or a form), validated against its type."""


@dataclass(frozen=True, slots=True)
class Form(_Source):
    """The parameter is one field of an urlencoded or multipart form."""


@dataclass(frozen=True, slots=True)
class File(_Source):
    """The parameter is an uploaded file of a multipart form."""


@dataclass(frozen=True, slots=True)
class Depends:
    """The parameter is the result of calling ``dependency``.

    The dependency may be sync or async, a plain function or a generator. Code
    after a generator's ``yield`` runs once the response is sent
    (``scope="request"``, the default) or as soon as the handler's result has
    become a response, before anything is sent (``scope="function"``): then an
    exception it raises (a failed commit, say) becomes the response instead.
    The handler's own error is thrown in at the ``yield`` either way. Its own
    parameters are injected the same way as a handler's. Results are cached per
    request unless ``use_cache=False``.

    A class may name its own provider in a ``__oakling_depends__`` attribute
    holding a ``Depends``: a parameter annotated with the class is then filled
    by it (this is how ``oakling.db.Session`` is injected).
    """

    dependency: Callable[..., Any]
    use_cache: bool = True
    scope: Literal["request", "function"] = "request"

    def __post_init__(self) -> None:
        if self.scope not in ("request", "function"):
            raise ValueError(f"Depends scope must be 'request' or 'function', not {self.scope!r}")
