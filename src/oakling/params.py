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
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ("Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query", "guard")

F = TypeVar("F", bound="Callable[..., Any]")


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


def guard(*dependencies: Callable[..., Any] | Depends) -> Callable[[F], F]:
    """Run each dependency before the handler, for its effect: to refuse, it raises.

    A guard is injected like any dependency (it may take the ``Request``, headers, other
    dependencies...) but its result is not passed to the handler. Guards run first, in
    the order given, before the handler's own parameters are read. This is how
    ``@login_required`` and ``@rate_limit`` work::

        def api_key(key: Annotated[str, Header(alias="X-API-Key")]) -> None:
            if key != "s3cret":
                raise Forbidden("Wrong API key")

        @app.get("/admin")
        @guard(api_key)
        def admin() -> str: ...

    Put it *below* the route decorator: the route reads the guards when it registers
    the handler, so a guard added afterwards would silently not apply (that raises).

    Raises:
        ConfigurationError: The handler was already registered as a route.
    """
    from oakling.exceptions import ConfigurationError

    def decorator(handler: F) -> F:
        if getattr(handler, "__oakling_routed__", False):
            raise ConfigurationError(
                f"@guard on {getattr(handler, '__qualname__', handler)!r} is above the route "
                "decorator: the route was registered without it. Put the guard (or "
                "@login_required, @rate_limit...) below @app.get/@app.post."
            )
        existing = getattr(handler, "__oakling_guards__", ())
        handler.__oakling_guards__ = (*dependencies, *existing)  # type: ignore[attr-defined]
        return handler

    return decorator
