"""Class-based views: one method per HTTP verb."""

from __future__ import annotations

import inspect
import typing
from typing import Any, ClassVar

from oakling.exceptions import ConfigurationError

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ("View", "view_handlers")

_VERBS = ("get", "post", "put", "patch", "delete", "options", "head")


class View:
    """A class-based view; define ``get``, ``post``... with injected parameters.

    A new instance is made per request, so attributes set in one method do not
    leak into the next request::

        @app.route("/articles/{id:int}")
        class Article(View):
            def get(self, id: int) -> dict: ...
            async def delete(self, id: int) -> None: ...
    """

    methods: ClassVar[tuple[str, ...] | None] = None
    """Restrict the verbs registered; default: every verb method the class defines."""


def view_handlers(
    cls: type[View], methods: list[str] | tuple[str, ...] | None = None
) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Yield ``(METHOD, handler)`` for each verb the view defines."""
    wanted = [m.lower() for m in (methods or cls.methods or _VERBS)]
    found = False
    for verb in wanted:
        if not callable(getattr(cls, verb, None)):
            continue
        found = True
        yield verb.upper(), _bind(cls, verb)
    if not found:
        raise ConfigurationError(
            f"View {cls.__qualname__} defines none of the methods {', '.join(wanted)}"
        )


def _bind(cls: type[View], verb: str) -> Callable[..., Any]:
    method = getattr(cls, verb)
    signature = inspect.signature(method)
    params = list(signature.parameters.values())[1:]  # drop self
    from oakling._internal.injection import resolve_hints

    hints = resolve_hints(method)
    hints.pop("self", None)

    handler: Any
    if inspect.iscoroutinefunction(method):

        async def handler(**kwargs: Any) -> Any:
            return await getattr(cls(), verb)(**kwargs)

    else:

        def handler(**kwargs: Any) -> Any:
            return getattr(cls(), verb)(**kwargs)

    handler.__signature__ = signature.replace(parameters=params)
    handler.__annotations__ = hints
    handler.__name__ = f"{cls.__name__}.{verb}"
    handler.__qualname__ = f"{cls.__qualname__}.{verb}"
    handler.__module__ = cls.__module__
    bound: Callable[..., Any] = handler
    return bound
